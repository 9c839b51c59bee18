"""Micro bench of the request path: CPU time per request, in-process, without HTTP or a load generator.

The HTTP bench (``bench.run``) shares two cores between wrk, granian, the app and PostgreSQL, so
a 10 % change in the app is lost in its noise. Here the floor app and the real service app are
called as ASGI applications in this process (on uvloop, as granian serves them), ``--concurrency``
requests at a time (so the pool and the event loop work as under load), and the process's own CPU
time per request is reported next to wall time. PostgreSQL runs in its own process, so CPU µs per
request is the Python side only: the framework, our code, asyncpg and the socket system calls.

Scenarios are those of ``bench/scenarios.py`` (plus its references, on the floor app): their
``setup`` runs against a real service process (which issues the tokens, through the VNeID
stand-in), and the in-process app shares its keys (``DATA_DIR``) and issuer, so the same tokens
verify.

Each scenario also gets its **same-work** row (``--same-work``, default on): its statements captured
from the real endpoint (``bench/samework.py``) and replayed by the floor app, as ``bench.run`` does over
HTTP; "÷ same work" is quality.md's overhead ratio, here in CPU per request. ``--profile DIR`` runs
cProfile around the service's measured drives (one ``.pstats`` file per scenario, plus a summary of
the top functions by own time on stderr) to see where the CPU goes beyond the reference.

    uv run python -m bench.inproc [--requests 3000] [--rounds 2] [--scenarios NAME ...] [--profile DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvloop

from bench import procs, report, samework
from bench.database import postgres_version, run_database
from bench.scenarios import FLOOR, REFERENCES, BenchContext, RequestSpec, Scenario, select

ASGIApp = Any
DEFAULT_SCENARIOS = ("identity.me", "feedback.my_reports", "feedback.create", "judicial.queue")


@dataclass
class Sample:
    wall_us: float
    cpu_us: float
    statuses: dict[int, int]


@dataclass
class Row:
    name: str
    kind: str
    samples: list[Sample] = field(default_factory=list)
    same_work_of: str = ""  # a same-work row: the scenario whose captured statements it replays
    round_trips: float = 0.0

    @property
    def cpu_us(self) -> float:
        return statistics.median(s.cpu_us for s in self.samples)

    @property
    def wall_us(self) -> float:
        return statistics.median(s.wall_us for s in self.samples)


def _scope(method: str, path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    path, _, query = path.partition("?")
    raw = [(b"host", b"bench.local")] + [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if body:
        raw.append((b"content-length", str(len(body)).encode()))
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
            "headers": raw, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80), "state": {}}


async def _call(app: ASGIApp, scope: dict[str, Any], body: bytes) -> int:
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def drive(app: ASGIApp, spec: RequestSpec, requests: int, concurrency: int) -> Sample:
    statuses: dict[int, int] = {}
    counter = iter(range(requests))
    run_id = time.time_ns()

    async def worker() -> None:
        for i in counter:
            headers = dict(spec.headers[i % len(spec.headers)])
            body = spec.bodies[i % len(spec.bodies)] if spec.bodies else b""
            if spec.idempotency_keys:
                headers["Idempotency-Key"] = f"inproc-{run_id}-{i}"
            status = await _call(app, _scope(spec.method, spec.path_at(i), headers, body), body)
            statuses[status] = statuses.get(status, 0) + 1

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Sample((time.perf_counter() - wall) / requests * 1e6, (time.process_time() - cpu) / requests * 1e6,
                  statuses)


class Lifespan:
    """The app's ASGI start-up and shut-down, run in this loop (its pool must live on the loop that serves it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[Any] | None = None

    async def _say(self, event: str) -> None:
        await self.inbox.put({"type": f"lifespan.{event}"})
        message = await self.outbox.get()
        if message["type"] != f"lifespan.{event}.complete":
            raise RuntimeError(f"app {event} failed: {message}")

    async def __aenter__(self) -> None:
        self.task = asyncio.get_running_loop().create_task(
            self.app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, self.inbox.get, self.outbox.put))
        await self._say("startup")

    async def __aexit__(self, *_: object) -> None:
        await self._say("shutdown")
        if self.task is not None:
            await self.task


