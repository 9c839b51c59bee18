"""The console's browser session: a cookie, the live check on every request, CSRF.

The console logs staff in through the same VNeID relying party as the app (``api.console.login``);
the login opens an ordinary session of ours (``sessions`` + ``refresh_tokens``) and the cookie
carries that session's refresh token, which the console never rotates. On every request the
cookie is looked up with ``SessionGate.by_refresh`` (one indexed query, never cached): a session
revoked, expired, suspended, or whose person no longer holds a staff grant or the admin flag, ends
the console session on its very next request (the cookie is cleared; a lost grant also revokes
the session).

Cookie: ``HttpOnly`` (no script reads it), ``Secure``, ``SameSite=Lax`` (Strict would drop it on the
redirect back from VNeID, a cross-site navigation), ``Path=/console``. Lax already keeps it off
cross-site POSTs; on top, every unsafe request carries a CSRF token derived from the cookie
(``csrf_token``), checked by ``csrf_guard`` before any handler runs, and a foreign ``Origin`` is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, TypeAlias
from urllib.parse import quote, urlsplit

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler

from adapters.postgres.uow import PgUnitOfWork
from api.identity.support import sessions
from api.platform import i18n
from domain.errors import Forbidden, Unauthenticated
from domain.identity.access import require_console_access
from domain.identity.login import hash_refresh_token
from domain.identity.principal import Principal, PrincipalKind

SESSION_COOKIE = "console_session"
LOGIN_COOKIE = "console_login"  # the login transaction in flight (its id and where to go back to)
COOKIE_PATH = "/console"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_STATE_KEY = "console_principal"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Handler parameter: ``staff: ConsoleUser`` — the logged-in staff member or city admin.
ConsoleUser: TypeAlias = NamedDependency[Principal]


class LoginRequired(Unauthenticated):
    """No live console session: the page answers with a redirect to the login page (or 401 for htmx)."""

    def __init__(self, reason: str = "") -> None:
        super().__init__("console.login_required")
        self.reason = reason


class CsrfRejected(Forbidden):
    def __init__(self) -> None:
        super().__init__("console.csrf_invalid")


def csrf_token(session_cookie: str) -> str:
    """The form token of this session: bound to the cookie, which a foreign page can neither read nor set."""
    digest = hashlib.sha256(b"thudo-console-csrf\x00" + session_cookie.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def session_cookie(value: str, *, max_age: int | None = None) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE, value=value, path=COOKIE_PATH, httponly=True, secure=True, samesite="lax", max_age=max_age
    )


def cleared(key: str = SESSION_COOKIE) -> Cookie:
    return Cookie(key=key, value="", path=COOKIE_PATH, httponly=True, secure=True, samesite="lax", max_age=0)


def safe_next(target: str | None) -> str:
    """Where to go after login: a console path of ours only (no open redirect)."""
    if not target:
        return COOKIE_PATH + "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(COOKIE_PATH + "/") or "\\" in target:
        return COOKIE_PATH + "/"
    return target


def _method(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return str(connection.scope.get("method", "GET"))


def login_url(request: ASGIConnection[Any, Any, Any, Any], reason: str = "") -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    back = here if _method(request) == "GET" else COOKIE_PATH + "/"  # a POST cannot be replayed after login
    url = f"{COOKIE_PATH}/login?next={quote(back, safe='')}"
    return url + (f"&reason={reason}" if reason else "")


async def session_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Every console page: the cookie's session must be live and its person staff or a city admin, now."""
    raw = connection.cookies.get(SESSION_COOKIE, "")
    if not raw or len(raw) > 200:
        raise LoginRequired()
    container = connection.app.state.container
    live = await container.identity.session_gate.by_refresh(hash_refresh_token(raw))
    if live is None:
        raise LoginRequired("ended")
    ref = live.session
    principal = Principal(
        kind=PrincipalKind.USER,
        id=ref.user_id,
        level=ref.level,
        session_id=ref.session_id,
        city_admin=live.city_admin,
        grants=live.grants,
    )
    try:
        require_console_access(principal)
    except Forbidden:
        # The grant was taken away: end the session itself, not only this browser's view of it.
        async with PgUnitOfWork(container.pool) as uow:
            await sessions(container, uow).revoke(ref.session_id, "console_access_revoked")
            await uow.commit()
        raise LoginRequired("no_access") from None
    connection.scope.setdefault("state", {})[_STATE_KEY] = principal


async def csrf_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Unsafe methods carry the session's token (form field or ``X-CSRF-Token``) and no foreign ``Origin``."""
    if _method(connection) in _SAFE_METHODS:
        return
    origin = connection.headers.get("origin")
    if origin is not None and not _own_origin(connection, origin):
        raise CsrfRejected()
    sent = connection.headers.get(CSRF_HEADER)
    if sent is None:
        request: Request[Any, Any, Any] = Request(connection.scope, connection.receive)
        # Parsed once: Litestar keeps the form on the connection's state, so the handler reads it again for free.
        sent = str((await request.form()).get(CSRF_FIELD, ""))
    expected = csrf_token(connection.cookies.get(SESSION_COOKIE, ""))
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRejected()


def _own_origin(connection: ASGIConnection[Any, Any, Any, Any], origin: str) -> bool:
    """The public base URL's origin, or (no proxy in front: tests, a ward's LAN address) the Host reached."""
    base = urlsplit(connection.app.state.container.settings.base_url)
    host = connection.headers.get("host", "")
    return origin in (f"{base.scheme}://{base.netloc}", f"{connection.url.scheme}://{host}")


def provide_console_user(request: Request[Any, Any, Any]) -> Principal:
    """The ``staff`` dependency: set by ``session_guard`` before any handler runs."""
    principal = request.scope.get("state", {}).get(_STATE_KEY)
    if principal is None:
        raise LoginRequired()
    return principal  # type: ignore[no-any-return]


i18n.register(
    {
        "console.login_required": {"vi": "Vui lòng đăng nhập cổng cán bộ", "en": "Please log in to the staff console"},
        "console.csrf_invalid": {
            "vi": "Biểu mẫu đã hết hạn hoặc không đến từ cổng cán bộ; vui lòng tải lại trang",
            "en": "The form expired or did not come from the console; please reload the page",
        },
    }
)
