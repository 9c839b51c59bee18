"""Where the latency stalls of a read come from: slow requests lined up with server-side events.

    uv run python -m bench.stalls [--windows 5] [--duration 10] [--citizens 1000] [--service-env K=V ...]

Starts the service like ``bench.run`` (granian, one worker, INFO access log) with a garbage
collection trace in the worker (``bench/trace_site/sitecustomize.py``: every pass slower than 1 ms,
with its generation), mints ``--citizens`` tokens (bench/citizens.py), finds the maximum rate of
``GET /api/v1/me`` (wrk, closed loop), then runs ``--windows`` open-loop windows at half of it and
prints, per window, p99 and the slowest requests with the GC passes that overlapped them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from bench import citizens, procs, report
from bench.database import run_database
from bench.rate import RateResult, run_rate
from bench.scenarios import BenchContext, RequestSpec
from bench.wrk import ensure_wrk, run_wrk

TRACE_SITE = Path(__file__).resolve().parent / "trace_site"
SLOW_GC_MS = 1.0


def install_gc_trace(path: str) -> None:
    """Append ``wall_start gen duration_ms collected`` for each GC pass over SLOW_GC_MS to ``path``."""
    started = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
            return
        ms = (time.perf_counter() - started[0]) * 1000
        if ms >= SLOW_GC_MS:
            with open(path, "a", encoding="utf-8") as out:
                out.write(f"{time.time() - ms / 1000:.4f} {info['generation']} {ms:.2f} {info['collected']} "
                          f"{os.getpid()}\n")

    gc.callbacks.append(callback)


class RunQueue:
    """Samples /proc/PID/schedstat of the service's processes every 20 ms in a thread: how long they
    were runnable but waiting for a CPU (other processes had both cores), and how long they ran."""

    def __init__(self, session: int, pids: list[int] | None = None) -> None:
        self.session, self.fixed = session, pids
        self.samples: list[tuple[float, int, int]] = []  # (wall, ran ns, waited ns), summed over the processes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _pids(self) -> list[int]:
        if self.fixed:
            return self.fixed
        out = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    if os.getsid(int(d)) == self.session:
                        out.append(int(d))
                except OSError:
                    pass
        return out

    def _run(self) -> None:
        pids = self._pids()
        while not self._stop.wait(0.02):
            ran = waited = 0
            for pid in pids:
                try:
                    with open(f"/proc/{pid}/schedstat") as f:
                        a, b, _ = f.read().split()
                except OSError:
                    continue
                ran, waited = ran + int(a), waited + int(b)
            self.samples.append((time.time(), ran, waited))

    def __enter__(self) -> RunQueue:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def between(self, start: float, end: float) -> tuple[float, float]:
        """(ms run, ms waiting for a CPU) of the service's processes between two wall times."""
        inside = [s for s in self.samples if start - 0.02 <= s[0] <= end + 0.02]
        if len(inside) < 2:
            return 0.0, 0.0
        return (inside[-1][1] - inside[0][1]) / 1e6, (inside[-1][2] - inside[0][2]) / 1e6


