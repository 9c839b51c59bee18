"""Storage of ``Idempotency-Key`` records (table ``idempotency_keys``, migration 0001).

``claim`` inserts the key inside the caller's transaction, so the key and the business change commit
or roll back together. A concurrent request with the same key blocks on the unique index until the
first transaction ends: after a commit it finds the stored response, after a rollback it claims
the key itself. ``purge_expired`` is run periodically by the worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    import asyncpg

    Conn = asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any]

# How long a client may retry with the same key (Stripe and the IETF draft use 24 h).
RETENTION = timedelta(hours=24)


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: str
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


async def claim(conn: Conn, principal: str, key: str, fingerprint: str) -> StoredResponse | None:
    """Claim the key for this request; return the earlier request's record if it already exists."""
    inserted = await conn.fetchval(
        """INSERT INTO idempotency_keys (principal, key, fingerprint) VALUES ($1, $2, $3)
           ON CONFLICT (principal, key) DO NOTHING RETURNING true""",
        principal, key, fingerprint,
    )
    if inserted:
        return None
    row = await conn.fetchrow(
        "SELECT fingerprint, status, body, headers::text AS headers FROM idempotency_keys"
        " WHERE principal = $1 AND key = $2",
        principal, key,
    )
    # The row can only vanish between the two statements if the purge removed an expired key.
    if row is None:
        return await claim(conn, principal, key, fingerprint)
    return StoredResponse(row["fingerprint"], row["status"], bytes(row["body"] or b""),
                          msgspec.json.decode(row["headers"]))


async def store(conn: Conn, principal: str, key: str, status: int, body: bytes,
                headers: dict[str, str] | None = None) -> None:
    # Headers travel as text so the result is the same with or without the pool's jsonb codec.
    await conn.execute(
        """UPDATE idempotency_keys SET status = $3, body = $4, headers = $5::text::jsonb
           WHERE principal = $1 AND key = $2""",
        principal, key, status, body, msgspec.json.encode(headers or {}).decode(),
    )


async def purge_expired(conn: Conn, older_than: timedelta = RETENTION) -> int:
    """Delete keys older than ``older_than``; return how many were removed."""
    result = await conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - $1::interval", older_than,
    )
    return int(result.split()[-1])
