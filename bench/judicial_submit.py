"""Judicial bench, in-process: submitting a request (which the HTTP bench cannot replay, every
submit needs a draft of its own), and round trips to PostgreSQL per request of every judicial row.

    uv run python -m bench.judicial_submit [--requests 400] [--rounds 3] [--concurrency 16]

Like ``bench.inproc``: the floor app and the real service app are called as ASGI applications in
this process (uvloop), ``--concurrency`` requests in flight, interleaved rounds; CPU µs and wall µs
per request, and the round trips each request makes to PostgreSQL (asyncpg calls that reach the
server, counted in this process: statements, BEGIN, COMMIT, the pool's reset on release).

Rows:
* ``floor`` and ``floor.in_transaction`` (bench/floor_app.py);
* ``judicial.draft`` — ``POST /api/v1/judicial/requests`` (the HTTP scenario of the same name);
* ``judicial.submit`` — ``POST /api/v1/judicial/requests/{id}/submit`` on ``--requests`` distinct drafts
  per round, made just before (not measured) by ``judicial.draft``'s citizens;
* ``judicial.queue`` and its same-work reference ``floor.judicial_queue_query``;
* ``floor.judicial_submit_sql`` — the same-work reference of ``judicial.submit`` (bench/floor_app.py), on
  distinct drafts made the same way;
* ``floor.judicial_draft_sql`` — the same-work reference of ``judicial.draft``, the same bodies and a fresh
  ``Idempotency-Key`` per request.

Writes the ``judicial`` section of docs/performance.md (the HTTP rows of the same scenarios are in
the ``http`` section, written by ``bench.run``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import uvloop

from bench import judicial_setup, report
from bench.database import postgres_version, run_database
from bench.floor_app import JUDICIAL_DRAFT_SQL_PATH, JUDICIAL_SUBMIT_SQL_PATH
from bench.inproc import Lifespan, _scope, _service
from bench.scenarios import FLOOR, REFERENCES, BenchContext, RequestSpec, select

ASGIApp = Any
SUBMIT_PATH = judicial_setup.REQUESTS + "/{id}/submit"
# quality.md: a write a mobile client retries makes at most four round trips, BEGIN/COMMIT and the
# idempotency row included.
WRITE_ROUND_TRIPS = 4


class RoundTrips:
    """Counts what reaches PostgreSQL through asyncpg in this process: every ``_execute`` (fetch,
    fetchrow, fetchval, execute with arguments) and every ``execute`` without arguments (BEGIN,
    COMMIT, the pool's reset query)."""

    def __init__(self) -> None:
        self.count = 0
        self.resets = 0

    @contextmanager
    def installed(self) -> Iterator[None]:
        conn_cls = asyncpg.connection.Connection
        orig_exec, orig_plain = conn_cls._execute, conn_cls.execute

        async def counted_execute(conn: Any, *args: Any, **kw: Any) -> Any:
            self.count += 1
            return await orig_exec(conn, *args, **kw)

        async def counted_plain(conn: Any, query: str, *args: Any, **kw: Any) -> Any:
            # With arguments it goes through _execute, counted there. The reset query that asyncpg's
            # default pool runs on release (the floor app's pool; the service's skips it) is a round
            # trip too, but it is counted apart so that the columns compare the requests' own work.
            if not args and query == conn.get_reset_query():
                self.resets += 1
            elif not args:
                self.count += 1
            return await orig_plain(conn, query, *args, **kw)

        conn_cls._execute, conn_cls.execute = counted_execute, counted_plain  # type: ignore[method-assign]
        try:
            yield
        finally:
            conn_cls._execute, conn_cls.execute = orig_exec, orig_plain  # type: ignore[method-assign]


@dataclass
class Sample:
    wall_us: float
    cpu_us: float
    round_trips: float
    statuses: dict[int, int]


@dataclass
class Row:
    name: str
    kind: str  # read | write | reference
    note: str = ""
    samples: list[Sample] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in self.samples)


async def _call(app: ASGIApp, scope: dict[str, Any], body: bytes) -> tuple[int, bytes]:
    status, chunks, sent = 0, [], False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


Plan = Callable[[int], tuple[str, dict[str, str], bytes]]  # i → path, headers, body


def plan_of(spec: RequestSpec) -> Plan:
    run_id = time.time_ns()

    def one(i: int) -> tuple[str, dict[str, str], bytes]:
        headers = dict(spec.headers[i % len(spec.headers)])
        if spec.idempotency_keys:
            headers["Idempotency-Key"] = f"judicial-{run_id}-{i}"
        return spec.path, headers, spec.bodies[i % len(spec.bodies)] if spec.bodies else b""
    return one


async def drive(app: ASGIApp, method: str, plan: Plan, requests: int, concurrency: int,
                trips: RoundTrips, keep: list[bytes] | None = None) -> Sample:
    statuses: dict[int, int] = {}
    counter = iter(range(requests))

    async def worker() -> None:
        for i in counter:
            path, headers, body = plan(i)
            status, out = await _call(app, _scope(method, path, headers, body), body)
            statuses[status] = statuses.get(status, 0) + 1
            if keep is not None:
                keep.append(out)

    trips.count = 0
    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Sample((time.perf_counter() - wall) / requests * 1e6, (time.process_time() - cpu) / requests * 1e6,
                  trips.count / requests, statuses)


