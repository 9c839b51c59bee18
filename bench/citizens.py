"""Many logged-in citizens, quickly: the bench's realism (quality.md: ≥ 1,000 distinct tokens).

One token per scenario lets token verification and every per-user cache always hit, which flatters
each read. Logging 1,000 people in through the VNeID stand-in over HTTP takes four requests each;
here the same production code that ends a login runs directly against the bench database and the
service's keys (``DATA_DIR``): ``PgAccounts.upsert_from_eid`` (the account, personal id encrypted
under the service's PII key), then ``SessionIssuer.open`` (session + refresh token rows, an ES256
access token from the service's key ring, with the service's issuer and audience). Only the e-ID
redirect dance is skipped, which no measured endpoint depends on.

    tokens = mint(ctx, 1000)   # list of {"Authorization": "Bearer …"}, one per citizen
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from adapters.postgres.identity.repositories import PgAccounts, PgSessions
from adapters.postgres.pool import create_pool
from adapters.signing.jwt_tokens import JwtSigner
from adapters.signing.keys import KeyRing
from api.identity.wiring import build_pii, token_keys_dir
from api.platform.settings import load_settings
from domain.identity.eid import EIdIdentity
from domain.identity.login import SessionIssuer
from domain.shared.time import SystemClock

DEFAULT_CITIZENS = 1000
_CONNECTIONS = 4


@dataclass(frozen=True)
class Citizen:
    user_id: uuid.UUID
    headers: dict[str, str]


def _random_personal_id() -> str:
    return "001" + "0" + f"{secrets.randbelow(100):02d}" + f"{secrets.randbelow(10**6):06d}"


async def mint_async(base_url: str, database_url: str, data_dir: Any, n: int = DEFAULT_CITIZENS,
                     level: int = 2) -> list[Citizen]:
    settings = load_settings({"DATABASE_URL": database_url, "DATA_DIR": str(data_dir), "PUBLIC_BASE_URL": base_url,
                              "ENVIRONMENT": "development"})
    pii = build_pii(settings)
    signer = JwtSigner(KeyRing.load(token_keys_dir(settings)), issuer=settings.base_url,
                       audience=settings.token_audience, ttl_seconds=settings.token_ttl_seconds)
    pool = await create_pool(database_url, min_size=1, max_size=_CONNECTIONS)
    out: list[Citizen] = []
    todo = iter(range(n))

    async def worker() -> None:
        for i in todo:
            personal_id = _random_personal_id()
            person = EIdIdentity(issuer="bench", subject=f"bench-{secrets.token_hex(8)}", personal_id=personal_id,
                                 full_name=f"Công dân thử {i}", date_of_birth=dt.date(1990, 5, 17), level=level)
            async with pool.acquire() as conn, conn.transaction():
                account = await PgAccounts(conn).upsert_from_eid(person, pii.lookup_hash(personal_id),
                                                                 pii.encrypt(personal_id))
                issuer = SessionIssuer(PgSessions(conn), signer, SystemClock(), dt.timedelta(days=1))
                tokens = await issuer.open(account, "thudo-bench")
            out.append(Citizen(account.id, {"Authorization": f"Bearer {tokens.access_token}"}))

    try:
        await asyncio.gather(*(worker() for _ in range(_CONNECTIONS)))
    finally:
        await pool.close()
    return out


def mint(ctx: Any, n: int = DEFAULT_CITIZENS) -> list[Citizen]:
    """``ctx``: a ``BenchContext`` (the running service's URL, its database and DATA_DIR)."""
    return asyncio.run(mint_async(ctx.base_url, ctx.database_url, ctx.data_dir, n))


def headers(ctx: Any, n: int = DEFAULT_CITIZENS) -> list[dict[str, str]]:
    return [c.headers for c in mint(ctx, n)]
