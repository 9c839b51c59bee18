"""Login over VNeID and our tokens: start, callback, refresh, logout, client credentials, JWKS.

The app is a public client of *ours*; we are the confidential OIDC client of VNeID. The state,
nonce and PKCE verifier stay on the server (``login_transactions``), the app only carries the
transaction id and what VNeID hands back (code, state).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody

from adapters.postgres.identity.repositories import PgAccounts, PgLoginTransactions
from adapters.postgres.uow import PgUnitOfWork
from api.identity.auth import CurrentUser
from api.identity.clients import issue_client_token
from api.identity.schemas import CallbackIn, RefreshIn, StartIn, StartOut, TokenForm, TokensOut, UserOut, user_out
from api.identity.support import my_account, rate_limit, session_issuer, sessions
from api.platform import i18n
from api.platform.container import Container
from api.platform.deps import AppContainer, UnitOfWork
from api.platform.reads import writes_for
from domain.errors import Unavailable
from domain.identity.login import CommittedFailure, CompleteLogin, RefreshSession, StartLogin

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
TOKEN_TYPE = "Bearer"  # noqa: S105 - the OAuth token type name, not a secret


def _eid(container: Container) -> Any:
    if container.identity.eid is None:
        raise Unavailable(30, "identity.eid_not_configured")
    return container.identity.eid


def _tokens_out(tokens: Any, user: UserOut) -> TokensOut:
    return TokensOut(access_token=tokens.access_token, token_type=TOKEN_TYPE, expires_in=tokens.expires_in,
                     refresh_token=tokens.refresh_token, user=user)


async def _committed(uow: PgUnitOfWork, failure: CommittedFailure) -> None:
    """Keep the consumption/revocation that the failed attempt made, then report the error."""
    await uow.commit()
    raise failure.error from None


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post("/vneid/start", operation_id="authVneidStart", summary="Begin a VNeID login",
          description="Returns the VNeID authorization URL to open in the system browser and a transaction id "
                      "to send back with the callback. Rate limited per IP.", status_code=200)
    async def start(self, request: Request[Any, Any, Any], container: AppContainer, uow: UnitOfWork,
                    data: JSONBody[StartIn | None] = None) -> StartOut:
        await rate_limit(request, container, "start")
        level = data.level if data is not None else 2
        tx_id, url = await StartLogin(_eid(container), PgLoginTransactions(uow.conn), container.clock).execute(
            redirect_uri=container.settings.vneid_redirect_url, level=level)
        return StartOut(authorization_url=url, transaction_id=tx_id)

    @post("/vneid/callback", operation_id="authVneidCallback", summary="Finish a VNeID login, get our tokens",
          description="Send the code, state and iss VNeID redirected with (iss, RFC 9207, is compared with "
                      "the configured issuer). The transaction is single use: a second "
                      "callback, a wrong state or an expired transaction is refused (401).", status_code=200)
    async def callback(self, request: Request[Any, Any, Any], container: AppContainer, uow: UnitOfWork,
                       data: JSONBody[CallbackIn]) -> TokensOut:
        await rate_limit(request, container, "callback")
        use_case = CompleteLogin(_eid(container), PgLoginTransactions(uow.conn), PgAccounts(uow.conn),
                                 container.identity.pii,
                                 session_issuer(container, uow), container.clock)
        try:
            tokens, account, lookup = await use_case.execute(
                transaction_id=data.transaction_id, code=data.code, state=data.state, issuer=data.iss,
                user_agent=request.headers.get("user-agent", ""))
        except CommittedFailure as failure:
            await _committed(uow, failure)
            raise
        await rate_limit(request, container, "callback", account=lookup.hex())
        writes_for(request, account.id)  # the new account's first reads (/me) must find it
        return _tokens_out(tokens, user_out(await my_account(container, uow).profile(account.id)))

    @post("/refresh", operation_id="authRefresh", summary="Rotate the refresh token, get a new access token",
          description="Every refresh token works once. Presenting an already used one revokes the whole session "
                      "(all tokens derived from the same login).", status_code=200)
    async def refresh(self, request: Request[Any, Any, Any], container: AppContainer, uow: UnitOfWork,
                      data: JSONBody[RefreshIn]) -> TokensOut:
        await rate_limit(request, container, "refresh")
        use_case = RefreshSession(sessions(container, uow), PgAccounts(uow.conn), session_issuer(container, uow),
                                  container.clock)
        try:
            tokens = await use_case.execute(data.refresh_token)
        except CommittedFailure as failure:
            await _committed(uow, failure)
            raise
        await rate_limit(request, container, "refresh", account=str(tokens.session_id))
        writes_for(request, tokens.user_id)
        return _tokens_out(tokens, user_out(await my_account(container, uow).profile(tokens.user_id)))

    @post("/logout", operation_id="authLogout", summary="End the current session", status_code=204,
          security=BEARER)
    async def logout(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork) -> None:
        assert principal.session_id is not None, "a user's token always names its session"
        await sessions(container, uow).revoke(principal.session_id, "logout")

    @post("/logout-all", operation_id="authLogoutAll", summary="End every session of this account",
          status_code=204, security=BEARER)
    async def logout_all(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork) -> None:
        await sessions(container, uow).revoke_all(principal.id, "logout_all")

    @post("/token", operation_id="authToken", summary="Client credentials for machine clients (private_key_jwt)",
          description="grant_type=client_credentials with a client_assertion JWT signed by the client's registered "
                      "key: iss = sub = client_id, aud = this endpoint's URL, exp at most 5 minutes ahead, "
                      "jti single use.", status_code=200)
    async def token(self, request: Request[Any, Any, Any], container: AppContainer, uow: UnitOfWork,
                    data: Annotated[TokenForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
                    ) -> Response[dict[str, Any]]:
        await rate_limit(request, container, "token")
        body = await issue_client_token(request, container, uow, data)
        return Response(body, headers={"Pragma": "no-cache"})


class JwksController(Controller):
    path = "/.well-known"
    tags = ["auth"]

    @get("/jwks.json", operation_id="jwks", summary="Public keys that verify our access tokens")
    async def jwks(self, container: AppContainer) -> Response[dict[str, Any]]:
        assert container.identity is not None
        # Cacheable: rotation adds the new key well before it signs anything.
        return Response(container.identity.ring.jwks, headers={"Cache-Control": "public, max-age=300"})

i18n.register({
    "identity.eid_not_configured": {"vi": "Đăng nhập VNeID chưa được cấu hình",
                                    "en": "VNeID login is not configured"},
    "identity.login_transaction_invalid": {"vi": "Phiên đăng nhập không tồn tại, đã dùng hoặc đã hết hạn",
                                           "en": "The login transaction is unknown, used or expired"},
    "identity.state_mismatch": {"vi": "Tham số state không khớp", "en": "The state does not match"},
    "identity.refresh_token_invalid": {"vi": "Refresh token không hợp lệ hoặc đã hết hạn",
                                       "en": "The refresh token is invalid or expired"},
    "identity.account_suspended": {"vi": "Tài khoản đã bị đình chỉ; vui lòng liên hệ bộ phận hỗ trợ",
                                   "en": "This account is suspended; please contact support"},
    "identity.deletion_requested": {"vi": "Tài khoản đang chờ xóa theo yêu cầu của bạn",
                                    "en": "This account is awaiting deletion at your request"},
    "identity.refresh_token_reused": {"vi": "Refresh token đã được dùng; phiên đăng nhập đã bị thu hồi",
                                      "en": "The refresh token was already used; the session has been revoked"},
})
