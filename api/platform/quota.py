"""Per-account quotas on creating things (reports, photos, follows, ratings, devices, Open311 requests).

A quota is a few fixed windows ("20/hour,100/day"), counted in the rate-limit store (Redis when
``REDIS_URL`` is set, so every worker and instance shares it; in-process otherwise). The check
comes before the work; an attempt that fails (bad input, a conflict, a replayed Idempotency-Key)
is refunded, so only what was actually created counts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from litestar import Response

from api.platform.container import Container
from api.platform.idempotency import REPLAYED
from domain.errors import RateLimited

R = TypeVar("R")

# The tail of every quota setting's description (README's configuration table).
FORMAT_DOC = "Format N/minute|hour|day, comma separated, or off; exceeded: 429 + Retry-After."

_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Quota:
    # (limit, window seconds) pairs; empty = no quota ("off").
    windows: tuple[tuple[int, int], ...]

    @staticmethod
    def parse(raw: str) -> Quota:
        """``"20/hour,100/day"`` (units: minute, hour, day) or ``"off"``."""
        if raw.strip().lower() == "off":
            return Quota(())
        windows = []
        for part in raw.split(","):
            count, _, unit = part.strip().partition("/")
            if unit not in _UNITS or not count.isdigit() or int(count) <= 0:
                raise ValueError(f"expected N/minute, N/hour or N/day (comma separated) or off, got {part!r}")
            windows.append((int(count), _UNITS[unit]))
        return Quota(tuple(windows))

    def describe(self) -> str:
        units = {v: k for k, v in _UNITS.items()}
        return ",".join(f"{n}/{units[w]}" for n, w in self.windows) or "off"


async def within_quota(container: Container, name: str, subject: str,
                       create: Callable[[], Awaitable[R]]) -> R:
    """Run ``create`` if ``subject`` (an account or partner key id) has quota ``name`` left; 429 otherwise."""
    identity = container.identity
    assert identity is not None, "built by the composition root"
    limiter = identity.limiter
    quota = container.settings.of(name, Quota)
    keys = [f"quota:{name}:{subject}:{window}" for _, window in quota.windows]
    waits = [await limiter.hit(key, limit, window) for key, (limit, window) in zip(keys, quota.windows, strict=True)]
    if any(waits):
        for key in keys:  # a refused attempt must not use up the other windows either
            await limiter.refund(key)
        raise RateLimited(max(waits), "quota_exceeded")
    try:
        result = await create()
    except BaseException:
        for key in keys:
            await limiter.refund(key)
        raise
    if isinstance(result, Response) and result.headers.get(REPLAYED):
        for key in keys:  # an Idempotency-Key retry returns the first result: nothing new was created
            await limiter.refund(key)
    return result
