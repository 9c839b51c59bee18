"""Read-your-writes marks: a caller's mark only grows and expires after its TTL; in-process and Redis alike."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
import redis

from adapters.postgres.write_marks import MemoryWriteMarks, RedisWriteMarks, WriteMarks


def _redis_available() -> bool:
    try:
        redis.Redis(socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False
    return True


@pytest.fixture(params=["memory", "redis"])
async def marks(request: pytest.FixtureRequest) -> AsyncIterator[WriteMarks]:
    if request.param == "memory":
        store: WriteMarks = MemoryWriteMarks(ttl_s=0.3)
    else:
        if not _redis_available():
            pytest.skip("no Redis on 127.0.0.1:6379")
        store = RedisWriteMarks("redis://127.0.0.1:6379/15", ttl_s=0.3, prefix=f"test:{secrets.token_hex(4)}:")
    try:
        yield store
    finally:
        await store.close()


async def test_a_mark_only_grows_and_is_per_caller(marks: WriteMarks) -> None:
    assert await marks.get("a") is None
    await marks.record("a", 0x1_0000_0200)
    await marks.record("a", 0x1_0000_0100)  # a slower commit finishing later never lowers it
    await marks.record("b", 5)
    assert await marks.get("a") == 0x1_0000_0200
    assert await marks.get("b") == 5
    big = 2**63 - 1  # beyond a double's exact range: compared as text, not as a Lua number
    await marks.record("a", big)
    await marks.record("a", big - 1)
    assert await marks.get("a") == big


async def test_a_mark_expires_after_its_ttl(marks: WriteMarks) -> None:
    await marks.record("a", 10)
    await asyncio.sleep(0.45)
    assert await marks.get("a") is None


async def test_the_in_process_store_stays_bounded() -> None:
    marks = MemoryWriteMarks(ttl_s=0.05)
    marks.MAX_KEYS = 10
    for i in range(10):
        await marks.record(str(i), i)
    await asyncio.sleep(0.08)
    await marks.record("new", 1)  # full: the expired marks are dropped first
    assert len(marks._marks) == 1
