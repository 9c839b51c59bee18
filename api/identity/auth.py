"""Who is calling, and may they: the ``principal`` dependency and the guards every context uses.

* ``principal: Principal`` in a handler = a logged-in *user* (citizen, staff or city admin).
  Missing/invalid bearer token → 401; a machine client's token → 403 ``identity.user_required``
  (a facility or validator never reaches citizen routes).
* ``client_principal: Principal`` = a machine client (facility, validator); users → 403.
* Checks inside handlers and use cases live in ``domain.identity.access`` (``require_level``,
  ``require_city_admin``, ``require_unit_role``, ``require_client_kind``). The same checks as
  Litestar guards for whole controllers:
  ``level2_guard``, ``city_admin_guard``, ``staff_guard``, ``user_guard``.
* ``authenticate_partner(conn, api_key)`` for Open311 partner keys.

Tokens are verified by signature, ``typ``, ``iss``/``aud``/``exp``/``nbf``, and the session must
still be active; a user's grants and admin flag are read from the database with it (one indexed
query per request, not cached), so a removed grant or ended session is refused on the next request.
A request that opens a transaction sends that check with its BEGIN instead (one round trip fewer; a
``TX_ON_WRITE`` read sends it as its unit of work's first statement, on the same connection):
it confirms that the session is live and the token's grants and admin flag are still the live ones;
when they are not, the live access is read as before and the route's guards run again with it.
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any, TypeAlias, TypeVar

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler

from adapters.postgres.identity.admin import PgPartnerKeys
from api.platform import i18n
from api.platform.deps import (
    BEGIN_CHECK,
    DEFERRED_SESSION,
    UOW_OPENED,
    BeginCheck,
    is_read_only,
    opens_transaction,
    per_handler,
    reads_primary,
)
from api.platform.problems import ProblemError
from domain.errors import Forbidden, Unauthenticated
from domain.identity.access import (
    require_city_admin,
    require_client_kind,
    require_level,
    require_staff,
)
from domain.identity.admin import hash_api_key
from domain.identity.principal import Principal, PrincipalKind
from domain.identity.tokens import principal_from

# Handler parameters: ``principal: CurrentUser`` (a logged-in user), ``client_principal: CurrentClient``.
CurrentUser: TypeAlias = NamedDependency[Principal]
CurrentClient: TypeAlias = NamedDependency[Principal]

_STATE_KEY = "principal"
# Handler (or controller) opt: only machine clients of this ``ClientKind``, checked with the caller in
# ``authenticate_declared`` (a guard would do the same, but Litestar copies the handler for every guard call).
CLIENT_KIND_OPT = "client_kind"
# Handler opt for a read-only handler whose one query carries the caller's session check itself (``GET /me``:
# the profile found only while the session is live): the check is not sent on its own, the handler calls
# ``deferred_session`` and ``settle_deferred_session``, and a request it did not settle fails (500, never a
# 2xx; api.platform.deps.provide_uow). Only without guards other than ``TOKEN_GUARDS`` (the others would need
# the live grants first) and without read replicas unless the handler reads the primary (``READ_ONLY_PRIMARY``:
# the check must see the primary, like SessionGate); otherwise the check runs as usual.
SESSION_IN_QUERY_OPT = "session_in_query"
SESSION_IN_QUERY: dict[str, Any] = {SESSION_IN_QUERY_OPT: True}
# Handler opt: any authenticated caller (user or client), checked in ``authenticate_declared`` like the above,
# for handlers that take neither ``principal`` nor ``client_principal`` (FHIR: citizens, doctors, facilities).
# Authenticated there, before the unit of work opens, the session check rides with its BEGIN; authenticated
# from inside the handler, it would need a second pooled connection while the request holds one.
ANY_CALLER_OPT = "any_caller"


def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("identity.token_missing")
    return token.strip()


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The caller of any kind (user or client), verified once per request and cached on it."""
    cached = connection.scope.get("state", {}).get(_STATE_KEY)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    identity = connection.app.state.container.identity
    state = connection.scope.setdefault("state", {})
    try:
        claims = identity.signer.verify(_bearer(connection))
        principal = principal_from(claims)
        if claims.kind is PrincipalKind.USER:
            if claims.session_id is None:
                raise Unauthenticated("identity.session_revoked")
            if _opens_a_transaction(connection):
                # Checked in the same round trip as the unit of work's BEGIN, before the handler runs
                # (api.platform.deps.provide_uow): the token's access is used if it is still the live one.
                state[BEGIN_CHECK] = BeginCheck(
                    identity.session_gate.confirmation(claims.session_id, principal.city_admin, principal.grants),
                    partial(_recheck, identity.session_gate, claims.session_id, connection))
            elif _defers_session_check(connection):
                state[DEFERRED_SESSION] = claims.session_id
            else:
                live = await identity.session_gate.current(claims.session_id)
                if live is None:
                    raise Unauthenticated("identity.session_revoked")
                # Roles as they are now, not as they were when the token was signed (up to its lifetime ago).
                principal = principal.with_access(live.city_admin, live.grants)
        elif claims.kind is not PrincipalKind.CLIENT:
            raise Unauthenticated("identity.token_invalid")
    except Unauthenticated as exc:
        raise _unauthorized(exc.code) from None
    state[_STATE_KEY] = principal
    return principal


