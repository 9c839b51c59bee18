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


async def test_memory_refund_gives_one_attempt_back_and_never_goes_below_zero() -> None:
    limiter = MemoryRateLimiter(Clock())
    assert await limiter.hit("k", 1, 60) == 0
    assert await limiter.hit("k", 1, 60) > 0
    await limiter.refund("k")
    await limiter.refund("k")
    await limiter.refund("k")
    await limiter.refund("unknown")  # no window: nothing to give back
    assert await limiter.hit("k", 1, 60) == 0
    assert await limiter.hit("k", 1, 60) > 0


async def test_redis_refund_gives_one_attempt_back_and_keeps_the_ttl() -> None:
    try:
        redis.Redis(socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"test:{secrets.token_hex(4)}:"
    limiter = RedisRateLimiter("redis://127.0.0.1:6379/15", prefix=prefix)
    try:
        assert [await limiter.hit("k", 1, 30) for _ in range(2)][1] > 0
        await limiter.refund("k")
        await limiter.refund("missing")  # must not create a key without expiry
        assert await limiter.hit("k", 1, 30) > 0  # back at 1 of 1 after the refund, so this one is over
        client = redis.Redis.from_url("redis://127.0.0.1:6379/15")
        assert client.exists(prefix + "missing") == 0
        assert 1 <= int(client.ttl(prefix + "k")) <= 30  # type: ignore[arg-type]
    finally:
        await limiter.close()
