"""The idempotency key store against real PostgreSQL: store once/find and the periodic purge."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from adapters.postgres import idempotency


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection[Any]]:
    c = await asyncpg.connect(database_url)
    try:
        yield c
    finally:
        await c.close()


async def test_store_once_then_find(conn: asyncpg.Connection[Any]) -> None:
    principal, key = "store-" + uuid.uuid4().hex, "k1"
    assert await idempotency.find(conn, principal, key) is None
    assert await idempotency.store(conn, principal, key, "fp", 201, b'{"id": 1}', {"Location": "/x/1"})
    # The key is taken: a second store (another request, even another body) keeps the first record.
    assert not await idempotency.store(conn, principal, key, "other-fp", 200, b"{}", {})
    earlier = await idempotency.find(conn, principal, key)
    assert earlier == idempotency.StoredResponse("fp", 201, b'{"id": 1}', {"Location": "/x/1"})


async def test_purge_removes_only_expired_keys(conn: asyncpg.Connection[Any]) -> None:
    principal = "purge-" + uuid.uuid4().hex
    await conn.executemany(
        """INSERT INTO idempotency_keys (principal, key, fingerprint, created_at)
           VALUES ($1, $2, 'fp', now() - $3::interval)""",
        [(principal, "old", timedelta(hours=25)), (principal, "edge", timedelta(hours=23)),
         (principal, "new", timedelta(0))],
    )
    removed = await idempotency.purge_expired(conn)
    assert removed >= 1
    left = {r["key"] for r in await conn.fetch("SELECT key FROM idempotency_keys WHERE principal = $1", principal)}
    assert left == {"edge", "new"}
    assert await idempotency.purge_expired(conn, timedelta(minutes=1)) >= 1
    left = {r["key"] for r in await conn.fetch("SELECT key FROM idempotency_keys WHERE principal = $1", principal)}
    assert left == {"new"}