async def measure(floor_app: ASGIApp, service_app: ASGIApp, targets: list[tuple[Scenario, RequestSpec]],
                  references: list[tuple[Scenario, RequestSpec]], floor_spec: RequestSpec, *, requests: int,
                  rounds: int, concurrency: int, same_work: dict[str, float] | None = None,
                  profile: Path | None = None) -> list[Row]:
    same_work = same_work or {}
    plan: list[tuple[Row, ASGIApp, RequestSpec]] = [(Row("floor", "read"), floor_app, floor_spec)]
    for sc, spec in targets:  # each scenario followed by its same work
        plan.append((Row(sc.name, sc.kind), service_app, spec))
        if sc.name in same_work:
            plan.append((Row(f"{sc.name} (same work)", "reference", same_work_of=sc.name,
                             round_trips=same_work[sc.name]),
                         floor_app, RequestSpec("GET", samework.PATH.format(name=sc.name), ({},))))
    plan += [(Row(sc.name, "reference"), floor_app, spec) for sc, spec in references]
    # The service's rows and their same work (the reference's profile is the other column of the comparison).
    profiles = {row.name: cProfile.Profile() for row, app, _ in plan
                if profile and (app is service_app or row.same_work_of)}
    async with Lifespan(floor_app), Lifespan(service_app):
        for _, app, spec in plan:  # warm-up: statement caches, pools, token caches (every token verified once)
            await drive(app, spec, max(min(300, requests), min(len(spec.headers), requests)), concurrency)
        for _ in range(rounds):  # interleaved, so drift of a noisy machine hits every row alike
            for row, app, spec in plan:
                prof = profiles.get(row.name)
                if prof is not None:
                    prof.enable()
                try:
                    row.samples.append(await drive(app, spec, requests, concurrency))
                finally:
                    if prof is not None:
                        prof.disable()
                print(f"  {row.name}: {row.samples[-1].cpu_us:.0f} µs CPU, {row.samples[-1].wall_us:.0f} µs wall "
                      f"per request, {row.samples[-1].statuses}", file=sys.stderr, flush=True)
    if profile:
        for name, prof in profiles.items():
            prof.dump_stats(profile / f"{name}.pstats")
            print(f"\n== {name}: top functions by own time (cProfile: absolute figures inflated) ==", file=sys.stderr)
            pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    return [row for row, _, _ in plan]


def render(rows: list[Row], opts: argparse.Namespace, machine: str) -> str:
    floor = rows[0]
    out = ["## Request path, in-process (CPU per request)", "",
           f"`uv run python -m bench.inproc --requests {opts.requests} --rounds {opts.rounds} "
           f"--concurrency {opts.concurrency}` — the floor app and the service app called as ASGI apps in one "
           "process (no HTTP, no load generator), interleaved; medians of the rounds. CPU is this process's "
           "own time (PostgreSQL runs apart). Not the verdict (that is the HTTP table above): a low-noise "
           "view of what our code costs per request.", "", machine, "",
           "| Target | CPU µs/request | wall µs/request | CPU × floor | floor's CPU ÷ target's | "
           "same work's CPU ÷ target's | statuses |",
           "|---|---:|---:|---:|---:|---:|---|"]
    same = {row.same_work_of: row for row in rows if row.same_work_of}
    for row in rows:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(row.samples[-1].statuses.items()))
        ref = same.get(row.name)
        vs_same = f"{ref.cpu_us / row.cpu_us:.2f}" if ref else ""
        out.append(f"| {row.name} | {row.cpu_us:.0f} | {row.wall_us:.0f} | {row.cpu_us / floor.cpu_us:.2f} | "
                   f"{floor.cpu_us / row.cpu_us:.2f} | {vs_same} | {statuses} |")
    return "\n".join(out)


@contextmanager
def _service(database_url: str, data_dir: Path) -> Iterator[str]:
    with procs.running("service", procs.service(database_url, data_dir)) as service:
        yield service.base_url


