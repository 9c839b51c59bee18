"""Redis fixed-window counter shared by every worker and instance.

INCR and the first EXPIRE run in one Lua script so a crash between them can never leave a key
without expiry (which would lock the caller out forever).
"""

from __future__ import annotations

import contextlib
from typing import Any

import redis.asyncio as redis

from domain.errors import Unavailable

_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
"""

# DECR only an existing key: decrementing an expired one would recreate it without a TTL.
_REFUND = """
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0 then
  redis.call('DECR', KEYS[1])
end
return 0
"""


class RedisRateLimiter:
    def __init__(self, url: str, prefix: str = "thudo:rl:") -> None:
        self._client: Any = redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._script = self._client.register_script(_SCRIPT)
        self._refund = self._client.register_script(_REFUND)
        self._prefix = prefix

    async def hit(self, key: str, limit: int, window_seconds: int) -> int:
        try:
            count, ttl = await self._script(keys=[self._prefix + key], args=[window_seconds])
        except (redis.ConnectionError, redis.TimeoutError):
            raise Unavailable(5, "rate_limit_store_unavailable") from None
        return 0 if int(count) <= limit else max(1, int(ttl))

    async def refund(self, key: str) -> None:
        # Redis down: the caller keeps one attempt fewer until the window ends, not worth failing for.
        with contextlib.suppress(redis.ConnectionError, redis.TimeoutError):
            await self._refund(keys=[self._prefix + key])

    async def close(self) -> None:
        await self._client.aclose()
