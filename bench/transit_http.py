"""HTTP bench of the validator API: online validation and the 1,000-tap batch upload, each against
the one-row floor and its same-work reference (bench/floor_app.py), plus round trips to PostgreSQL.

    uv run python -m bench.transit_http [--duration 5] [--windows 5] [--connections 32] [--write]

Why not ``bench.run``'s scenarios: wrk and the open-loop generator rotate a fixed set of pre-encoded
bodies, but a dynamic code lives 30 s and is accepted once (replay), and a tap id is stored once
(a repeated batch only meets ``ON CONFLICT``). So every request here carries a body made for it just
before its window: codes signed by reference phones, stamped with the time the request is scheduled
for; batches of 1,000 new tap ids.

What runs, against a fresh migrated + seeded database, the service (granian, one worker, as in
``bench.run``) and the floor app on the same machine:
* online validation — 8 citizens with a paid monthly pass, a bound phone and a credential; request i
  is pass i % 8, entering and leaving by turns (so anti-passback lets each through); every request
  is a new code the server has not seen (both signatures verified: the server's validator is cold).
  Maximum throughput closed loop (``--connections``), interleaved with the floor (GET /units/D002)
  and the same-work reference (``POST /transit-validate-sql``: the live-state read and the tap insert
  no transaction, as the service's; no crypto); then latency open loop at half of each one's own maximum
  (``bench/rate.py``: scheduled times, no coordinated omission), ``--windows`` windows, median and
  worst p99. quality.md: online validation ≥ 0.50 of the one-row floor, p99 < 100 ms (a write).
* 1,000-tap batch — batches of 1,000 new taps uploaded one after another on one connection (with a
  fresh Idempotency-Key, as a gate retrying would send), against the reference decoding the same JSON
  into the same structs and running the same insert. quality.md: ≤ 2× the reference's time.
* round trips — the same requests made in this process to the app (ASGI, same database and keys),
  counting every statement asyncpg sends (bench/judicial_submit.py ``RoundTrips``), for validation,
  the batch and a pass purchase (new orders; the same orders bought again under new keys). quality.md: a
  write a mobile client retries ≤ 4 (purchase).
* ``--inproc`` — instead of the HTTP windows: the floor, online validation and its same-SQL reference
  called as ASGI apps in this process (as ``bench.inproc``), CPU µs per request, interleaved rounds;
  validation twice, with the process's memory of verified credentials (a rider's credential seen
  before: one signature) and without it (both signatures); plus one bare ECDSA verification timed
  in the same process, which gives the ratio to the floor that the signatures alone allow. The
  low-noise A/B on a shared machine (the HTTP ratio stays the verdict).
Writes the ``transit-http`` (or ``transit-inproc``) section of docs/transit-performance.md with ``--write``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import uvloop

from adapters.postgres.pool import connect
from bench import procs, report
from bench.database import postgres_version, run_database
from bench.floor_app import FLOOR_PATH, TRANSIT_TAPS_SQL_PATH, TRANSIT_VALIDATE_SQL_PATH
from bench.inproc import Lifespan, _scope
from bench.judicial_submit import RoundTrips, _call
from bench.rate import _Encoder, _read_response, run_rate
from bench.scenarios import RequestSpec

OUT = Path(__file__).resolve().parents[1] / "docs" / "transit-performance.md"
VALIDATE_PATH = "/api/v1/transit/validator/validate"
TAPS_PATH = "/api/v1/transit/validator/taps"
RIDERS = 8
BATCH = 1000
JSON = {"Content-Type": "application/json"}
ONLINE_STOP = "ONLINE-L3-01"  # tells the online validations' taps from the uploaded ones


@dataclass
class Riders:
    """Phones with installed credentials, their passes, and the validator's token."""

    phones: list[Any]
    pass_ids: list[uuid.UUID]
    device_subjects: list[bytes]
    gate: dict[str, str]
    validator_id: uuid.UUID
    citizen: dict[str, str]
    card_id: str
    holder: dict[str, str]  # the first rider's headers: a paid pass (pass_ids[0]) and a bound phone


