"""The console's words in Vietnamese (first) and English, by key.

Each page module registers its own texts with ``register({...})`` at import time; templates call
``t("key")`` (with ``{name}`` placeholders filled from keyword arguments). Error messages of the use
cases come from ``api.platform.i18n`` like the API's, so staff read the same sentences in both.
"""

from __future__ import annotations

from typing import Any

from api.platform import i18n

Text = dict[str, str]
_TEXTS: dict[str, Text] = {}


def register(texts: dict[str, Text]) -> None:
    for key, value in texts.items():
        if key in _TEXTS and _TEXTS[key] != value:
            raise ValueError(f"console text {key!r} registered twice with different words")
        if set(value) != {"vi", "en"}:
            raise ValueError(f"console text {key!r} needs exactly vi and en")
    _TEXTS.update(texts)


def text(key: str, lang: str, **params: Any) -> str:
    entry = _TEXTS.get(key)
    if entry is None:
        raise KeyError(f"no console text {key!r}")  # a missing text is a bug, found by the page tests
    value = entry[lang]
    return value.format(**params) if params else value


def error_text(code: str, lang: str, status: int, params: dict[str, Any] | None = None) -> str:
    return i18n.message(code, lang, status, params)


register(
    {
        "app.name": {"vi": "Thủ Đô Số — Cổng cán bộ", "en": "Thủ Đô Số — Staff console"},
        "app.skip": {"vi": "Bỏ qua đến nội dung chính", "en": "Skip to main content"},
        "app.lang_switch": {"vi": "English", "en": "Tiếng Việt"},
        "app.nav": {"vi": "Điều hướng chính", "en": "Main navigation"},
        "app.logout": {"vi": "Đăng xuất", "en": "Log out"},
        "app.signed_in_as": {"vi": "Đang đăng nhập", "en": "Signed in"},
        "app.city_admin": {"vi": "Quản trị thành phố", "en": "City administrator"},
        "app.back": {"vi": "Quay lại", "en": "Back"},
        "app.home": {"vi": "Trang chính", "en": "Home"},
        "home.title": {"vi": "Trang chính", "en": "Home"},
        "home.units": {"vi": "Đơn vị và vai trò của bạn", "en": "Your units and roles"},
        "home.no_units": {"vi": "Bạn chưa được phân công vào đơn vị nào.", "en": "You hold no unit role."},
        "role.handler": {"vi": "Cán bộ xử lý", "en": "Handler"},
        "role.supervisor": {"vi": "Lãnh đạo / giám sát", "en": "Supervisor"},
        "role.unit_admin": {"vi": "Quản trị đơn vị", "en": "Unit administrator"},
        "login.title": {"vi": "Đăng nhập cổng cán bộ", "en": "Staff console login"},
        "login.intro": {
            "vi": "Cán bộ đăng nhập bằng tài khoản định danh điện tử VNeID mức 2.",
            "en": "Staff log in with their level 2 VNeID e-ID account.",
        },
        "login.button": {"vi": "Đăng nhập bằng VNeID", "en": "Log in with VNeID"},
        "login.reason.ended": {
            "vi": "Phiên làm việc đã kết thúc. Vui lòng đăng nhập lại.",
            "en": "Your session has ended. Please log in again.",
        },
        "login.reason.no_access": {
            "vi": "Tài khoản này không (còn) được phân quyền cán bộ.",
            "en": "This account holds no staff role (any more).",
        },
        "login.reason.bye": {"vi": "Bạn đã đăng xuất.", "en": "You have logged out."},
        "login.reason.failed": {
            "vi": "Đăng nhập không thành công. Vui lòng thử lại.",
            "en": "The login did not succeed. Please try again.",
        },
        "login.reason.cancelled": {"vi": "Bạn đã hủy đăng nhập.", "en": "You cancelled the login."},
        "error.title": {"vi": "Không thực hiện được", "en": "That did not work"},
        "error.not_found": {"vi": "Không tìm thấy trang hoặc hồ sơ này.", "en": "This page or record was not found."},
    }
)
