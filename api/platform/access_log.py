"""The access log: one JSON line per request, written in batches.

Going through ``logging`` cost about 80 µs per request (a LogRecord, a generic JSON formatter and
one ``write(2)`` per line on a line-buffered stderr), more than the whole framework overhead of a
read endpoint. Here a line is one ``msgspec`` encode appended to a list, and the list is written
with one ``write`` at most every ``FLUSH_INTERVAL_S`` — under load hundreds of lines per system call.
The format is the one ``JsonFormatter`` writes (same keys), so log pipelines see one shape.

Trade-off: a process killed with SIGKILL loses at most the last ``FLUSH_INTERVAL_S`` of access
lines; a normal shutdown flushes (lifespan shutdown hook and ``atexit``). Error logs still go
through ``logging`` unbatched.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import sys
import time
from collections.abc import Callable

import msgspec

FLUSH_INTERVAL_S = 0.05
LOGGER = "thudo.access"  # the name in each line; LOG_LEVEL applies to it like to any logger


def _to_stderr(data: bytes) -> None:
    stream = sys.stderr
    stream.write(data.decode("utf-8"))
    stream.flush()


class AccessLog:
    def __init__(self, sink: Callable[[bytes], object] = _to_stderr, interval_s: float = FLUSH_INTERVAL_S) -> None:
        self.sink = sink
        self.interval_s = interval_s
        self._logger = logging.getLogger(LOGGER)
        self._lines: list[bytes] = []
        self._scheduled = False
        self._second = -1
        self._stamp = ""
        self._encode = msgspec.json.Encoder().encode

    @property
    def enabled(self) -> bool:
        return self._logger.isEnabledFor(logging.INFO)

    def _timestamp(self) -> str:
        now = time.time()
        second = int(now)
        if second != self._second:  # strftime once per second, not once per request
            self._second, self._stamp = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._stamp}.{int((now - second) * 1000):03d}Z"

    def record(self, request_id: str, method: str, route: str, status: int, duration_s: float) -> None:
        """Queue one line; only route templates are logged (paths hold ids, query strings personal data)."""
        self._lines.append(self._encode({
            "ts": self._timestamp(), "level": "info", "logger": LOGGER, "msg": "request", "request_id": request_id,
            "method": method, "route": route, "status": status, "duration_ms": round(duration_s * 1000, 2),
        }))
        if not self._scheduled:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop (a synchronous caller): write at once
                self.flush()
                return
            self._scheduled = True
            loop.call_later(self.interval_s, self.flush)

    def flush(self) -> None:
        self._scheduled = False
        if not self._lines:
            return
        lines, self._lines = self._lines, []
        self.sink(b"\n".join(lines) + b"\n")


ACCESS_LOG = AccessLog()
atexit.register(ACCESS_LOG.flush)
