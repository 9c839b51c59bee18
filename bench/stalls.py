"""Where the latency stalls of a read come from: slow requests lined up with server-side events.

    uv run python -m bench.stalls [--windows 5] [--duration 10] [--citizens 1000] [--service-env K=V ...]
    uv run python -m bench.stalls --scenario feedback.my_reports --duration 4 [--client-gc]

Starts the service like ``bench.run`` (granian, one worker, INFO access log) with a garbage
collection trace in the worker (``bench/trace_site/sitecustomize.py``: every pass slower than 1 ms,
with its generation), mints ``--citizens`` tokens (bench/citizens.py), finds the maximum rate of
``GET /api/v1/me`` (wrk, closed loop), then runs ``--windows`` open-loop windows at half of it and
prints, per window, p99 and the slowest requests with the GC passes that overlapped them.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

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


def install_loop_trace(path: str) -> None:
    """In a service worker: append ``wall kind ms pid`` to ``path`` for every event-loop oversleep ≥ LAG_MIN_MS
    (``lag``: a task sleeping LAG_TICK, started when start-up freezes the heap) and every access-log write
    (``write``: the synchronous flush of the batched lines to stderr, api/platform/access_log.py) of ≥ 2 ms —
    a write(2) that blocks (dirty-page throttling, the file system's journal) stops the event loop."""
    import api.platform.app as platform_app
    from api.platform.access_log import ACCESS_LOG

    def note(kind: str, start: float, ms: float) -> None:
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{start:.4f} {kind} {ms:.2f} {os.getpid()}\n")

    sink = ACCESS_LOG.sink

    def timed_sink(data: bytes) -> object:
        t = time.perf_counter()
        try:
            return sink(data)
        finally:
            ms = (time.perf_counter() - t) * 1000
            if ms >= 2.0:
                note("write", time.time() - ms / 1000, ms)

    ACCESS_LOG.sink = timed_sink
    freeze = platform_app.freeze_startup_heap
    watchers: list[asyncio.Task[None]] = []

    def freeze_and_watch() -> None:
        freeze()
        watchers.append(asyncio.get_running_loop().create_task(watch_lag(lambda at, late: note("lag", at, late))))

    platform_app.freeze_startup_heap = freeze_and_watch


def read_loop(path: Path) -> list[tuple[float, str, float, int]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        t, kind, ms, pid = line.split()
        rows.append((float(t), kind, float(ms), int(pid)))
    return rows


class _Sampler:
    """A probe that samples in a thread of its own while it is entered (``with Probe(...) as probe:``)."""

    def __init__(self, target: Callable[[], None]) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=target, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


class RunQueue(_Sampler):
    """Samples /proc/PID/schedstat of the service's processes every 20 ms in a thread: how long they
    were runnable but waiting for a CPU (other processes had both cores), and how long they ran."""

    def __init__(self, session: int, pids: list[int] | None = None) -> None:
        self.session, self.fixed = session, pids
        self.samples: list[tuple[float, int, int]] = []  # (wall, ran ns, waited ns), summed over the processes
        super().__init__(self._run)

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


# --- bench.run's timeline with every probe on: ``--scenario NAME`` ---------------------------------------------

LAG_TICK = 0.005  # the load client's event-loop lag probe sleeps this long and records any oversleep ≥ LAG_MIN_MS
LAG_MIN_MS = 10.0


async def watch_lag(record: Callable[[float, float], None]) -> None:
    """Until cancelled: sleep LAG_TICK and ``record(wall time it began, ms)`` every oversleep of ≥ LAG_MIN_MS (this
    process's event loop was stopped that long: a GC pass, a CPU wait, a blocking call)."""
    while True:
        t = time.perf_counter()
        await asyncio.sleep(LAG_TICK)
        late = (time.perf_counter() - t - LAG_TICK) * 1000
        if late >= LAG_MIN_MS:
            record(time.time() - late / 1000, late)


def _threads_schedstat(pid: int) -> tuple[int, int]:
    """(ns run, ns runnable but waiting for a CPU), summed over every thread of ``pid``."""
    ran = waited = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0, 0
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                a, b, _ = f.read().split()
        except (OSError, ValueError):
            continue
        ran, waited = ran + int(a), waited + int(b)
    return ran, waited


def _session_pids(session: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.getsid(int(d)) == session:
                    out.append(int(d))
            except OSError:
                pass
    return out


def _machine_busy_ns() -> int:
    """CPU time all processes of the machine have used (every core), from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


class CpuGroups(_Sampler):
    """Every 25 ms: CPU run and run-queue wait of each of our process groups (all threads), and of the whole
    machine. The machine's busy time minus ours is the other helpers' load at that moment."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self.groups = groups
        self.samples: list[tuple[float, int, dict[str, tuple[int, int]]]] = []
        super().__init__(self._run)
        self._last: dict[tuple[str, int], tuple[int, int]] = {}
        self._total: dict[str, list[int]] = {name: [0, 0] for name in groups}

    def _run(self) -> None:
        pids: dict[str, list[int]] = {}
        refreshed = 0.0
        while not self._stop.wait(0.025):
            now = time.time()
            if now - refreshed > 1.0:
                pids, refreshed = {name: get() for name, get in self.groups.items()}, now
            for name, members in pids.items():
                for pid in members:  # cumulative per group, robust to members coming and going
                    got = _threads_schedstat(pid)
                    before = self._last.get((name, pid), got)
                    self._total[name][0] += max(0, got[0] - before[0])
                    self._total[name][1] += max(0, got[1] - before[1])
                    self._last[(name, pid)] = got
            self.samples.append((now, _machine_busy_ns(), {k: (v[0], v[1]) for k, v in self._total.items()}))

    def between(self, start: float, end: float) -> dict[str, float]:
        """ms between two wall times: ``<group> ran``, ``<group> waited``, ``machine`` and ``others`` (busy time of
        processes that are none of ours, PostgreSQL backends of other databases included)."""
        inside = [s for s in self.samples if start - 0.025 <= s[0] <= end + 0.025]
        if len(inside) < 2:
            return {}
        (_, m0, g0), (_, m1, g1) = inside[0], inside[-1]
        out = {"machine": (m1 - m0) / 1e6}
        ours = 0.0
        for name in g1:
            out[f"{name} ran"] = (g1[name][0] - g0[name][0]) / 1e6
            out[f"{name} waited"] = (g1[name][1] - g0[name][1]) / 1e6
            ours += out[f"{name} ran"]
        out["others"] = max(0.0, out["machine"] - ours)
        out["span"] = (inside[-1][0] - inside[0][0]) * 1000
        return out


class PgActivity(_Sampler):
    """Polls PostgreSQL every 50 ms in a thread: autovacuum workers, the checkpointer's state, our database's
    backends (for CpuGroups) and other databases' active backends; checkpoint counters every second."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.samples: list[tuple[float, tuple[str, ...], str, int]] = []  # (wall, autovacuum, checkpointer, others)
        self.checkpoints: list[tuple[float, int, int]] = []  # (wall, timed, requested)
        self.our_pids: list[int] = []
        self.database = ""
        super().__init__(lambda: asyncio.run(self._run()))

    async def _run(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.url)
        try:
            self.database = await conn.fetchval("SELECT current_database()")
            last_counts = 0.0
            while not self._stop.is_set():
                rows = await conn.fetch(
                    "SELECT pid, datname, backend_type, state, wait_event, left(query, 80) AS query "
                    "FROM pg_stat_activity WHERE pid <> pg_backend_pid()")
                now = time.time()
                autovacuum = tuple(f"{r['datname']}: {r['query']}" for r in rows
                                   if r["backend_type"] == "autovacuum worker")
                checkpointer = next((r["wait_event"] or "running" for r in rows
                                     if r["backend_type"] == "checkpointer"), "")
                others = sum(1 for r in rows if r["backend_type"] == "client backend" and r["state"] == "active"
                             and r["datname"] != self.database)
                self.our_pids = [r["pid"] for r in rows
                                 if r["backend_type"] == "client backend" and r["datname"] == self.database]
                self.samples.append((now, autovacuum, checkpointer, others))
                if now - last_counts >= 1.0:
                    c = await conn.fetchrow("SELECT checkpoints_timed, checkpoints_req FROM pg_stat_bgwriter")
                    self.checkpoints.append((now, c[0], c[1]))
                    last_counts = now
                await asyncio.sleep(0.05)
        finally:
            await conn.close()

    def between(self, start: float, end: float) -> list[str]:
        inside = [s for s in self.samples if start - 0.05 <= s[0] <= end + 0.05]
        out: list[str] = []
        vac = sorted({a for s in inside for a in s[1]})
        if vac:
            out.append("autovacuum " + "; ".join(vac))
        busy = sorted({s[2] for s in inside if s[2] not in ("", "CheckpointerMain")})
        if busy:
            out.append("checkpointer " + "/".join(busy))
        counts = [c for c in self.checkpoints if start - 1.0 <= c[0] <= end + 1.0]
        if len(counts) >= 2 and counts[-1][1:] != counts[0][1:]:
            out.append("a checkpoint completed")
        others = max((s[3] for s in inside), default=0)
        if others:
            out.append(f"{others} active queries of other databases")
        return out


PG_LOG = Path("/var/log/postgresql/postgresql-15-main.log")  # the machine's server (log_checkpoints = on)


def checkpoint_log(start: float, end: float, path: Path = PG_LOG) -> list[str]:
    """The server log's checkpoint lines between two wall times (the machine's server logs them), if readable."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        if "checkpoint" not in line or "UTC" not in line:
            continue
        try:
            t = time.mktime(time.strptime(line[:19], "%Y-%m-%d %H:%M:%S")) - time.timezone + float("0" + line[19:23])
        except ValueError:
            continue
        if start <= t <= end:
            out.append(line)
    return out


@dataclass
class Window:
    label: str
    start: float
    end: float
    result: RateResult
    lags: list[tuple[float, float]]  # (wall time the loop was due to wake, ms late)


def probed_rate(windows: list[Window], labels: dict[str, str], pause_gc: bool) -> Callable[..., Any]:
    """A stand-in for bench.rate.run_rate that also records the window's span and the load client's event-loop
    lag (a task sleeping LAG_TICK and timing its oversleep), keyed by ``labels[base_url]``."""

    async def run(base_url: str, spec: RequestSpec, **kwargs: Any) -> RateResult:
        lags: list[tuple[float, float]] = []


        if not windows:
            print(f"load client: {len(gc.get_objects()):,} objects tracked by the GC at the first window",
                  flush=True)
        if pause_gc:  # run_rate's collection before the window, done here so that it falls outside the window
            gc.collect()
            gc.freeze()
        start = time.time()
        watcher = asyncio.create_task(watch_lag(lambda at, late: lags.append((at, late))))
        try:
            r = await run_rate(base_url, spec, pause_gc=pause_gc, **kwargs)
        finally:
            watcher.cancel()
        label = labels.get(base_url, base_url)
        if spec.path.startswith("/same-work/"):
            label = spec.path.rsplit("/", 1)[-1] + " (same work)"
        windows.append(Window(label, start, time.time(), r, lags))
        return r

    return run


def _overlap(t: float, ms: float, start: float, end: float) -> bool:
    return t < end and t + ms / 1000 > start


def diagnose(w: Window, gcs: dict[str, list[tuple[float, int, float]]], loop: list[tuple[float, str, float, int]],
             cpu: CpuGroups, pg: PgActivity, top: int) -> list[str]:
    """One line per slow request of the window: what overlapped its span, and which of it explains the delay."""
    out = []
    for due, ms in w.result.slow[:top]:
        end = due + ms / 1000
        found: list[str] = []
        causes: list[tuple[float, str]] = []
        for who, passes in gcs.items():
            hit = [(g, d) for t, g, d in passes if _overlap(t, d, due, end)]
            if hit:
                found.append(f"{who} GC " + ", ".join(f"gen{g} {d:.0f} ms" for g, d in hit))
                causes.append((max(d for _, d in hit), f"{who} GC"))
        for kind, what in (("lag", "service loop late"), ("write", "service access-log write")):
            hit = [d for t, k, d, _ in loop if k == kind and _overlap(t, d, due, end)]
            if hit:
                found.append(f"{what} {max(hit):.0f} ms")
                if kind == "write":
                    causes.append((max(hit), "service access-log write blocked"))
        lag = [late for t, late in w.lags if _overlap(t, late, due, end)]
        if lag:
            found.append(f"client loop late {max(lag):.0f} ms")
            causes.append((max(lag), "client event loop"))
        c = cpu.between(due, end)
        if c:
            found.append(f"service ran {c['service ran']:.0f} waited {c['service waited']:.0f}, "
                         f"client waited {c['client waited']:.0f}, PostgreSQL (ours) ran {c['postgres ran']:.0f}, "
                         f"others' CPU {c['others']:.0f} of {c['machine']:.0f} ms over {c['span']:.0f} ms")
            waits = max(c["service waited"], c["floor waited"], c["client waited"])
            causes.append((waits, "waiting for a CPU"))
        events = pg.between(due, end)
        if events:
            found.append("PostgreSQL: " + ", ".join(events))
            if any(e.startswith(("autovacuum", "checkpointer")) for e in events):
                causes.append((ms / 2, "PostgreSQL maintenance"))
        cause = max(causes)[1] if causes and max(causes)[0] >= ms / 3 else "unexplained"
        out.append(f"    due {_clock(due)} latency {ms:.1f} ms → {cause}; " + "; ".join(found))
    return out


def timeline(args: argparse.Namespace) -> int:
    """bench.run's sequence for one scenario (set-up, same-work capture, closed-loop runs, open-loop windows of the
    scenario and its same work by turns), with every probe on, then the correlation per window."""
    from bench import run as bench_run
    from bench.scenarios import select

    scenario = select([args.scenario])[0]
    wrk = ensure_wrk() or "wrk"
    opts = bench_run.Options(args.duration, args.connections, 2, args.warmup, wrk, 1, args.windows, True, 200)
    windows: list[Window] = []
    with run_database(args.database_url, embedded=args.embedded_postgres) as (db, how), \
            tempfile.TemporaryDirectory(prefix="thudo-stalls-") as tmp:
        trace, loop_trace = Path(tmp) / "gc.log", Path(tmp) / "loop.log"
        env = {"THUDO_TRACE_GC": str(trace), "THUDO_TRACE_LOOP": str(loop_trace),
               "PYTHONPATH": os.pathsep.join([str(TRACE_SITE), str(procs.ROOT), os.environ.get("PYTHONPATH", "")])}
        install_gc_trace(str(trace))  # the load client (this process) too
        print(f"load client: {len(gc.get_objects()):,} objects tracked by the GC before the set-up", flush=True)
        floor_launch = procs.floor_app(db, data_dir=Path(tmp))
        floor_launch = dataclasses.replace(floor_launch, env={**floor_launch.env, **env})
        service_env = {**env, "THUDO_TRACE_SERVICE": "1", **dict(kv.split("=", 1) for kv in args.service_env)}
        with procs.running("floor app", floor_launch) as floor, \
                procs.running("service", procs.service(db, Path(tmp), service_env)) as svc:
            labels = {svc.base_url: scenario.name, floor.base_url: "floor"}
            bench_run.run_rate = probed_rate(windows, labels, pause_gc=not args.client_gc)  # type: ignore[attr-defined]
            print(f"database: {how}; load average {report.load_average()}; client GC during windows: "
                  f"{'on (the before)' if args.client_gc else 'paused (bench/rate.py)'}", flush=True)
            svc_pids = _session_pids(svc.proc.pid)
            floor_pids = _session_pids(floor.proc.pid)
            with PgActivity(db) as pg, CpuGroups({
                    "service": lambda: svc_pids, "floor": lambda: floor_pids, "client": lambda: [os.getpid()],
                    "postgres": lambda: list(pg.our_pids)}) as cpu:
                started = time.time()
                result = bench_run.measure(opts, floor.base_url, svc.base_url, db, Path(tmp), [scenario], [])
                ended = time.time()
            m = result.scenarios[0]
            if m.failure:
                print(f"{scenario.name} FAILED: {m.failure}")
                return 1
            by_pid = {pid: "service" for pid in svc_pids} | {pid: "floor" for pid in floor_pids}
            by_pid[os.getpid()] = "client"
            gcs: dict[str, list[tuple[float, int, float]]] = {"service": [], "floor": [], "client": []}
            for line in trace.read_text().splitlines() if trace.exists() else []:
                t, gen, ms, _, pid = line.split()
                who = by_pid.get(int(pid))
                if who:
                    gcs[who].append((float(t), int(gen), float(ms)))
            loop = [e for e in read_loop(loop_trace) if e[3] in svc_pids]
            print(f"closed loop {m.rps:,.0f} req/s; same work {m.same_rps:,.0f} req/s; load average "
                  f"{report.load_average()}", flush=True)
            for i, w in enumerate(windows, 1):
                r = w.result
                gen2 = [(g, d) for who, passes in gcs.items() for t, g, d in passes
                        if g == 2 and who == "client" and w.start <= t <= w.end]
                lag = max((late for _, late in w.lags), default=0.0)
                c = cpu.between(w.start, w.end)
                others = c.get("others", 0.0) / max(c.get("span", 1.0), 1.0) * 100
                flag = "  ← over 50 ms" if r.p99_ms >= 50 else ""
                print(f"{i:2d} {_clock(w.start)} {w.label} at {r.target_rps:,.0f} req/s: p50 {r.p50_ms:.1f} "
                      f"p95 {r.p95_ms:.1f} p99 {r.p99_ms:.1f} max {r.max_ms:.1f} ms{flag}; client: "
                      f"{len(gen2)} gen2 GC {'(' + ', '.join(f'{d:.0f} ms' for _, d in gen2) + ')' if gen2 else ''}"
                      f"loop late ≤ {lag:.0f} ms; service: loop late ≤ "
                      f"{max((d for t, k, d, _ in loop if k == 'lag' and w.start <= t <= w.end), default=0):.0f} ms, "
                      f"access-log writes ≥ 2 ms: "
                      f"{sum(1 for t, k, d, _ in loop if k == 'write' and w.start <= t <= w.end)} (longest "
                      f"{max((d for t, k, d, _ in loop if k == 'write' and w.start <= t <= w.end), default=0):.0f} ms)"
                      f"; others' CPU {others:.0f} % of one core; PostgreSQL: "
                      f"{', '.join(pg.between(w.start, w.end)) or 'quiet'}", flush=True)
                if r.p99_ms >= args.explain_over or args.explain_over <= 0:
                    print("\n".join(diagnose(w, gcs, loop, cpu, pg, args.top)), flush=True)
            for line in checkpoint_log(started, ended):
                print(f"server log: {line}")
            phases = [(w.start, w.end, f"window {i} ({w.label})") for i, w in enumerate(windows, 1)]
            for who, passes in gcs.items():
                for t, g, d in passes:
                    if started <= t <= ended and (g == 2 or d >= 20):
                        where = next((name for a, b, name in phases if a <= t <= b), "between windows / set-up")
                        print(f"{who} GC gen{g} {d:.0f} ms at {_clock(t)}: {where}")
            print(f"GC passes ≥ {SLOW_GC_MS} ms during the run: " + "; ".join(
                f"{who} {len([p for p in passes if started <= p[0] <= ended])} (gen2 "
                f"{', '.join(f'{d:.0f}' for t, g, d in passes if g == 2 and started <= t <= ended) or 'none'} ms)"
                for who, passes in gcs.items()))
            print(f"load average {report.load_average()}", flush=True)
        gc.callbacks.pop()  # the trace file goes with the temporary directory
    return 0


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
    p.add_argument("--scenario", help="instead of /me alone: bench.run's whole sequence for this scenario (set-up, "
                   "same-work capture, closed loop, open-loop windows of it and its same work by turns) with every "
                   "probe on — GC of service, floor app and load client, the client's event-loop lag, CPU and "
                   "run-queue wait per process group and the machine's, PostgreSQL autovacuum/checkpoints")
    p.add_argument("--warmup", type=float, default=1.0, help="with --scenario: warm-up seconds per target")
    p.add_argument("--database-url", help="with --scenario: an already migrated database (default: a fresh one)")
    p.add_argument("--embedded-postgres", action="store_true",
                   help="with --scenario: an embedded PostgreSQL of this run's own (autovacuum on, no other users)")
    p.add_argument("--client-gc", action="store_true",
                   help="with --scenario, the before: leave the load client's GC on during the windows")
    p.add_argument("--explain-over", type=float, default=20.0,
                   help="with --scenario: list the slowest requests of windows whose p99 is at least this (ms)")
    p.add_argument("--top", type=int, default=6, help="with --scenario: slow requests listed per window")
    args = p.parse_args(argv)
    if args.scenario:
        return timeline(args)
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
