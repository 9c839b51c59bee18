"""The idempotency key store against real PostgreSQL: store once/find, stored with COMMIT, and the periodic purge."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from adapters.postgres import idempotency
from adapters.postgres.pool import create_pool
from adapters.postgres.uow import PgUnitOfWork

CHANGE = "INSERT INTO idempotency_keys (principal, key, fingerprint) VALUES ($1, $2, 'x')"  # a business change


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


@pytest.mark.parametrize("begin_check", ["SELECT 1", None])
async def test_store_and_commit_keeps_the_change_and_the_key_once(database_url: str, begin_check: str | None) -> None:
    """The key goes with COMMIT: new key, both stored; taken key, this change rolled back and ``False``.
    With ``begin_check`` (BEGIN by the simple-query protocol) the row and COMMIT share one round trip."""
    principal = "commit-" + uuid.uuid4().hex
    # What a caller sent reaches the statement's text: quotes, a semicolon, backslashes, non-ASCII.
    key = "k'); DELETE FROM idempotency_keys; --\\x"
    headers = {"Location": "/x/1?a='b'&c=\\d", "ETag": '"Hà Nội"'}
    body = bytes(range(256)) + b"{'ref': 'LLTP'}"
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        async with PgUnitOfWork(pool, begin_check=begin_check) as uow:
            await uow.conn.execute(CHANGE, principal, "change-1")
            assert await idempotency.store_and_commit(uow, principal, key, "fp", 201, body, headers)
        async with PgUnitOfWork(pool, begin_check=begin_check) as uow:
            await uow.conn.execute(CHANGE, principal, "change-2")
            assert not await idempotency.store_and_commit(uow, principal, key, "other", 200, b"{}", {})
            # The unit of work is usable afterwards: the caller reads the first response on it.
            earlier = await idempotency.find(uow.conn, principal, key)
        async with pool.acquire() as conn:
            keys = {r["key"] for r in await conn.fetch("SELECT key FROM idempotency_keys WHERE principal = $1",
                                                       principal)}
    finally:
        await pool.close()
    assert earlier == idempotency.StoredResponse("fp", 201, body, headers)
    assert keys == {key, "change-1"}  # the second request's change was rolled back with its taken key
