"""Client credentials with ``private_key_jwt`` (RFC 7523) for medical facilities and validators."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from adapters.postgres.identity.admin import PgApiClients
from adapters.postgres.uow import PgUnitOfWork
from adapters.signing.client_assertions import JwtAssertionVerifier
from api.identity.schemas import TokenForm
from api.identity.support import rate_limit
from api.identity.wiring import token_endpoint
from api.platform import i18n
from api.platform.container import Container
from domain.identity.clients import IssueClientToken


async def issue_client_token(request: Request[Any, Any, Any], container: Container, uow: PgUnitOfWork,
                             form: TokenForm) -> dict[str, Any]:
    # grant_type and client_assertion_type are pinned by the TokenForm schema (422 otherwise).
    async def limit(account: str) -> None:
        await rate_limit(request, container, "token", account=account)

    signer = container.identity.signer
    use_case = IssueClientToken(PgApiClients(uow.conn), JwtAssertionVerifier(), signer, limit, signer.ttl_seconds)
    token = await use_case.execute(form.client_assertion, token_endpoint(container.settings))
    return msgspec.to_builtins(token)  # type: ignore[no-any-return]


i18n.register({
    "identity.client_assertion_invalid": {"vi": "Xác thực ứng dụng không hợp lệ",
                                          "en": "The client assertion is invalid"},
    "identity.client_assertion_replayed": {"vi": "client_assertion đã được sử dụng",
                                           "en": "This client assertion was already used"},
})