def setup(base_url: str, database_url: str) -> Riders:
    from adapters.transit_crypto.mobile import ReferencePhone
    from domain.transit.denylist import device_subject
    from tests.support import auth, transit_api

    phones, passes, subjects, holders = [], [], [], []
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for _ in range(RIDERS):
            citizen = auth.login(http)
            holders.append(citizen.headers)
            pass_id = transit_api.paid_pass(http, database_url, citizen)
            phone = transit_api.bind_phone(http, citizen, ReferencePhone())
            transit_api.install_credential(http, citizen, pass_id, phone)
            phones.append(phone)
            passes.append(uuid.UUID(pass_id))
            subjects.append(device_subject(phone.public_key))
        buyer = auth.login(http)
        card = transit_api.open_card(http, buyer)
        gate = auth.client_token(http, database_url, kind="validator")
    return Riders(phones, passes, subjects, {"Authorization": f"Bearer {gate.access_token}"}, gate.id,
                  buyer.headers, card["id"], holders[0])


def _direction(i: int) -> str:
    return "in" if (i // RIDERS) % 2 == 0 else "out"


def validate_bodies(r: Riders, n: int, start: float, rate: float) -> tuple[bytes, ...]:
    """Request i: a new code of pass i % RIDERS, stamped for when it is scheduled (start + i / rate)."""
    from tests.support.transit_api import b64u

    return tuple(msgspec.json.encode({
        "code": b64u(r.phones[i % RIDERS].code(int(start + i / rate))), "network": 2, "route": 3,
        "direction": _direction(i), "stop": ONLINE_STOP, "tap_id": str(uuid.uuid4())}) for i in range(n))


def reference_bodies(r: Riders, n: int, start: float, rate: float) -> tuple[bytes, ...]:
    """The same facts as ``validate_bodies`` after decoding and verification: what the SQL needs."""
    return tuple(msgspec.json.encode({
        "tap_id": str(uuid.uuid4()), "validator_id": str(r.validator_id), "pass_id": str(r.pass_ids[i % RIDERS]),
        "device_subject": r.device_subjects[i % RIDERS], "timestamp": int(start + i / rate), "counter": i & 0xFFFF,
        "direction": _direction(i), "network": 2, "route": 3, "stop": ONLINE_STOP}) for i in range(n))


def tap_batch(pass_ids: list[uuid.UUID]) -> bytes:
    now = datetime.now(UTC)
    base = int(now.timestamp())
    return msgspec.json.encode({"taps": [{
        "id": str(uuid.uuid4()), "medium": "pass", "subject_id": str(pass_ids[i % len(pass_ids)]),
        "direction": "in" if i % 2 == 0 else "out", "network": 2, "route": 3, "stop": f"L3-{i % 12:02d}",
        "occurred_at": (now - timedelta(seconds=BATCH - i)).isoformat(), "code_timestamp": base - (BATCH - i),
        "counter": i % 100, "accepted": True} for i in range(BATCH)]})


@dataclass
class Loop:
    completed: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rps(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0


async def closed_loop(base_url: str, spec: RequestSpec, duration: float, connections: int) -> Loop:
    """``connections`` keep-alive connections, each sending its next request when the last answered,
    for ``duration`` seconds or until the spec's bodies run out (each body is sent once)."""
    host, port = base_url.removeprefix("http://").split(":")
    encode = _Encoder(spec, f"{host}:{port}")
    limit = len(spec.bodies) if spec.bodies else 10**9
    counter = iter(range(limit))
    out = Loop()
    stop_at = time.perf_counter() + duration

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for i in counter:
                if time.perf_counter() >= stop_at:
                    break
                t0 = time.perf_counter()
                writer.write(encode(i))
                status, _ = await _read_response(reader)
                out.latencies.append((time.perf_counter() - t0) * 1000)
                if 200 <= status < 300:
                    out.completed += 1
                else:
                    out.errors += 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    out.seconds = time.perf_counter() - start
    return out


@dataclass
class Target:
    name: str
    spec: Callable[[int, float, float], RequestSpec]  # (requests, start, rate) -> spec with fresh bodies
    url: str
    max_rps: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    errors: int = 0


def measure_validation(opts: argparse.Namespace, floor_url: str, service_url: str, r: Riders) -> list[Target]:
    floor = RequestSpec("GET", FLOOR_PATH, ({},))
    targets = [
        Target("floor (one-row query)", lambda n, s, rate: floor, floor_url),
        Target("transit.validate", lambda n, s, rate: RequestSpec(
            "POST", VALIDATE_PATH, ({**JSON, **r.gate},), validate_bodies(r, n, s, rate)), service_url),
        Target("reference: same SQL", lambda n, s, rate: RequestSpec(
            "POST", TRANSIT_VALIDATE_SQL_PATH, (JSON,), reference_bodies(r, n, s, rate)), floor_url),
    ]
    budget = 4000  # requests prepared per closed-loop window (more than one window can send here)
    for _ in range(opts.windows):                      # maximum throughput, interleaved
        for t in targets:
            spec = t.spec(budget, time.time(), 1500.0)
            got = asyncio.run(closed_loop(t.url, spec, opts.duration, opts.connections))
            t.max_rps.append(got.rps)
            t.errors += got.errors
            print(f"  max {t.name}: {got.rps:,.0f}/s ({got.errors} errors)", file=sys.stderr, flush=True)
    for _ in range(opts.windows):                      # latency at half of each one's own maximum, open loop
        for t in targets:
            rate = statistics.median(t.max_rps) / 2
            spec = t.spec(int(rate * opts.duration) + 1, time.time(), rate)
            got = asyncio.run(run_rate(t.url, spec, rate=rate, duration=opts.duration, connections=opts.connections))
            t.p50.append(got.p50_ms)
            t.p99.append(got.p99_ms)
            t.errors += got.errors
            print(f"  at {rate:,.0f}/s {t.name}: p50 {got.p50_ms:.1f} p99 {got.p99_ms:.1f} ms "
                  f"({got.errors} errors)", file=sys.stderr, flush=True)
    return targets


def measure_batches(opts: argparse.Namespace, floor_url: str, service_url: str, r: Riders) -> dict[str, list[float]]:
    """Per-batch milliseconds, one connection, batches back to back; ours and the reference by turns."""
    out: dict[str, list[float]] = {"ours": [], "reference": []}
    n = max(3, int(opts.duration * 4))
    for _ in range(opts.windows):
        for side, url, path, headers, idem in (
                ("ours", service_url, TAPS_PATH, {**JSON, **r.gate}, True),
                ("reference", floor_url, f"{TRANSIT_TAPS_SQL_PATH}/{r.validator_id}", JSON, False)):
            spec = RequestSpec("POST", path, (headers,), tuple(tap_batch(r.pass_ids) for _ in range(n)), idem)
            got = asyncio.run(closed_loop(url, spec, opts.duration, 1))
            if got.errors:
                raise SystemExit(f"{side}: {got.errors} batches failed")
            out[side].extend(got.latencies)
            print(f"  batch {side}: median {statistics.median(got.latencies):.1f} ms over {got.completed}",
                  file=sys.stderr, flush=True)
    return out


async def count_round_trips(app: Any, r: Riders, requests: int) -> dict[str, float]:
    """Statements sent to PostgreSQL per request, the app called in this process."""
    trips = RoundTrips()
    results: dict[str, float] = {}
    today = datetime.now(UTC).date().isoformat()
    from adapters.postgres.transit.seed import product_id

    async def per_request(name: str, path: str, headers: dict[str, str], bodies: list[bytes],
                          idem: bool = False) -> None:
        trips.count = 0
        for body in bodies:
            extra = {"Idempotency-Key": f"rt-{uuid.uuid4()}"} if idem else {}
            status, out = await _call(app, _scope("POST", path, {**headers, **extra}, body), body)
            if not 200 <= status < 300:
                raise SystemExit(f"{name}: {status} {out[:300]!r}")
        results[name] = trips.count / len(bodies)

    with trips.installed():
        async with Lifespan(app):
            start = time.time()
            await per_request("transit.validate", VALIDATE_PATH, {**JSON, **r.gate},
                              list(validate_bodies(r, requests, start, 1000.0)))
            await per_request("transit.taps (1,000)", TAPS_PATH, {**JSON, **r.gate},
                              [tap_batch(r.pass_ids) for _ in range(3)], idem=True)
            # A new order each time (its own start date): the phone's purchase, retried with its key. Then
            # the same order bought again under new keys: the order's intent exists and is reused.
            orders = [msgspec.json.encode({"card_id": r.card_id, "product_id": str(product_id("metro-day")),
                                           "start_date": (date.fromisoformat(today) + timedelta(days=40 + n))
                                           .isoformat()}) for n in range(5)]
            await per_request("transit.purchase", "/api/v1/transit/purchases", {**JSON, **r.citizen},
                              orders, idem=True)
            await per_request("transit.purchase (same order again)", "/api/v1/transit/purchases",
                              {**JSON, **r.citizen}, orders, idem=True)
            # A read: the pass, the phone's binding and the session check in one statement (the credential is
            # signed in Python). Was four: BEGIN with the session check, the pass, the binding, COMMIT.
            await per_request("transit.pass_credential", f"/api/v1/transit/passes/{r.pass_ids[0]}/credential",
                              r.holder, [b""] * 3)
    return results


@dataclass
class InprocRow:
    name: str
    what: str
    samples: list[Any] = field(default_factory=list)  # bench.inproc.Sample

    def median(self, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in self.samples)


async def measure_inproc(floor_app: Any, service_app: Any, r: Riders, requests: int, rounds: int,
                         concurrency: int) -> tuple[list[InprocRow], float]:
    """CPU µs per request of each row, in-process, interleaved; and one bare ECDSA verify's µs."""
    from api.transit.wiring import TransitServices
    from bench.inproc import drive
    from bench.transit_verify import BareVerify
    from domain.transit.validation import VerifiedCredentials

    floor = RequestSpec("GET", FLOOR_PATH, ({},))
    rows = [
        (InprocRow("floor", "one indexed single-row query, no transaction"), floor_app, lambda: floor, True),
        (InprocRow("transit.validate", "credential seen before by this process: the device signature only"),
         service_app, lambda: RequestSpec("POST", VALIDATE_PATH, ({**JSON, **r.gate},),
                                          validate_bodies(r, requests, time.time(), 2000.0)), True),
        (InprocRow("transit.validate (cold)", "no memory of verified credentials: both signatures"),
         service_app, lambda: RequestSpec("POST", VALIDATE_PATH, ({**JSON, **r.gate},),
                                          validate_bodies(r, requests, time.time(), 2000.0)), False),
        (InprocRow("reference: same SQL", "the live-state read and the tap insert (no transaction, as ours), bare app"),
         floor_app, lambda: RequestSpec("POST", TRANSIT_VALIDATE_SQL_PATH, (JSON,),
                                        reference_bodies(r, requests, time.time(), 2000.0)), True),
    ]
    bare = BareVerify()
    bare_us: list[float] = []
    async with Lifespan(floor_app), Lifespan(service_app):
        services = service_app.state.container.get(TransitServices)
        shared = services.credentials
        for round_ in range(rounds + 1):  # round 0 warms statement caches, pools and the credential memory
            for row, app, spec, remember in rows:
                services.credentials = shared if remember else VerifiedCredentials(size=0)
                sample = await drive(app, spec(), requests if round_ else min(300, requests), concurrency)
                if round_:
                    row.samples.append(sample)
                    print(f"  {row.name}: {sample.cpu_us:.0f} µs CPU, {sample.wall_us:.0f} µs wall, {sample.statuses}",
                          file=sys.stderr, flush=True)
            services.credentials = shared
            cpu = time.process_time()
            bare.time(2000)
            bare_us.append((time.process_time() - cpu) / 2000 * 1e6)
    return [row for row, *_ in rows], statistics.median(bare_us)


def render_inproc(opts: argparse.Namespace, machine: str, rows: list[InprocRow], bare_us: float,
                  trips: dict[str, float]) -> str:
    floor = rows[0].median("cpu_us")
    lines = ["## Online validation in-process: CPU per request (bench/transit_http.py --inproc)", "", machine, "",
             f"`uv run python -m bench.transit_http --inproc --requests {opts.requests} --rounds {opts.rounds} "
             f"--concurrency {opts.concurrency}`; load {report.load_average()}. The floor app and the service app "
             "called as ASGI apps in this process (no HTTP), interleaved rounds, medians; CPU is this process's "
             "own (PostgreSQL runs apart). Every request a new code.", "",
             "| row | CPU µs/request | wall µs/request | floor's CPU ÷ row's | statuses (last round) | what |",
             "| --- | ---: | ---: | ---: | --- | --- |"]
    for row in rows:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(row.samples[-1].statuses.items()))
        lines.append(f"| {row.name} | {row.median('cpu_us'):.0f} | {row.median('wall_us'):.0f} | "
                     f"{floor / row.median('cpu_us'):.2f} | {statuses} | {row.what} |")
    lines += ["", f"One bare ECDSA P-256 verification (`cryptography`, key parsed) in this process: **{bare_us:.0f} "
              "µs**. An endpoint that cost the floor plus the signatures alone would reach "
              f"{floor / (floor + bare_us):.2f} of the floor with one verification (credential seen before) and "
              f"{floor / (floor + 2.5 * bare_us):.2f} with a cold code's two plus the device key's decompression "
              "(≈ 2.5 verifications, bench/transit_verify.py).", "",
              "Round trips to PostgreSQL per request (BEGIN and COMMIT included): " +
              ", ".join(f"{name} {n:.1f}" for name, n in trips.items()) + "."]
    return "\n".join(lines) + "\n"


def _inproc(opts: argparse.Namespace, db: str, tmp: str, service_url: str) -> str:
    from api.platform.access_log import ACCESS_LOG
    from bench.floor_app import create_app as create_floor_app

    riders = setup(service_url, db)
    settings = _settings(db, tmp, service_url, "INFO")
    sink, ACCESS_LOG.sink = ACCESS_LOG.sink, lambda _data: None  # access lines encoded as in production, not shown
    try:
        rows, bare_us = uvloop.run(measure_inproc(create_floor_app(db, tmp), _service_app(settings), riders,
                                                  opts.requests, opts.rounds, opts.concurrency))
    finally:
        ACCESS_LOG.sink = sink
    trips = asyncio.run(count_round_trips(_service_app(_settings(db, tmp, service_url, "WARNING")), riders,
                                          opts.round_trip_requests))
    machine = report.machine(asyncio.run(postgres_version(db)), {
        "Load generator": f"none: {opts.concurrency} in-process ASGI calls in flight (uvloop)"})
    return render_inproc(opts, machine, rows, bare_us, trips)


def _settings(db: str, tmp: str, service_url: str, log_level: str) -> Any:
    from api.platform.settings import load_settings

    return load_settings({**procs.BENCH_QUOTAS, "DATABASE_URL": db, "DATA_DIR": tmp, "PUBLIC_BASE_URL": service_url,
                          "ENVIRONMENT": "development", "STANDINS": "true", "RUN_WORKER": "false",
                          "SEED_DEMO": "false", "LOG_LEVEL": log_level})


def _service_app(settings: Any) -> Any:
    from api.platform.app import create_app

    return create_app(settings)


@contextmanager
def _servers(db: str, data_dir: Path) -> Iterator[tuple[str, str]]:
    with procs.running("floor app", procs.floor_app(db, data_dir=data_dir)) as floor, \
            procs.running("service", procs.service(db, data_dir)) as service:
        yield floor.base_url, service.base_url


async def _online_verdicts(db: str) -> str:
    """How the service's online validations ended (the reference's taps are told apart by validator)."""
    import asyncpg

    conn = await asyncpg.connect(db)
    try:
        rows = await conn.fetch("SELECT coalesce(reason, 'accepted') AS r, count(*) AS n FROM transit_taps "
                                "WHERE stop = $1 GROUP BY 1 ORDER BY 2 DESC", ONLINE_STOP)
    finally:
        await conn.close()
    return ", ".join(f"{r['r']} {r['n']:,}" for r in rows)


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def render(opts: argparse.Namespace, machine: str, targets: list[Target], batches: dict[str, list[float]],
           trips: dict[str, float], verdicts: str) -> str:
    med = statistics.median
    floor, ours, ref = targets
    lines = ["## Validator API over HTTP (bench/transit_http.py)", "", machine, "",
             f"`uv run python -m bench.transit_http --duration {opts.duration} --windows {opts.windows} "
             f"--connections {opts.connections}`; load {report.load_average()}. Every request carries a body made "
             "for it (a new code, new tap ids). Medians of the windows; p99 median and worst.", "",
             "### Online validation", "",
             "| target | max req/s (closed loop) | × floor | p50 ms at ½ max | p99 ms (median / worst) | errors |",
             "| --- | --- | --- | --- | --- | --- |"]
    for t in targets:
        lines.append(f"| {t.name} | {med(t.max_rps):,.0f} | {med(t.max_rps) / med(floor.max_rps):.2f} "
                     f"| {med(t.p50):.1f} | {med(t.p99):.1f} / {max(t.p99):.1f} | {t.errors} |")
    ratio = med(ours.max_rps) / med(floor.max_rps)
    lines += ["", f"Online validation / one-row floor = **{ratio:.2f}** (target ≥ 0.50: "
              f"{'met' if ratio >= 0.5 else 'MISSED'}); / its same-work reference (the SQL alone, no code "
              f"decoding or signatures) = **{med(ours.max_rps) / med(ref.max_rps):.2f}**; p99 "
              f"{med(ours.p99):.1f} ms (target < 100 ms: {'met' if med(ours.p99) < 100 else 'MISSED'}).",
              f"Verdicts of the validations (service and reference, taps stored): {verdicts} — a refusal (anti-"
              "passback when concurrent requests of one pass overtake each other) runs the same statements.", "",
              "### 1,000-tap batch upload", "",
              "| side | median ms / batch | p90 ms | batches |", "| --- | --- | --- | --- |"]
    for side, values in batches.items():
        name = "POST /validator/taps (auth, JSON, idempotency row, UploadTaps)" if side == "ours" \
            else "reference: same JSON decoded, same INSERT, BEGIN … COMMIT"
        lines.append(f"| {name} | {med(values):.1f} | {_p90(values):.1f} | {len(values)} |")
    b = med(batches["ours"]) / med(batches["reference"])
    lines += ["", f"Batch ours / reference = **{b:.2f}** (target ≤ 2.0: {'met' if b <= 2 else 'MISSED'}).", "",
              "### Round trips to PostgreSQL per request (BEGIN and COMMIT included)", "",
              "| request | round trips |", "| --- | --- |"]
    lines += [f"| {name} | {n:.1f} |" for name, n in trips.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=5.0, help="seconds per window (default 5)")
    p.add_argument("--windows", type=int, default=5, help="interleaved windows (default 5)")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--round-trip-requests", type=int, default=20)
    p.add_argument("--round-trips-only", action="store_true", help="count round trips, skip the HTTP measurements")
    p.add_argument("--inproc", action="store_true", help="in-process CPU per request of online validation instead "
                   "of the HTTP windows")
    p.add_argument("--requests", type=int, default=2000, help="--inproc: requests per row and round (default 2000)")
    p.add_argument("--rounds", type=int, default=3, help="--inproc: interleaved rounds (default 3)")
    p.add_argument("--concurrency", type=int, default=16, help="--inproc: requests in flight (default 16)")
    p.add_argument("--database-url")
    p.add_argument("--write", action="store_true", help=f"write the result into docs/{OUT.name}")
    opts = p.parse_args(argv)
    with run_database(opts.database_url) as (db, how), tempfile.TemporaryDirectory(prefix="thudo-transit-") as tmp:
        asyncio.run(_seed_reference(db))
        with _servers(db, Path(tmp)) as (floor_url, service_url):
            if opts.inproc:
                text = _inproc(opts, db, tmp, service_url)
                print(text)
                if opts.write:
                    report.write_section("transit-inproc", text, OUT)
                return 0
            measured = _measure(opts, db, tmp, floor_url, service_url)
        machine = report.machine(asyncio.run(postgres_version(db)), {"Database": how})
    if opts.round_trips_only:
        print("\n".join(f"{name}: {n:.1f} round trips" for name, n in measured[2].items()))
        return 0
    text = render(opts, machine, *measured)
    print(text)
    if opts.write:
        report.write_section("transit-http", text, OUT)
    return 0


async def _seed_reference(db: str) -> None:
    """The transit reference data (categories, products, fares), as ``thudo seed`` writes it."""
    from adapters.postgres.transit.seed import seed_transit

    conn = await connect(db)
    try:
        await seed_transit(conn)
    finally:
        await conn.close()


def _measure(opts: argparse.Namespace, db: str, tmp: str, floor_url: str, service_url: str
             ) -> tuple[list[Target], dict[str, list[float]], dict[str, float], str]:
    riders = setup(service_url, db)
    targets = [] if opts.round_trips_only else measure_validation(opts, floor_url, service_url, riders)
    batches = {} if opts.round_trips_only else measure_batches(opts, floor_url, service_url, riders)
    trips = asyncio.run(count_round_trips(_service_app(_settings(db, tmp, service_url, "WARNING")), riders,
                                          opts.round_trip_requests))
    return targets, batches, trips, asyncio.run(_online_verdicts(db))


if __name__ == "__main__":
    raise SystemExit(main())
