"""Storage of ``Idempotency-Key`` records (table ``idempotency_keys``, migration 0001).

``store`` inserts the key with its response inside the caller's transaction, after the business
change, so both commit or roll back together, in one statement. ``store_and_commit`` does the same
and commits the unit of work in the same round trip. A concurrent request with the same
key blocks on the unique index until the first transaction ends: after a commit its insert finds
the key taken (it then discards its own change and replays ``find``), after a rollback it stores
its own. ``purge_expired`` is run periodically by the worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
import msgspec

if TYPE_CHECKING:
    from typing import TypeAlias

    from adapters.postgres.uow import PgUnitOfWork

    Conn: TypeAlias = asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any]

# How long a client may retry with the same key (Stripe and the IETF draft use 24 h).
RETENTION = timedelta(hours=24)


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: str
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


async def store(conn: Conn, principal: str, key: str, fingerprint: str, status: int, body: bytes,
                headers: dict[str, str] | None = None) -> bool:
    """Record the response for the key; ``False`` if the key was taken (by a committed request)."""
    # Headers travel as text so the result is the same with or without the pool's jsonb codec.
    stored = await conn.fetchval(
        """INSERT INTO idempotency_keys (principal, key, fingerprint, status, body, headers)
           VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)
           ON CONFLICT (principal, key) DO NOTHING RETURNING true""",
        principal, key, fingerprint, status, body, msgspec.json.encode(headers or {}).decode(),
    )
    return bool(stored)


def _text(value: str) -> str:
    """A text value as SQL made of hex digits only: nothing a caller sent can end the literal."""
    return f"convert_from(decode('{value.encode().hex()}', 'hex'), 'UTF8')"


def _insert(principal: str, key: str, fingerprint: str, status: int, body: bytes,
            headers: dict[str, str] | None) -> str:
    """``store``'s row as a statement without parameters (for the simple-query protocol, which takes none).
    No ``ON CONFLICT``: a taken key fails it (unique violation), so a COMMIT sent after it does not run."""
    return (f"INSERT INTO idempotency_keys (principal, key, fingerprint, status, body, headers) VALUES ("
            f"{_text(principal)}, {_text(key)}, {_text(fingerprint)}, {int(status)}, decode('{body.hex()}', 'hex'), "
            f"{_text(msgspec.json.encode(headers or {}).decode())}::jsonb)")


async def store_and_commit(uow: PgUnitOfWork, principal: str, key: str, fingerprint: str, status: int,
                           body: bytes, headers: dict[str, str] | None = None) -> bool:
    """``store`` and the unit of work's COMMIT in one round trip (``PgUnitOfWork.commit(final=…)``).

    ``False`` if the key was taken by a committed request: this transaction is then rolled back (the
    caller replays ``find``). A request in flight with the same key makes the insert wait for its end,
    as with ``store``."""
    try:
        await uow.commit(_insert(principal, key, fingerprint, status, body, headers))
    except asyncpg.UniqueViolationError as exc:
        if exc.table_name != "idempotency_keys":
            raise
        return False
    return True


async def find(conn: Conn, principal: str, key: str) -> StoredResponse | None:
    row = await conn.fetchrow(
        "SELECT fingerprint, status, body, headers::text AS headers FROM idempotency_keys"
        " WHERE principal = $1 AND key = $2",
        principal, key,
    )
    if row is None:
        return None
    return StoredResponse(row["fingerprint"], row["status"], bytes(row["body"] or b""),
                          msgspec.json.decode(row["headers"]))


async def purge_expired(conn: Conn, older_than: timedelta = RETENTION) -> int:
    """Delete keys older than ``older_than``; return how many were removed."""
    result = await conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - $1::interval", older_than,
    )
    return int(result.split()[-1])
