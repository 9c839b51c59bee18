"""Storage of ``Idempotency-Key`` records (table ``idempotency_keys``, migration 0001).

``store`` inserts the key with its response inside the caller's transaction, after the business
change, so both commit or roll back together, in one statement. A concurrent request with the same
key blocks on the unique index until the first transaction ends: after a commit its insert finds
the key taken (it then discards its own change and replays ``find``), after a rollback it stores
its own. ``purge_expired`` is run periodically by the worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from typing import TypeAlias

    import asyncpg

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


@dataclass
class PendingKey:
    """A key's row written by another write's statement (``insert_sql``) instead of by ``store``: the
    business change and its key then cost one round trip. The write sets ``stored``: ``True`` stored,
    ``False`` the key was taken (as ``store`` returning ``False``), ``None`` not tried (its condition
    did not hold: the caller falls back to ``store``).

    ``blank``: a value the write draws in its own statement (a reference number from a sequence) is not
    known when the body is built; the body then carries ``blank`` (a random token, so no request value
    can contain it) where that value goes, ``insert_sql(fill=…)`` replaces it in SQL with the statement's
    value, and the write calls ``filled`` with the value it got back. Values travel as parameters only."""

    principal: str
    key: str
    fingerprint: str
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    stored: bool | None = None
    blank: str = ""

    def insert_sql(self, first: int, when: str, fill: str | None = None) -> tuple[str, tuple[Any, ...]]:
        """``store``'s INSERT for a data-modifying CTE, its parameters numbered from ``$first``, inserting
        only if the SQL condition ``when`` holds; it returns one row (``true``) if it stored the key.
        ``fill``: the SQL expression (text) that replaces ``blank`` in the body."""
        p = [f"${n}" for n in range(first, first + 7)]
        body = f"{p[4]}::bytea"
        args: tuple[Any, ...] = ()
        if fill is not None:
            assert self.blank, "a fill needs a blank"
            body = f"convert_to(replace(convert_from({body}, 'UTF8'), {p[6]}::text, ({fill})::text), 'UTF8')"
            args = (self.blank,)
        sql = (f"INSERT INTO idempotency_keys (principal, key, fingerprint, status, body, headers)"
               f" SELECT {p[0]}::text, {p[1]}::text, {p[2]}::text, {p[3]}::int, {body}, {p[5]}::text::jsonb"
               f" WHERE {when} ON CONFLICT (principal, key) DO NOTHING RETURNING true")
        return sql, (self.principal, self.key, self.fingerprint, self.status, self.body,
                     msgspec.json.encode(self.headers).decode(), *args)

    def filled(self, value: str) -> None:
        """The body as ``insert_sql(fill=…)`` stored it, once the write knows the value."""
        self.body = self.body.replace(self.blank.encode(), value.encode())


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
