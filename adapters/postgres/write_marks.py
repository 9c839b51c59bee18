"""Where each caller's last write ended in the primary's WAL: the read-your-writes memory of read routing.

A mark is the primary's WAL position (LSN) right after a caller's commit; while the replica has not
replayed that far, the caller's reads go to the primary. Marks only ever grow (a slower commit of the
same caller finishing later never lowers one) and expire after ``ttl_s``: by then the lag bound
guarantees the replica has replayed the write or is not used at all (adapters/postgres/replica.py).

Redis (``REDIS_URL``) shares marks between every API process and pod; without it they live in
this process, which is right for one process only.
"""

from __future__ import annotations

import time
from typing import Any, Protocol


class WriteMarks(Protocol):
    async def record(self, caller: str, lsn: int) -> None: ...

    async def get(self, caller: str) -> int | None: ...

    async def close(self) -> None: ...


class MemoryWriteMarks:
    MAX_KEYS = 100_000

    def __init__(self, ttl_s: float) -> None:
        self._ttl_s = ttl_s
        self._marks: dict[str, tuple[int, float]] = {}

    async def record(self, caller: str, lsn: int) -> None:
        now = time.monotonic()
        old = self._marks.get(caller)
        if old is not None and old[1] > now:
            lsn = max(lsn, old[0])
        elif len(self._marks) >= self.MAX_KEYS:
            self._marks = {k: v for k, v in self._marks.items() if v[1] > now}
        self._marks[caller] = (lsn, now + self._ttl_s)

    async def get(self, caller: str) -> int | None:
        mark = self._marks.get(caller)
        if mark is None:
            return None
        if mark[1] <= time.monotonic():
            del self._marks[caller]
            return None
        return mark[0]

    async def close(self) -> None:
        self._marks.clear()


# LSNs as 16 hex digits compare as strings in Lua (its numbers are doubles: exact only to 2^53).
_RECORD = """
local old = redis.call('GET', KEYS[1])
if old and old >= ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 0
"""


class RedisWriteMarks:
    def __init__(self, url: str, ttl_s: float, prefix: str = "thudo:ryw:") -> None:
        import redis.asyncio as redis  # imported only when configured (start-up cost)

        self._client: Any = redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._record = self._client.register_script(_RECORD)
        self._ttl_ms = str(int(ttl_s * 1000))
        self._prefix = prefix

    async def record(self, caller: str, lsn: int) -> None:
        await self._record(keys=[self._prefix + caller], args=[f"{lsn:016x}", self._ttl_ms])

    async def get(self, caller: str) -> int | None:
        raw = await self._client.get(self._prefix + caller)
        return None if raw is None else int(raw, 16)

    async def close(self) -> None:
        await self._client.aclose()
