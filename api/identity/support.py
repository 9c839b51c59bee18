"""Small pieces the identity controllers share: rate limits, the session issuer, the person's account."""

from __future__ import annotations

from typing import Any

from litestar import Request

from adapters.postgres.identity.me import PgProfiles
from adapters.postgres.identity.repositories import PgSessions
from adapters.postgres.uow import PgUnitOfWork
from api.platform.container import Container
from domain.errors import RateLimited
from domain.identity.login import SessionIssuer
from domain.identity.profile import MyAccount

WINDOW_S = 60


def client_ip(request: Request[Any, Any, Any]) -> str:
    # The direct peer: X-Forwarded-For is only trustworthy behind a known proxy, which then
    # must be configured to overwrite it (not done here, so it is ignored).
    client = request.scope.get("client")
    return str(client[0]) if client else "unknown"


async def rate_limit(request: Request[Any, Any, Any], container: Container, action: str, *,
                     account: str | None = None) -> None:
    """Per-IP limit, or per-account when ``account`` is given; 429 with Retry-After when exceeded."""
    identity = container.identity
    assert identity is not None
    settings = container.settings
    if account is None:
        key, limit = f"{action}:ip:{client_ip(request)}", settings.rate_limit_ip_per_minute
    else:
        key, limit = f"{action}:acct:{account}", settings.rate_limit_account_per_minute
    retry_after = await identity.limiter.hit(key, limit, WINDOW_S)
    if retry_after:
        raise RateLimited(retry_after)


def session_issuer(container: Container, uow: PgUnitOfWork) -> SessionIssuer:
    identity = container.identity
    assert identity is not None
    return SessionIssuer(PgSessions(uow.conn), identity.signer, container.clock,
                         identity.refresh_ttl)


def my_account(container: Container, uow: PgUnitOfWork) -> MyAccount:
    return MyAccount(PgProfiles(uow.conn), container.identity.pii)


def sessions(container: Container, uow: PgUnitOfWork) -> PgSessions:
    return PgSessions(uow.conn)
