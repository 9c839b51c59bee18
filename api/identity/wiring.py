"""Builds the identity context's adapters from settings (called by ``api.platform.container``).

Key material: the token key ring (``TOKEN_KEYS_DIR``) and the PII master key (``PII_KEY``) are
generated under ``DATA_DIR/keys`` outside production; ``prepare_keys`` is also run by the CLI
before granian starts its workers so that every worker loads the same keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from litestar import Router

from adapters.postgres.identity.repositories import SessionGate
from adapters.ratelimit.memory import MemoryRateLimiter
from adapters.signing.jwt_tokens import JwtSigner
from adapters.signing.keys import KeyRing, ensure_signing_key
from adapters.signing.pii import AesPiiProtector, load_or_create_master_key
from adapters.vneid import VNeIDClient, build_vneid_provider
from api.platform.settings import Settings
from domain.errors import Unavailable
from domain.identity.eid import EIdProvider
from domain.identity.ports import PiiProtector, RateLimiter

log = logging.getLogger("thudo.vneid")


def token_keys_dir(settings: Settings) -> Path:
    return Path(settings.token_keys_dir) if settings.token_keys_dir else Path(settings.data_dir) / "keys" / "tokens"


def _may_generate(settings: Settings) -> bool:
    return settings.environment != "production"


def prepare_keys(settings: Settings) -> None:
    if _may_generate(settings):
        ensure_signing_key(token_keys_dir(settings))
    build_pii(settings)


def build_pii(settings: Settings) -> AesPiiProtector:
    return AesPiiProtector(load_or_create_master_key(settings.pii_key, Path(settings.data_dir) / "keys",
                                                     allow_generate=_may_generate(settings)))


def token_endpoint(settings: Settings) -> str:
    return settings.base_url + "/api/v1/auth/token"


@dataclass
class IdentityServices:
    ring: KeyRing
    signer: JwtSigner
    pii: PiiProtector
    limiter: RateLimiter
    session_gate: SessionGate
    refresh_ttl: dt.timedelta
    issuer: str
    eid: EIdProvider | None = None
    http: httpx.AsyncClient | None = None
    provider_check: asyncio.Task[None] | None = None

    async def close(self) -> None:
        if self.provider_check is not None:
            self.provider_check.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.provider_check
        close = getattr(self.limiter, "close", None)
        if close is not None:
            await close()
        if self.http is not None:
            await self.http.aclose()


def build_identity(settings: Settings, pool: asyncpg.Pool[Any]) -> IdentityServices:
    prepare_keys(settings)
    ring = KeyRing.load(token_keys_dir(settings))
    issuer = settings.token_issuer or settings.base_url
    # One HTTP client for all calls to VNeID: connection reuse, and timeouts from settings.
    http = httpx.AsyncClient(timeout=settings.vneid_http_timeout_seconds, follow_redirects=False)
    limiter: RateLimiter = MemoryRateLimiter()
    if settings.redis_url:
        # Imported only when configured: redis.asyncio costs ~0.3 s of start-up for everyone else.
        from adapters.ratelimit.redis_store import RedisRateLimiter

        limiter = RedisRateLimiter(settings.redis_url)
    eid = build_vneid_provider(settings, http)
    return IdentityServices(
        ring=ring, issuer=issuer,
        signer=JwtSigner(ring, issuer=issuer, audience=settings.token_audience,
                         ttl_seconds=settings.token_ttl_seconds),
        pii=build_pii(settings), limiter=limiter,
        session_gate=SessionGate(pool),
        refresh_ttl=dt.timedelta(days=settings.refresh_ttl_days),
        eid=eid, http=http, provider_check=_start_provider_check(eid),
    )


def _start_provider_check(eid: VNeIDClient) -> asyncio.Task[None] | None:
    """At start, in the background: warn when VNeID does not publish what we are configured to ask for."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # built outside a server (CLI): nobody to warn at start
        return None
    return loop.create_task(_check_provider(eid))


async def _check_provider(eid: VNeIDClient, attempts: int = 10, pause_s: float = 2.0) -> None:
    # Paused before each try because the local stand-in is served by this very process, which is still
    # starting: asking at once would only log "unavailable" errors.
    for _ in range(attempts):
        await asyncio.sleep(pause_s)
        try:
            await eid.check_provider()
            return
        except Unavailable:
            continue
    log.warning("e-ID provider configuration not checked: discovery unreachable at start")


def vneid_standin(settings: Settings) -> list[Router]:
    """The local VNeID provider (mounted only when the stand-ins are enabled)."""
    from adapters.dev.vneid_provider import vneid_standin_router

    return [vneid_standin_router(settings)]


def prepare(settings: Settings) -> None:
    """Before the server forks its workers: keys every worker process must share."""
    if settings.standins_enabled:
        from adapters.dev.vneid_provider import ensure_vneid_dev_keys

        ensure_vneid_dev_keys(settings)
    prepare_keys(settings)