def _unauthorized(code: str) -> ProblemError:
    # RFC 6750: tell the client which scheme to use and whether its token was the problem.
    error = "" if code == "identity.token_missing" else ', error="invalid_token"'
    return ProblemError(401, code, headers={"WWW-Authenticate": f'Bearer realm="thudo"{error}'})


def _opens_a_transaction(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Whether the request's handler takes a transactional unit of work, where the session check rides
    with BEGIN; any other request is checked here with a query of its own."""
    if not isinstance(connection, Request) or connection.scope.get("state", {}).get(UOW_OPENED):
        return False  # a handler authenticating from inside its unit of work: too late to ride with BEGIN
    return opens_transaction(connection.route_handler)


def _defers_session_check(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Whether the handler's own query checks the session (``SESSION_IN_QUERY``, see there for the rules)."""
    if not isinstance(connection, Request) or connection.scope.get("state", {}).get(UOW_OPENED):
        return False
    deferrable, primary = per_handler(_DEFERRABLE, connection.route_handler, _deferrable)
    return bool(deferrable and (primary or connection.app.state.container.reads is None))


def _deferrable(handler: Any) -> tuple[bool, bool]:
    """(whether the handler may carry the session check in its query, whether it reads the primary even with
    read replicas)."""
    token_only = all(guard in TOKEN_GUARDS for guard in handler.resolve_guards())
    return (bool(handler.opt.get(SESSION_IN_QUERY_OPT)) and is_read_only(handler) and token_only,
            reads_primary(handler))


_DEFERRABLE: dict[int, tuple[object, Any]] = {}


def deferred_session(request: Request[Any, Any, Any]) -> uuid.UUID | None:
    """The caller's session id, if its live check was left to this handler's query (``SESSION_IN_QUERY``)."""
    return request.scope.get("state", {}).get(DEFERRED_SESSION)


_Found = TypeVar("_Found")


def settle_deferred_session(request: Request[Any, Any, Any], found: _Found | None) -> _Found:
    """The handler's query found ``found`` only while the session is live (None: it is not): 401
    ``identity.session_revoked`` then, exactly as the check on its own would have answered; else ``found``."""
    request.scope["state"].pop(DEFERRED_SESSION, None)
    if found is None:
        raise _unauthorized("identity.session_revoked")
    return found


async def _recheck(gate: Any, session_id: Any, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """The check that rode with BEGIN found no row: the session ended (401), or the caller's grants or admin
    flag changed since the token was signed. Then the request goes on with the access as it is now (the
    ``principal`` dependency is resolved after the unit of work and reads it) and the route's guards run
    again with it, so a removed grant is refused and a restored one works, without a new token."""
    live = await gate.current(session_id)
    if live is None:
        raise _unauthorized("identity.session_revoked")
    state = connection.scope["state"]
    state[_STATE_KEY] = state[_STATE_KEY].with_access(live.city_admin, live.grants)
    await connection.route_handler.authorize_connection(connection)


async def _user(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = await authenticate(connection)
    if not principal.is_user:
        raise Forbidden("identity.user_required")
    return principal


async def _client(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = await authenticate(connection)
    if principal.kind is not PrincipalKind.CLIENT:
        raise Forbidden("identity.client_required")
    return principal


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """App-wide dependency ``principal``: the user ``authenticate_declared`` verified for this request (the same
    as ``_user``, without its second look-up), else verified here."""
    cached = request.scope.get("state", {}).get(_STATE_KEY)
    if cached is not None and cached.is_user:
        return cached  # type: ignore[no-any-return]
    return await _user(request)


async def provide_client_principal(request: Request[Any, Any, Any]) -> Principal:
    """App-wide dependency ``client_principal``."""
    return await _client(request)


async def authenticate_declared(request: Request[Any, Any, Any]) -> None:
    """Authenticate handlers that declare ``principal``/``client_principal`` (app-wide before_request).

    Runs before the body is parsed and before dependencies are resolved: a 401/403 here means the
    request never decodes its body nor opens its unit of work. A before_request hook rather than an
    app-wide guard because Litestar copies the handler for every guard call on every request.
    """
    kind, who = per_handler(_DECLARED, request.route_handler, _declared)
    if who is None:
        return
    if kind is not None:
        require_client_kind(await authenticate(request), kind)
    elif who == "any":
        await authenticate(request)
    elif who == "user":
        await _user(request)
    else:
        await _client(request)


def _declared(handler: Any) -> tuple[Any, str | None]:
    """(the client kind it requires, which caller: "any", "user", "client" or None for no caller at all)."""
    kind = handler.opt.get(CLIENT_KIND_OPT)
    if kind is not None:
        return kind, "any"
    if handler.opt.get(ANY_CALLER_OPT):
        return None, "any"
    params = handler.parsed_fn_signature.parameters
    if "principal" in params:
        return None, "user"
    return None, "client" if "client_principal" in params else None


_DECLARED: dict[int, tuple[object, Any]] = {}


# --- the same as Litestar guards (controller or route level) ----------------------------------------

async def user_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    await _user(connection)


async def level2_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    require_level(await _user(connection), 2)


async def city_admin_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    require_city_admin(await _user(connection))


async def staff_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    require_staff(await _user(connection))


async def client_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    await _client(connection)


# Guards that decide on what the access token says alone (that the caller is a user, its e-ID level), never on
# the live grants or admin flag: a handler behind them may still carry the session check in its own query
# (``SESSION_IN_QUERY``). They run before it as they run before the check that rides with BEGIN.
TOKEN_GUARDS = (user_guard, level2_guard)


# --- Open311 partners -----------------------------------------------------------------------------

async def authenticate_partner(conn: Any, api_key: str) -> Principal:
    """An Open311 partner by its API key (only the key's SHA-256 is stored); 401 otherwise."""
    if not api_key or len(api_key) > 200:
        raise Unauthenticated("identity.api_key_invalid")
    key_id = await PgPartnerKeys(conn).find_active(hash_api_key(api_key))
    if key_id is None:
        raise Unauthenticated("identity.api_key_invalid")
    return Principal(kind=PrincipalKind.PARTNER, id=key_id)


i18n.register({
    "identity.token_missing": {"vi": "Thiếu mã truy cập (Authorization: Bearer …)",
                               "en": "An access token is required (Authorization: Bearer …)"},
    "identity.token_invalid": {"vi": "Mã truy cập không hợp lệ hoặc đã hết hạn",
                               "en": "The access token is invalid or expired"},
    "identity.session_revoked": {"vi": "Phiên đăng nhập đã kết thúc, vui lòng đăng nhập lại",
                                 "en": "The session has ended; please log in again"},
    "identity.user_required": {"vi": "Chức năng này chỉ dành cho người dùng đăng nhập bằng VNeID",
                               "en": "Only users logged in with VNeID may do this"},
    "identity.client_required": {"vi": "Chức năng này chỉ dành cho hệ thống được cấp quyền",
                                 "en": "Only registered API clients may do this"},
    "identity.level_required": {"vi": "Cần tài khoản định danh điện tử mức {level}",
                                "en": "An e-ID account of level {level} is required"},
    "identity.city_admin_required": {"vi": "Chỉ quản trị viên thành phố được thực hiện",
                                     "en": "Only city administrators may do this"},
    "identity.unit_role_required": {"vi": "Bạn không có vai trò phù hợp trong đơn vị này",
                                    "en": "You do not hold a suitable role in this unit"},
    "identity.staff_required": {"vi": "Chức năng dành cho cán bộ", "en": "Only staff may do this"},
    "identity.api_key_invalid": {"vi": "Khóa API không hợp lệ", "en": "The API key is invalid"},
})
