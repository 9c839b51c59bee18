"""Vietnamese and English texts for problem responses, chosen by ``Accept-Language`` (default vi).

Each bounded context registers its own error codes with ``register``; codes with no entry fall
back to the generic text of their HTTP status.
"""

from __future__ import annotations

from typing import Any

Text = dict[str, str]  # {"vi": ..., "en": ...}

_MESSAGES: dict[str, Text] = {}
# The words a message shows for internal identifiers among its parameters (an action's or a status's
# enum value): code -> parameter -> identifier -> {"vi", "en"}. A user reads "thêm ảnh", not "add_photo".
_TERMS: dict[str, dict[str, dict[str, Text]]] = {}

RULES: dict[str, Text] = {
    "required": {"vi": "bắt buộc phải có", "en": "is required"},
    "type": {"vi": "sai kiểu dữ liệu ({expected})", "en": "has the wrong type (expected {expected})"},
    "unknown_field": {"vi": "không được phép", "en": "is not an allowed field"},
    "min_length": {"vi": "quá ngắn (tối thiểu {limit})", "en": "is too short (at least {limit})"},
    "max_length": {"vi": "quá dài (tối đa {limit})", "en": "is too long (at most {limit})"},
    "minimum": {"vi": "phải lớn hơn hoặc bằng {limit}", "en": "must be at least {limit}"},
    "maximum": {"vi": "phải nhỏ hơn hoặc bằng {limit}", "en": "must be at most {limit}"},
    "exclusive_minimum": {"vi": "phải lớn hơn {limit}", "en": "must be greater than {limit}"},
    "exclusive_maximum": {"vi": "phải nhỏ hơn {limit}", "en": "must be less than {limit}"},
    "pattern": {"vi": "không đúng định dạng", "en": "does not match the expected format"},
    "enum": {"vi": "không phải giá trị hợp lệ", "en": "is not one of the allowed values"},
    "format": {"vi": "không đúng định dạng ({expected})", "en": "is not a valid {expected}"},
    "invalid": {"vi": "không hợp lệ", "en": "is invalid"},
    "cursor": {"vi": "con trỏ phân trang không hợp lệ", "en": "is not a valid page cursor"},
    "nul_character": {"vi": "chứa ký tự NUL (\\u0000) không được phép", "en": "contains a NUL character (\\u0000)"},
    "utf8": {"vi": "không phải văn bản UTF-8 hợp lệ", "en": "is not valid UTF-8 text"},
    "max_depth": {"vi": "lồng nhau quá sâu (tối đa 64 cấp)", "en": "is nested too deeply (at most 64 levels)"},
    "range": {"vi": "nằm ngoài khoảng cho phép", "en": "is out of the allowed range"},
}

STATUS_TEXT: dict[int, Text] = {
    400: {"vi": "Yêu cầu không hợp lệ", "en": "Bad request"},
    401: {"vi": "Chưa xác thực", "en": "Not authenticated"},
    403: {"vi": "Không có quyền", "en": "Forbidden"},
    404: {"vi": "Không tìm thấy", "en": "Not found"},
    405: {"vi": "Phương thức không được hỗ trợ", "en": "Method not allowed"},
    409: {"vi": "Xung đột trạng thái", "en": "Conflict"},
    413: {"vi": "Nội dung quá lớn", "en": "Request body too large"},
    415: {"vi": "Kiểu nội dung không được hỗ trợ", "en": "Unsupported media type"},
    422: {"vi": "Dữ liệu không hợp lệ", "en": "Invalid data"},
    429: {"vi": "Quá nhiều yêu cầu", "en": "Too many requests"},
    500: {"vi": "Lỗi hệ thống", "en": "Internal server error"},
    503: {"vi": "Dịch vụ tạm thời không khả dụng", "en": "Service temporarily unavailable"},
}


def register(messages: dict[str, Text]) -> None:
    """Add a context's error texts (called at import time of its API module)."""
    _MESSAGES.update(messages)


def register_terms(code: str, **terms: dict[str, Text]) -> None:
    """Name the identifiers that parameters of ``code`` carry (``action={"add_photo": {...}}``)."""
    _TERMS.setdefault(code, {}).update(terms)


def terms(code: str) -> dict[str, dict[str, Text]]:
    return _TERMS.get(code, {})