async def measure(floor_app: ASGIApp, service_app: ASGIApp, specs: dict[str, RequestSpec], *, requests: int,
                  rounds: int, concurrency: int) -> list[Row]:
    trips = RoundTrips()
    rows = {name: Row(name, kind, note) for name, kind, note in (
        ("floor", "read", "one unique-index query, no transaction"),
        ("floor.in_transaction", "reference", "the floor's query in BEGIN … COMMIT"),
        ("judicial.draft", "write", "POST a pre-filled draft (Mẫu 03), idempotency row"),
        ("judicial.submit", "write", "POST …/submit: price by the rules of today, route, deadline, step, inbox"),
        ("judicial.queue", "read", "staff queue, page of 20"),
        ("floor.judicial_queue_query", "reference", "same SQL and rows as judicial.queue, bare app"),
        ("floor.judicial_submit_sql", "reference",
         "same SQL, rules and rows as judicial.submit, bare app (no auth, session check, middleware, logging)"),
        ("floor.judicial_draft_sql", "reference",
         "same SQL, use case and rows as judicial.draft (Idempotency-Key included), bare app"))}
    draft = specs["judicial.draft"]
    citizens = draft.headers

    async def drafts(n: int) -> list[tuple[str, str]]:
        """``n`` fresh drafts (not measured), as (request id, requester id)."""
        made: list[bytes] = []
        await drive(service_app, "POST", plan_of(draft), n, concurrency, trips, made)
        return [(d["id"], d["requester_id"]) for d in map(msgspec.json.decode, made)]

    by_user: dict[str, dict[str, str]] = {}
    body = b'{"accepted_amount_due":0}'

    async def owners() -> None:
        """Each citizen's id (plan_of rotates citizens by i, but completion order is not i's)."""
        for h in citizens:
            _, me = await _call(service_app, _scope("GET", "/api/v1/me", dict(h), b""), b"")
            by_user[msgspec.json.decode(me)["id"]] = dict(h)

    async def submit_round(n: int) -> Sample:
        if not by_user:
            await owners()
        made = await drafts(n)

        def one(i: int) -> tuple[str, dict[str, str], bytes]:
            rid, owner = made[i]
            return SUBMIT_PATH.format(id=rid), {"Content-Type": "application/json", **by_user[owner]}, body
        return await drive(service_app, "POST", one, n, concurrency, trips)

    async def submit_reference_round(n: int) -> Sample:
        made = await drafts(n)

        def one(i: int) -> tuple[str, dict[str, str], bytes]:
            rid, owner = made[i]
            return f"{JUDICIAL_SUBMIT_SQL_PATH}/{owner}/{rid}", {}, b""
        return await drive(floor_app, "POST", one, n, concurrency, trips)

    draft_plan_run = 0

    async def draft_reference_round(n: int) -> Sample:
        nonlocal draft_plan_run
        if not by_user:
            await owners()
        owner_of = {tuple(sorted(h.items())): uid for uid, h in by_user.items()}
        draft_plan_run += 1
        service_plan = plan_of(draft)

        def one(i: int) -> tuple[str, dict[str, str], bytes]:
            _, headers, body = service_plan(i)
            key = headers.pop("Idempotency-Key")
            owner = owner_of[tuple(sorted(headers.items()))]
            return (f"{JUDICIAL_DRAFT_SQL_PATH}/{owner}",
                    {"Content-Type": "application/json", "Idempotency-Key": f"{key}-ref{draft_plan_run}"}, body)
        return await drive(floor_app, "POST", one, n, concurrency, trips)

    targets: list[tuple[Row, Callable[[int], Any]]] = [
        (rows["floor"], lambda n: drive(floor_app, "GET", plan_of(specs["floor"]), n, concurrency, trips)),
        (rows["floor.in_transaction"],
         lambda n: drive(floor_app, "GET", plan_of(specs["floor.in_transaction"]), n, concurrency, trips)),
        (rows["judicial.draft"], lambda n: drive(service_app, "POST", plan_of(draft), n, concurrency, trips)),
        (rows["judicial.submit"], submit_round),
        (rows["judicial.queue"],
         lambda n: drive(service_app, "GET", plan_of(specs["judicial.queue"]), n, concurrency, trips)),
        (rows["floor.judicial_queue_query"],
         lambda n: drive(floor_app, "GET", plan_of(specs["floor.judicial_queue_query"]), n, concurrency, trips)),
        (rows["floor.judicial_submit_sql"], submit_reference_round),
        (rows["floor.judicial_draft_sql"], draft_reference_round),
    ]
    with trips.installed():
        async with Lifespan(floor_app), Lifespan(service_app):
            for _, run in targets:  # warm-up: statement caches, pools, token caches, key rings
                await run(min(100, requests))
            for _ in range(rounds):
                for row, run in targets:
                    sample = await run(requests)
                    row.samples.append(sample)
                    print(f"  {row.name}: {sample.cpu_us:.0f} µs CPU, {sample.wall_us:.0f} µs wall, "
                          f"{sample.round_trips:.2f} round trips per request, {sample.statuses}",
                          file=sys.stderr, flush=True)
    return list(rows.values())


