"""The asyncpg pool: one per process, owned by the app's lifespan."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import msgspec

# Short connect timeout so that readiness checks and requests fail fast (503) while the
# database is down instead of hanging; requests get a statement timeout as a backstop.
CONNECT_TIMEOUT_S = 2.0


async def _init_connection(conn: asyncpg.Connection[Any]) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename, schema="pg_catalog", encoder=lambda v: msgspec.json.encode(v).decode(),
            decoder=msgspec.json.decode, format="text",
        )


async def _keep_session(conn: asyncpg.Connection[Any]) -> None:
    """Release hook that skips asyncpg's default reset query (one more round trip per request).

    asyncpg still rolls back an open transaction before calling this. The default would also run
    ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``, which only matters for session
    state; pooled connections here never take session-level advisory locks, hold cursors across
    requests, LISTEN or run a plain ``SET`` (session settings are fixed at
    connect in ``server_settings``), so there is nothing to undo.
    """


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10,
                      statement_timeout_ms: int = 10_000) -> asyncpg.Pool[Any]:
    pool = await asyncpg.create_pool(
        dsn, min_size=min(min_size, max_size), max_size=max_size, init=_init_connection, reset=_keep_session,
        timeout=CONNECT_TIMEOUT_S,
        command_timeout=statement_timeout_ms / 1000 + 1,
        server_settings={"statement_timeout": str(statement_timeout_ms), "timezone": "UTC",
                         "application_name": "thudo"},
    )
    assert pool is not None
    return pool


async def connect(dsn: str) -> asyncpg.Connection[Any]:
    """A single connection for CLI commands and test set-up (not for request handling)."""
    conn = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_S)
    await _init_connection(conn)
    return conn


async def ping(pool: asyncpg.Pool[Any], timeout_s: float) -> bool:
    """Can a pooled connection run a query within ``timeout_s``? (The readiness probe.)"""
    try:
        # acquire() may try to open a new connection: bound the whole check so it never hangs.
        async with asyncio.timeout(timeout_s):
            async with pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
    except Exception:  # any failure means "not ready"; the cause is logged by the pool
        return False
    return True