def _named(code: str, lang: str, params: dict[str, Any]) -> dict[str, Any]:
    vocab = _TERMS.get(code)
    if not vocab:
        return params
    named = dict(params)
    for name, words in vocab.items():
        value = params.get(name)
        if isinstance(value, str):  # "handler/supervisor" lists several: each is named
            named[name] = "/".join(words[v][lang] if v in words else v for v in value.split("/"))
    return named


def language(accept_language: str | None) -> str:
    """Pick ``vi`` or ``en`` honouring q-values; anything else falls back to ``vi``."""
    if not accept_language:
        return "vi"
    best, best_q = "vi", -1.0
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = tag.strip().lower().split("-")[0]
        if lang in ("vi", "en") and q > best_q:
            best, best_q = lang, q
    return best


def _fill(template: str, params: dict[str, Any]) -> str:
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


def message(code: str, lang: str, status: int, params: dict[str, Any] | None = None) -> str:
    text = _MESSAGES.get(code) or STATUS_TEXT.get(status) or STATUS_TEXT[400]
    return _fill(text[lang], _named(code, lang, params or {}))


def title(status: int, lang: str) -> str:
    return (STATUS_TEXT.get(status) or STATUS_TEXT[400])[lang]


def rule_message(field: str, rule: str, lang: str, params: dict[str, Any] | None = None) -> str:
    text = RULES.get(rule, RULES["invalid"])
    prefix = "Trường" if lang == "vi" else "Field"
    return f"{prefix} '{field}' {_fill(text[lang], params or {})}"


register({
    "not_found": {"vi": "Không tìm thấy đối tượng", "en": "The object was not found"},
    "route_not_found": {"vi": "Không có đường dẫn này", "en": "No such route"},
    "method_not_allowed": {"vi": "Phương thức không được hỗ trợ cho đường dẫn này",
                           "en": "This method is not allowed on this route"},
    "malformed_json": {"vi": "Nội dung JSON không đọc được", "en": "The JSON body could not be parsed"},
    "validation_failed": {"vi": "Dữ liệu gửi lên không hợp lệ", "en": "The submitted data is invalid"},
    "invalid_input": {"vi": "Dữ liệu gửi lên không hợp lệ", "en": "The submitted data is invalid"},
    "body_too_large": {"vi": "Nội dung yêu cầu vượt quá giới hạn cho phép",
                       "en": "The request body exceeds the allowed size"},
    "unsupported_media_type": {"vi": "Chỉ chấp nhận Content-Type: {expected}",
                               "en": "Only Content-Type {expected} is accepted"},
    "unauthenticated": {"vi": "Cần đăng nhập", "en": "Authentication is required"},
    "forbidden": {"vi": "Bạn không có quyền thực hiện thao tác này",
                  "en": "You are not allowed to do this"},
    "conflict": {"vi": "Yêu cầu xung đột với trạng thái hiện tại",
                 "en": "The request conflicts with the current state"},
    "rate_limited": {"vi": "Quá nhiều yêu cầu, vui lòng thử lại sau {retry_after} giây",
                     "en": "Too many requests; retry in {retry_after} seconds"},
    "quota_exceeded": {"vi": "Bạn đã tạo quá nhiều mục trong thời gian ngắn, vui lòng thử lại sau {retry_after} giây",
                       "en": "Too many created in a short time; retry in {retry_after} seconds"},
    "unavailable": {"vi": "Dịch vụ tạm thời gián đoạn, vui lòng thử lại sau",
                    "en": "The service is temporarily unavailable; please retry"},
    "internal_error": {"vi": "Đã có lỗi hệ thống; mã yêu cầu {request_id}",
                       "en": "An internal error occurred; request id {request_id}"},
    "idempotency.key_invalid": {"vi": "Idempotency-Key phải dài 1–200 ký tự in được",
                                "en": "Idempotency-Key must be 1–200 printable characters"},
    "idempotency.key_reused": {"vi": "Idempotency-Key đã được dùng cho một yêu cầu khác",
                               "en": "This Idempotency-Key was already used for a different request"},
    "idempotency.retry": {"vi": "Yêu cầu trùng Idempotency-Key chưa xử lý xong, vui lòng gửi lại",
                          "en": "A request with this Idempotency-Key could not be matched; please retry"},
})