def verdicts(rows: list[Row]) -> list[str]:
    by = {r.name: r for r in rows}
    out = []
    for name in ("judicial.draft", "judicial.submit"):
        trips = by[name].median("round_trips")
        ok = trips <= WRITE_ROUND_TRIPS
        out.append(f"| {name}: round trips per request | {trips:.1f} | ≤ {WRITE_ROUND_TRIPS} | "
                   f"{'meets' if ok else '**misses**'} |")
    for name, ref in (("judicial.queue", "floor.judicial_queue_query"),
                      ("judicial.submit", "floor.judicial_submit_sql"),
                      ("judicial.draft", "floor.judicial_draft_sql")):
        for what, metric in (("throughput, in-process", "wall_us"), ("CPU per request", "cpu_us")):
            ratio = by[ref].median(metric) / by[name].median(metric)
            out.append(f"| {name} ÷ its same-work reference ({what}) | {ratio:.2f} | ≥ 0.80 | "
                       f"{'meets' if ratio >= 0.80 else '**misses**'} |")
    return out


def render(rows: list[Row], opts: argparse.Namespace, machine: str) -> str:
    floor = rows[0]
    out = ["## Judicial: submit request and staff queue, in-process (CPU, round trips)", "",
           f"`uv run python -m bench.judicial_submit --requests {opts.requests} --rounds {opts.rounds} "
           f"--concurrency {opts.concurrency}` — floor app and service app called as ASGI apps in one process "
           "(no HTTP), interleaved rounds, medians. Throughput here = 1 / wall time per request at that "
           "concurrency; the PostgreSQL server shares the two cores.", "", machine, "",
           "| Target | CPU µs/request | wall µs/request | req/s | × floor (throughput) | round trips/request "
           "| statuses (last round) | What |",
           "|---|---:|---:|---:|---:|---:|---|---|"]
    for row in rows:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(row.samples[-1].statuses.items()))
        wall = row.median("wall_us")
        out.append(f"| {row.name} | {row.median('cpu_us'):.0f} | {wall:.0f} | {1e6 / wall:,.0f} | "
                   f"{floor.median('wall_us') / wall:.2f} | {row.median('round_trips'):.1f} | {statuses} | "
                   f"{row.note} |")
    out += ["", "| Check (quality.md) | Measured | Target | Verdict |", "|---|---:|---:|---|", *verdicts(rows)]
    return "\n".join(out)


def run(opts: argparse.Namespace, database_url: str | None = None) -> list[Row]:
    from api.platform.access_log import ACCESS_LOG
    from api.platform.app import create_app
    from api.platform.settings import load_settings
    from bench.floor_app import create_app as create_floor_app
    from bench.procs import BENCH_QUOTAS

    with run_database(database_url) as (db, how), \
            tempfile.TemporaryDirectory(prefix="thudo-judicial-") as tmp, _service(db, Path(tmp)) as service_url:
        ctx = BenchContext(service_url, db, Path(tmp))
        specs = {sc.name: sc.prepare(ctx) for sc in select(["judicial.draft", "judicial.queue"])}
        specs |= {sc.name: sc.prepare(ctx) for sc in REFERENCES
                  if sc.name in ("floor.in_transaction", "floor.judicial_queue_query")}
        specs["floor"] = FLOOR.prepare(ctx)
        settings = load_settings({**BENCH_QUOTAS, "DATABASE_URL": db, "DATA_DIR": tmp, "PUBLIC_BASE_URL": service_url,
                                  "ENVIRONMENT": "development", "STANDINS": "true", "RUN_WORKER": "false",
                                  "SEED_DEMO": "false", "LOG_LEVEL": "INFO"})
        sink, ACCESS_LOG.sink = ACCESS_LOG.sink, lambda _data: None
        try:
            rows = uvloop.run(measure(create_floor_app(db, tmp), create_app(settings), specs,
                                      requests=opts.requests, rounds=opts.rounds, concurrency=opts.concurrency))
        finally:
            ACCESS_LOG.sink = sink
        machine = report.machine(asyncio.run(postgres_version(db)), {
            "Load generator": f"none: {opts.concurrency} in-process ASGI calls in flight (uvloop)", "Database": how,
            "Load average (1/5/15 min)": report.load_average()})
    report.write_section("judicial", render(rows, opts, machine), opts.output)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.judicial_submit", description=__doc__.split("\n")[0])
    p.add_argument("--requests", type=int, default=400, help="requests per measurement (default 400)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument("--concurrency", type=int, default=16, help="requests in flight (default 16)")
    p.add_argument("--output", type=Path, default=report.DOC)
    opts = p.parse_args(argv)
    rows = run(opts)
    for row in rows:
        print(f"{row.name}: {row.median('cpu_us'):.0f} µs CPU, {row.median('round_trips'):.1f} round trips")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
