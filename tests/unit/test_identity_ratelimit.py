"""Fixed-window rate limit stores: in-process (fake clock) and Redis (127.0.0.1:6379)."""

from __future__ import annotations

import secrets

import pytest
import redis

from adapters.ratelimit.memory import MemoryRateLimiter
from adapters.ratelimit.redis_store import RedisRateLimiter


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


async def test_memory_window_counts_and_resets() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(clock)
    assert [await limiter.hit("k", 2, 60) for _ in range(3)] == [0, 0, 60]
    clock.t += 45
    assert await limiter.hit("k", 2, 60) == 15
    assert await limiter.hit("other", 2, 60) == 0
    clock.t += 16
    assert await limiter.hit("k", 2, 60) == 0


async def test_memory_store_is_bounded() -> None:
    limiter = MemoryRateLimiter(Clock())
    limiter.MAX_KEYS = 10
    for i in range(50):
        await limiter.hit(f"ip{i}", 5, 60)
    assert len(limiter._windows) <= 10


async def test_redis_window_counts_with_ttl() -> None:
    try:
        redis.Redis(socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    limiter = RedisRateLimiter("redis://127.0.0.1:6379/15", prefix=f"test:{secrets.token_hex(4)}:")
    try:
        results = [await limiter.hit("k", 2, 30) for _ in range(3)]
        assert results[:2] == [0, 0]
        assert 1 <= results[2] <= 30
        assert await limiter.hit("other", 2, 30) == 0
    finally:
        await limiter.close()