def run(opts: argparse.Namespace, scenarios: Sequence[Scenario], database_url: str | None = None) -> list[Row]:
    from api.platform.app import create_app
    from api.platform.settings import load_settings
    from bench.floor_app import create_app as create_floor_app
    from bench.procs import BENCH_QUOTAS

    with run_database(database_url) as (db, how), \
            tempfile.TemporaryDirectory(prefix="thudo-inproc-") as tmp, _service(db, Path(tmp)) as service_url:
        ctx = BenchContext(service_url, db, Path(tmp))
        targets = [(sc, sc.prepare(ctx)) for sc in scenarios]
        references = [(sc, sc.prepare(ctx)) for sc in REFERENCES] if opts.references else []
        floor_spec = FLOOR.prepare(BenchContext("", db, Path(tmp)))
        if opts.profile:
            opts.profile.mkdir(parents=True, exist_ok=True)
        same_work: dict[str, float] = {}
        if opts.same_work:  # saved under DATA_DIR, where the floor app's /same-work/{name} reads it
            for sc, spec in targets:
                if sc.same_work:
                    same_work[sc.name] = samework.capture(ctx, sc.name, spec, opts.captured).round_trips
        settings = load_settings({**BENCH_QUOTAS, "DATABASE_URL": db, "DATA_DIR": tmp, "PUBLIC_BASE_URL": service_url,
                                  "ENVIRONMENT": "development", "STANDINS": "true", "RUN_WORKER": "false",
                                  "SEED_DEMO": "false", "LOG_LEVEL": "INFO"})
        # Access lines are produced and encoded as in production, but not written to this terminal.
        from api.platform.access_log import ACCESS_LOG

        sink, ACCESS_LOG.sink = ACCESS_LOG.sink, lambda _data: None
        try:
            # uvloop: the event loop granian serves the app with in production.
            rows = uvloop.run(measure(create_floor_app(db, tmp), create_app(settings), targets, references, floor_spec,
                                      requests=opts.requests, rounds=opts.rounds, concurrency=opts.concurrency,
                                      same_work=same_work, profile=opts.profile))
        finally:
            ACCESS_LOG.sink = sink
        machine = report.machine(asyncio.run(postgres_version(db)), {
            "Load generator": f"none: {opts.concurrency} in-process ASGI calls in flight (uvloop)", "Database": how})
    report.write_section("inproc", render(rows, opts, machine), opts.output)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.inproc", description=__doc__.split("\n")[0])
    p.add_argument("--requests", type=int, default=3000, help="requests per measurement (default 3000)")
    p.add_argument("--rounds", type=int, default=2, help="interleaved rounds (default 2)")
    p.add_argument("--concurrency", type=int, default=16, help="requests in flight (default 16)")
    p.add_argument("--scenarios", nargs="*", default=list(DEFAULT_SCENARIOS))
    p.add_argument("--output", type=Path, default=report.DOC)
    p.add_argument("--no-references", dest="references", action="store_false",
                   help="skip the floor app's reference rows (bench/scenarios.py REFERENCES)")
    p.add_argument("--no-same-work", dest="same_work", action="store_false",
                   help="skip the same-work rows (bench/samework.py capture + floor-app replay)")
    p.add_argument("--captured", type=int, default=200, help="requests captured per scenario for its same work")
    p.add_argument("--profile", type=Path, default=None,
                   help="cProfile the service's measured drives; .pstats per scenario into this directory")
    opts = p.parse_args(argv)
    rows = run(opts, select(opts.scenarios))
    same = {row.same_work_of: row for row in rows if row.same_work_of}
    for row in rows:
        extra = (f", {same[row.name].cpu_us / row.cpu_us:.2f} of its same work's, "
                 f"{same[row.name].round_trips:.1f} round trips" if row.name in same else "")
        print(f"{row.name}: {row.cpu_us:.0f} µs CPU per request ({rows[0].cpu_us / row.cpu_us:.2f} of the floor's"
              f"{extra})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
