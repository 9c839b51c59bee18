"""Console login and logout: the authorization code flow of the same VNeID relying party as the app.

``/console/login/start`` runs ``StartLogin`` with the console's redirect URI and keeps the login
transaction's id in a short-lived cookie; VNeID sends the browser back to ``/console/login/callback``
with code and state, where ``CompleteLogin`` (the app's use case: state, nonce, PKCE, ID token checks)
opens a session of ours whose refresh token becomes the console cookie (``api.console.session``).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery, QueryParameter

from adapters.postgres.identity.repositories import PgAccounts, PgLoginTransactions
from adapters.vneid.config import console_redirect_uri_from
from api.console.render import LANG_COOKIE, LANGS, render
from api.console.session import (
    COOKIE_PATH,
    LOGIN_COOKIE,
    ConsoleUser,
    cleared,
    safe_next,
    session_cookie,
)
from api.identity.login import _eid
from api.identity.support import rate_limit, session_issuer, sessions
from api.platform.deps import AppContainer, UnitOfWork
from domain.errors import DomainError
from domain.identity.login import LOGIN_TTL, CommittedFailure, CompleteLogin, StartLogin

NextParam = Annotated[str | None, QueryParameter(name="next", required=False)]
StateParam = Annotated[str | None, QueryParameter(name="state", required=False)]  # "state" is a reserved name
STAFF_LEVEL = 2  # staff read personal and judicial data: full e-ID only
_REASONS = frozenset({"ended", "no_access", "bye", "failed", "cancelled"})


def _redirect(location: str, *cookies: Cookie) -> Response[str]:
    return Response(
        "",
        status_code=303,
        media_type=MediaType.TEXT,
        cookies=list(cookies),
        headers={"Location": location, "Cache-Control": "no-store"},
    )


class ConsoleLoginController(Controller):
    """The console's public pages: login, the VNeID round trip, the language switch."""

    path = "/"
    include_in_schema = False

    @get("/login", name="console.login")
    async def login_page(
        self, request: Request[Any, Any, Any], next_: NextParam = None, reason: FromQuery[str | None] = None
    ) -> Response[str]:
        known = reason if reason in _REASONS else None
        return render(request, "login.html", next=safe_next(next_), reason=known)

    @get("/login/start", name="console.login_start")
    async def start(
        self, request: Request[Any, Any, Any], container: AppContainer, uow: UnitOfWork, next_: NextParam = None
    ) -> Response[str]:
        await rate_limit(request, container, "start")
        tx_id, url = await StartLogin(_eid(container), PgLoginTransactions(uow.conn), container.clock).execute(
            redirect_uri=console_redirect_uri_from(container.settings), level=STAFF_LEVEL
        )
        # Lax, not Strict: the browser must send it on the cross-site redirect back from VNeID.
        pending = Cookie(
            key=LOGIN_COOKIE,
            value=f"{tx_id}|{safe_next(next_)}",
            path=COOKIE_PATH,
            httponly=True,
            secure=True,
            samesite="lax",
            max_age=int(LOGIN_TTL.total_seconds()),
        )
        return _redirect(url, pending)

    @get("/login/callback", name="console.login_callback")
    async def callback(
        self,
        request: Request[Any, Any, Any],
        container: AppContainer,
        uow: UnitOfWork,
        code: FromQuery[str | None] = None,
        state_: StateParam = None,
        iss: FromQuery[str | None] = None,
        error: FromQuery[str | None] = None,
    ) -> Response[str]:
        await rate_limit(request, container, "callback")
        tx_raw, _, target = request.cookies.get(LOGIN_COOKIE, "").partition("|")
        try:
            tx_id = uuid.UUID(tx_raw)
        except ValueError:
            return self._failed(request, "failed")
        if error or not code or not state_:
            # The person cancelled at VNeID (access_denied) or the provider refused: the transaction is spent.
            await PgLoginTransactions(uow.conn).take(tx_id, container.clock.now())
            return self._failed(request, "cancelled" if error == "access_denied" else "failed")
        use_case = CompleteLogin(
            _eid(container),
            PgLoginTransactions(uow.conn),
            PgAccounts(uow.conn),
            container.identity.pii,
            session_issuer(container, uow),
            container.clock,
        )
        try:
            tokens, _account, lookup = await use_case.execute(
                transaction_id=tx_id,
                code=code,
                state=state_,
                issuer=iss,
                user_agent="console " + request.headers.get("user-agent", ""),
            )
        except CommittedFailure:
            await uow.commit()  # keep the transaction consumed: a replayed callback must not work
            return self._failed(request, "failed")
        except DomainError:
            return self._failed(request, "failed")
        await rate_limit(request, container, "callback", account=lookup.hex())
        # Only the session's refresh token is kept (as the cookie); the short-lived access token is not needed.
        return _redirect(safe_next(target), session_cookie(tokens.refresh_token), cleared(LOGIN_COOKIE))

    @staticmethod
    def _failed(request: Request[Any, Any, Any], reason: str) -> Response[str]:
        page = render(request, "login.html", status=400, next=COOKIE_PATH + "/", reason=reason)
        page.set_cookie(cleared(LOGIN_COOKIE))
        return page

    @get("/lang/{code:str}", name="console.lang")
    async def language(self, code: FromPath[str], next_: NextParam = None) -> Response[str]:
        chosen = code if code in LANGS else "vi"
        lang = Cookie(
            key=LANG_COOKIE,
            value=chosen,
            path=COOKIE_PATH,
            httponly=True,
            secure=True,
            samesite="lax",
            max_age=365 * 86400,
        )
        return _redirect(safe_next(next_), lang)


class ConsoleLogoutController(Controller):
    path = "/"
    include_in_schema = False

    @post("/logout", name="console.logout", status_code=303)
    async def logout(self, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork) -> Response[str]:
        assert staff.session_id is not None
        await sessions(container, uow).revoke(staff.session_id, "logout")
        return _redirect(f"{COOKIE_PATH}/login?reason=bye", cleared())
