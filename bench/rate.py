"""Open-loop load at a fixed rate (wrk has no rate limit), for latency at a given throughput.

Requests are *scheduled* at ``t0 + i / rate`` whatever the server does, and each latency is counted
from its scheduled time, so a stalled server shows up as queueing delay instead of silently
lowering the offered load (the "coordinated omission" a closed-loop tool suffers). A fixed set of
keep-alive connections carries the requests; a request waits for a free one if all are busy.

The client is plain asyncio with a minimal HTTP/1.1 codec: far cheaper per request than a full
HTTP client library, which matters when it shares two cores with the server it measures.
"""

from __future__ import annotations

import asyncio
import gc
import math
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.scenarios import RequestSpec


@dataclass(frozen=True)
class RateResult:
    target_rps: float
    sent: int
    completed: int
    achieved_rps: float  # completed / time from first schedule to last answer
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: int
    # The slowest requests: (wall-clock time it was due, epoch seconds; latency ms), at most SLOW_KEPT,
    # so stalls can be lined up with what the server logged at that moment (GC, flushes, pool).
    slow: tuple[tuple[float, float], ...] = ()

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


SLOW_KEPT = 50


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))  # nearest rank
    return sorted_values[rank]


class _Encoder:
    """Builds the bytes of request ``i``; same rotation and key scheme as the wrk script."""

    def __init__(self, spec: RequestSpec, host: str) -> None:
        self.spec = spec
        self.host = host
        self.run_id = secrets.token_hex(4)

    def __call__(self, i: int) -> bytes:
        spec = self.spec
        lines = [f"{spec.method} {spec.path_at(i)} HTTP/1.1", f"Host: {self.host}"]
        lines += [f"{k}: {v}" for k, v in spec.headers[i % len(spec.headers)].items()]
        if spec.idempotency_keys:
            lines.append(f"Idempotency-Key: bench-{self.run_id}-rate-{i}")
        body = spec.bodies[i % len(spec.bodies)] if spec.bodies else b""
        if body or spec.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, keep-alive) after consuming the whole response."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip().lower()
    if headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers.get("connection") != "close"


@contextmanager
def gc_paused() -> Iterator[None]:
    """This process's garbage collector kept out of a measurement window.

    The bench process is big: ``bench.run`` builds the whole service app in it to capture each scenario's
    same work, so the open-loop client holds ~220,000 tracked objects, and a generation-2 pass over them
    stopped its event loop for 182-617 ms at load 6-8 (``bench.stalls --scenario``) — latency the window
    would report as the server's (docs/performance.md, "The my-reports stall"). So: one full collection
    before the window, its survivors frozen for good (later collections skip them; what dies later by
    reference count is still freed), no automatic collection during the window, back on after it. The
    full pass happens once; the next window's collection walks only what the process made since.
    """
    if not gc.isenabled():
        yield
        return
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def run_rate(base_url: str, spec: RequestSpec, *, rate: float, duration: float, connections: int = 64,
                   request_timeout: float = 10.0, pause_gc: bool = True) -> RateResult:
    """Offer ``rate`` req/s for ``duration`` s; latency of each request from its scheduled time.

    ``pause_gc``: the client's own garbage collector stays out of the window (``gc_paused``).
    """
    with gc_paused() if pause_gc else nullcontext():
        return await _run_rate(base_url, spec, rate=rate, duration=duration, connections=connections,
                               request_timeout=request_timeout)


async def _run_rate(base_url: str, spec: RequestSpec, *, rate: float, duration: float, connections: int,
                    request_timeout: float) -> RateResult:
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    encode = _Encoder(spec, f"{host}:{port}")
    total = max(1, int(rate * duration))
    queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
    latencies: list[float] = []
    timed: list[tuple[float, float]] = []  # (due, latency ms)
    counts = {"non_2xx": 0, "socket": 0, "last": 0.0}

    async def connection() -> None:
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        while (item := await queue.get()) is not None:
            i, due = item
            if time.perf_counter() - due > request_timeout:
                # Already older than a client would wait: count it as timed out instead of sending it,
                # so an overloaded server cannot keep the run going long after its duration.
                counts["socket"] += 1
                continue
            try:
                if writer is None:
                    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), request_timeout)
                assert reader is not None
                writer.write(encode(i))
                status, keep = await asyncio.wait_for(_read_response(reader), request_timeout)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
                counts["socket"] += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            now = time.perf_counter()
            latencies.append((now - due) * 1000)
            timed.append((due, latencies[-1]))
            counts["last"] = now
            if not 200 <= status < 400:
                counts["non_2xx"] += 1
            if not keep:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    t0 = time.perf_counter() + 0.05
    for i in range(total):
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((i, due))
    for _ in workers:
        queue.put_nowait(None)
    _, pending = await asyncio.wait(workers, timeout=2 * request_timeout + 5)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    # Failed, timed out, or cut off at the end: everything that got no answer.
    counts["socket"] = total - len(latencies)
    latencies.sort()
    wall_offset = time.time() - time.perf_counter()
    slow = tuple((due + wall_offset, ms) for due, ms in sorted(timed, key=lambda x: -x[1])[:SLOW_KEPT])
    elapsed = (counts["last"] - t0) if counts["last"] else duration
    return RateResult(
        target_rps=rate, sent=total, completed=len(latencies), achieved_rps=len(latencies) / elapsed,
        p50_ms=percentile(latencies, 50), p95_ms=percentile(latencies, 95), p99_ms=percentile(latencies, 99),
        max_ms=latencies[-1] if latencies else float("nan"),
        non_2xx=int(counts["non_2xx"]), socket_errors=int(counts["socket"]), slow=slow,
    )