def read_gc(path: Path) -> list[tuple[float, int, float]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        t, gen, ms, *_ = line.split()
        rows.append((float(t), int(gen), float(ms)))
    return rows


def _clock(t: float) -> str:
    return f"{time.strftime('%H:%M:%S', time.gmtime(t))}.{int(t % 1 * 1000):03d}"


def explain(r: RateResult, gcs: list[tuple[float, int, float]], rq: RunQueue, me: RunQueue,
            top: int = 8) -> list[str]:
    out = []
    for due, ms in r.slow[:top]:
        overlapping = [f"gen{g} {d:.0f} ms" for t, g, d in gcs if due - 0.5 < t < due + ms / 1000]
        ran, waited = rq.between(due, due + ms / 1000)
        _, client_waited = me.between(due, due + ms / 1000)
        out.append(f"    due {_clock(due)} "
                   f"latency {ms:.1f} ms; service ran {ran:.0f} ms, waited for a CPU {waited:.0f} ms "
                   f"(the load client waited {client_waited:.0f} ms); "
                   f"GC passes: {', '.join(overlapping) or 'none'}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.stalls", description=__doc__.split("\n")[0])
    p.add_argument("--windows", type=int, default=5)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--citizens", type=int, default=citizens.DEFAULT_CITIZENS)
    p.add_argument("--path", default="/api/v1/me")
    p.add_argument("--rate", type=float, help="offered rate (default: half of the measured maximum)")
    p.add_argument("--service-env", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--no-freeze", action="store_true",
                   help="the before: serve without gc.freeze() after start-up (api.platform.app.freeze_startup_heap)")
    args = p.parse_args(argv)
    wrk = ensure_wrk() or "wrk"
    env = dict(kv.split("=", 1) for kv in args.service_env)
    with run_database(None) as (db, _), tempfile.TemporaryDirectory(prefix="thudo-stalls-") as tmp:
        trace = Path(tmp) / "gc.log"
        env = {**env, "THUDO_TRACE_GC": str(trace), **({"THUDO_TRACE_NO_FREEZE": "1"} if args.no_freeze else {}),
               "PYTHONPATH": os.pathsep.join([str(TRACE_SITE), str(procs.ROOT), os.environ.get("PYTHONPATH", "")])}
        with procs.running("service", procs.service(db, Path(tmp), env)) as svc:
            ctx = BenchContext(svc.base_url, db, Path(tmp))
            spec = RequestSpec("GET", args.path, tuple(citizens.headers(ctx, args.citizens)))
            print(f"load average {report.load_average()}", flush=True)
            run_wrk(svc.base_url, spec, duration=2, connections=args.connections, wrk=wrk)
            rate = args.rate
            if rate is None:
                top = run_wrk(svc.base_url, spec, duration=args.duration, connections=args.connections, wrk=wrk)
                rate = top.rps / 2
                print(f"max {top.rps:,.0f} req/s (closed loop); offering {rate:,.0f} req/s", flush=True)
            p99s = []
            windows_start = time.time()
            print(f"windows start at {_clock(windows_start)}", flush=True)
            for w in range(args.windows):
                with RunQueue(svc.proc.pid) as rq, RunQueue(0, [os.getpid()]) as me:
                    r = asyncio.run(run_rate(svc.base_url, spec, rate=rate, duration=args.duration,
                                         connections=args.connections))
                    rq.samples = rq.samples[-100_000:]
                p99s.append(r.p99_ms)
                print(f"window {w + 1}: p50 {r.p50_ms:.1f} p99 {r.p99_ms:.1f} max {r.max_ms:.1f} ms, "
                      f"{r.errors} errors", flush=True)
                print("\n".join(explain(r, read_gc(trace), rq, me)), flush=True)
            windows_end = time.time()
            gcs = read_gc(trace)
            during = [g for g in gcs if windows_start <= g[0] <= windows_end]
            print(f"during the windows: {len(during)} GC passes ≥ {SLOW_GC_MS} ms (gen2: "
                  f"{sum(1 for g in during if g[1] == 2)}, longest {max((g[2] for g in during), default=0):.1f} ms)")
            slowest = sorted(gcs, key=lambda x: -x[2])[:8]
            print("slowest GC passes (whole run, start-up included): "
                  + ", ".join(f"gen{g} {d:.0f} ms at {_clock(t)}" for t, g, d in slowest))
            print(f"p99 median {statistics.median(p99s):.1f} worst {max(p99s):.1f} ms; GC passes ≥ {SLOW_GC_MS} ms: "
                  f"{len(gcs)} (gen2: {sum(1 for g in gcs if g[1] == 2)}, longest "
                  f"{max((g[2] for g in gcs), default=0):.1f} ms); load average {report.load_average()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
