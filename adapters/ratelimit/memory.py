"""In-process fixed-window counter: for one worker process (the embedded default and tests)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class MemoryRateLimiter:
    MAX_KEYS = 100_000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, limit: int, window_seconds: int) -> int:
        now = self._clock()
        start, count = self._windows.get(key, (now, 0))
        if now - start >= window_seconds:
            start, count = now, 0
        count += 1
        if len(self._windows) >= self.MAX_KEYS and key not in self._windows:
            self._evict(now, window_seconds)
        self._windows[key] = (start, count)
        if count <= limit:
            return 0
        return max(1, math.ceil(start + window_seconds - now))

    async def refund(self, key: str) -> None:
        window = self._windows.get(key)
        if window is not None and window[1] > 0:
            self._windows[key] = (window[0], window[1] - 1)

    def _evict(self, now: float, window_seconds: int) -> None:
        # Bound memory under a flood of distinct keys (spoofed IPs): drop expired windows first.
        self._windows = {k: v for k, v in self._windows.items() if now - v[0] < window_seconds}
        if len(self._windows) >= self.MAX_KEYS:
            self._windows.clear()
