"""City-scale "open the app": small data set versus city scale, same run, alternating rounds.

    uv run python -m bench.open_app [--citizens 1000000] [--reports 10000000] [--health 10000000]
        [--passes 1000000] [--taps-per-pass 10] [--inbox-per-citizen 10] [--rate 20] [--duration 10]

One "open" is what the app sends when a citizen opens it, in parallel as the app does: inbox page,
unread count, my reports, health timeline and a fresh pass credential. Two services run side by side,
one on a small (seeded) database and one on a database holding the city-scale synthetic data
(bench/scale.py + bench/city_data.py, generated inside PostgreSQL). Opens are scheduled at a fixed
rate (open loop, latency from the scheduled time as in bench/rate.py), rounds alternate between the
two services, and the report gives per call and for the whole open the median and the worst of the
rounds. quality.md: p99 of each indexed read at city scale within 2x of the small data set.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from adapters.postgres.pool import connect
from api.platform.cli import seed_reference
from bench import city_data, procs, report, scale
from bench.database import bench_database, postgres_version, server_url
from bench.rate import _read_response, percentile
from tests.support import auth, transit_api

CALLS = (
    ("inbox", "GET", "/api/v1/me/inbox?limit=20"),
    ("unread", "GET", "/api/v1/me/inbox/unread-count"),
    ("my_reports", "GET", "/api/v1/feedback/reports?limit=20"),
    ("health_timeline", "GET", "/api/v1/health-record/timeline?limit=20"),
    ("pass_credential", "POST", "/api/v1/transit/passes/{pass_id}/credential"),
)
BUDGET = 2.0
LARGE_TABLES = ["users", "feedback_reports", "health_resources", "transit_passes", "transit_taps", "notification_inbox"]


@dataclass
class Probe:
    headers: dict[str, str]
    pass_id: str


@dataclass
class Round:
    open_ms: list[float] = field(default_factory=list)
    calls: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)


def make_probes(base_url: str, database_url: str, n: int) -> list[Probe]:
    """n citizens with 30 reports, 30 inbox rows, a health record, a paid pass and a bound phone."""
    from bench import setup_feedback

    probes, users = [], []
    with httpx.Client(base_url=base_url, timeout=30) as http:
        setup_feedback._STATE["category_id"] = setup_feedback._category_id(http)
        for _ in range(n):
            citizen = auth.login(http)
            for i in range(30):
                http.post(
                    "/api/v1/feedback/reports", json=setup_feedback.report_body(i), headers=citizen.headers
                ).raise_for_status()
            pass_id = transit_api.paid_pass(http, database_url, citizen)
            transit_api.bind_phone(http, citizen)
            probes.append(Probe(citizen.headers, pass_id))
            users.append(citizen.user_id)

    async def data() -> None:
        conn = await connect(database_url)
        try:
            template = await city_data.health_template(conn)
            await city_data.give_health(conn, template, users)
            await city_data.inbox_for_probes(conn, users)
        finally:
            await conn.close()

    asyncio.run(data())
    return probes


def _request(method: str, path: str, headers: dict[str, str], host: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items())]
    if method == "POST":
        lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def run_opens(
    base_url: str, probes: list[Probe], rate: float, duration: float, connections: int = 32, call_timeout: float = 10.0
) -> Round:
    """Open loop: open i is due at t0 + i / rate; its five calls go out at once over pooled connections."""
    host, port = base_url.removeprefix("http://").split(":")
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(None)
    out = Round(calls={name: [] for name, _, _ in CALLS})

    async def call(name: str, raw: bytes, due: float) -> float:
        conn = await pool.get()
        try:
            if conn is None:
                conn = await asyncio.open_connection(host, int(port))
            conn[1].write(raw)
            status, keep = await asyncio.wait_for(_read_response(conn[0]), call_timeout)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            out.errors[name] = out.errors.get(name, 0) + 1
            pool.put_nowait(None)
            return float("nan")
        pool.put_nowait(conn if keep else None)
        if not 200 <= status < 300:
            out.errors[f"{name} {status}"] = out.errors.get(f"{name} {status}", 0) + 1
        ms = (time.perf_counter() - due) * 1000
        out.calls[name].append(ms)
        return ms

    async def one_open(i: int, due: float) -> None:
        p = probes[i % len(probes)]
        raws = [
            (name, _request(m, path.format(pass_id=p.pass_id), p.headers, f"{host}:{port}")) for name, m, path in CALLS
        ]
        got = await asyncio.gather(*(call(name, raw, due) for name, raw in raws))
        if all(g == g for g in got):  # no NaN: every call answered
            out.open_ms.append(max(got))

    tasks = []
    t0 = time.perf_counter() + 0.05
    for i in range(int(rate * duration)):
        due = t0 + i / rate
        if (delay := due - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one_open(i, due)))
    await asyncio.gather(*tasks)
    while not pool.empty():
        if (c := pool.get_nowait()) is not None:
            c[1].close()
    return out


def pct(values: list[float]) -> tuple[float, float, float]:
    s = sorted(values)
    return percentile(s, 50), percentile(s, 95), percentile(s, 99)


async def generate(url: str, opts: argparse.Namespace) -> dict[str, float]:
    await _seed(url)
    took = await scale.load(url, opts.citizens, opts.reports)
    conn = await connect(url)
    try:
        await city_data.bulk_session(conn)
        t = time.perf_counter()
        template = await city_data.health_template(conn)
        await city_data.health_bulk(conn, template, opts.health, t)
        took["health"] = time.perf_counter() - t
        t = time.perf_counter()
        await city_data.transit_bulk(conn, opts.passes, opts.taps_per_pass, t)
        took["passes + taps"] = time.perf_counter() - t
        t = time.perf_counter()
        await city_data.inbox_bulk(conn, opts.citizens, opts.inbox_per_citizen, t)
        took["inbox"] = time.perf_counter() - t
        t = time.perf_counter()
        for table in [*LARGE_TABLES, "health_patients", "health_encounters", "transit_cards"]:
            await conn.execute(f"VACUUM ANALYZE {table}")
        took["vacuum analyze (all city tables)"] = time.perf_counter() - t
    finally:
        await conn.close()
    return took


async def sizes_of(url: str) -> dict[str, tuple[int, int, int]]:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("ANALYZE")
        return await city_data.table_sizes(conn, LARGE_TABLES)
    finally:
        await conn.close()


def _fmt(rounds: list[Round], pick: Any) -> tuple[str, float]:
    """'p50 / p95 / p99 (worst p99)' over the rounds (median of each), and the median p99."""
    ps = [pct(pick(r)) for r in rounds if pick(r)]
    if not ps:
        return "—", float("nan")
    med = [statistics.median(p[k] for p in ps) for k in range(3)]
    return f"{med[0]:.1f} / {med[1]:.1f} / {med[2]:.1f} (worst {max(p[2] for p in ps):.1f})", med[2]


def render(
    opts: argparse.Namespace,
    machine: str,
    results: dict[str, list[Round]],
    sizes: dict[str, dict[str, tuple[int, int, int]]],
    took: dict[str, float],
) -> str:
    cmd = (
        f"uv run python -m bench.open_app --citizens {opts.citizens} --reports {opts.reports} "
        f"--health {opts.health} --passes {opts.passes} --taps-per-pass {opts.taps_per_pass} "
        f"--inbox-per-citizen {opts.inbox_per_citizen} --rate {opts.rate:g} --duration {opts.duration:g} "
        f"--rounds {opts.rounds} --probes {opts.probes}"
    )
    out = [
        '## Scale: "open the app", small data set versus city scale',
        "",
        f"`{cmd}` — two services (granian, 1 worker each), one on a small seeded database and one on the "
        "city-scale one, on the same PostgreSQL. One *open* = the five calls the app sends at once (inbox page "
        "of 20, unread count, my reports page of 20, health timeline page of 20, a fresh pass credential), "
        f"scheduled open loop at {opts.rate:g} opens/s ({opts.rate * 5:g} requests/s) for {opts.duration:g} s, "
        f"rotating over {opts.probes} citizens (each with 30 reports, 30 inbox rows, a 3-visit health record "
        "and a paid pass with a bound phone), latency counted from the scheduled time; "
        f"{opts.rounds} rounds alternating small/large after a warm-up round each. Cells: median over rounds of "
        "p50 / p95 / p99 ms (worst round's p99).",
        "",
        machine,
        "",
        "| Table | rows small | rows large | heap + TOAST large | indexes large | bytes/row (heap+idx) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for t in LARGE_TABLES:
        rs, (rl, hl, il) = sizes["small"][t][0], sizes["large"][t]
        out.append(
            f"| {t} | {rs:,} | {rl:,} | {hl / 2**20:,.0f} MiB | {il / 2**20:,.0f} MiB | "
            f"{(hl + il) / rl if rl else 0:,.0f} |"
        )
    out += [
        "",
        "Generating took " + ", ".join(f"{k} {v:.0f} s" for k, v in took.items()) + ".",
        "",
        "| Call | small p50 / p95 / p99 ms | large p50 / p95 / p99 ms | p99 × | Budget | Verdict |",
        "|---|---|---|---:|---:|---|",
    ]
    for name in [c[0] for c in CALLS] + ["whole open"]:

        def pick(r: Round, name: str = name) -> list[float]:
            return r.open_ms if name == "whole open" else r.calls[name]

        s, sp99 = _fmt(results["small"], pick)
        lg, lp99 = _fmt(results["large"], pick)
        ratio = lp99 / sp99
        verdict = "meets" if ratio <= BUDGET else "**misses**"
        out.append(f"| {name} | {s} | {lg} | {ratio:.2f} | ≤ {BUDGET:g} | {verdict} |")
    errs = {k: sum(sum(r.errors.values()) for r in v) for k, v in results.items()}
    out += ["", f"Failed calls: small {errs['small']}, large {errs['large']}."]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.open_app", description=__doc__.split("\n")[0])
    p.add_argument("--citizens", type=int, default=1_000_000)
    p.add_argument("--reports", type=int, default=10_000_000)
    p.add_argument("--health", type=int, default=10_000_000, help="health resources")
    p.add_argument("--passes", type=int, default=1_000_000)
    p.add_argument("--taps-per-pass", type=int, default=10)
    p.add_argument("--inbox-per-citizen", type=int, default=10)
    p.add_argument("--rate", type=float, default=20.0, help="opens per second (5 requests each)")
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--probes", type=int, default=12, help="citizens the opens rotate over")
    p.add_argument("--large-url", help="an already generated city-scale database (kept afterwards)")
    p.add_argument("--output", type=Path, default=report.DOC)
    opts = p.parse_args(argv)
    with ExitStack() as stack:
        server, how = stack.enter_context(server_url())
        small = stack.enter_context(bench_database(server))
        asyncio.run(_seed(small))
        took: dict[str, float] = {}
        if opts.large_url:
            large = opts.large_url
        else:
            large = stack.enter_context(bench_database(server))
            took = asyncio.run(generate(large, opts))
        urls = {}
        for name, db in (("small", small), ("large", large)):
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"thudo-open-{name}-")))
            urls[name] = stack.enter_context(procs.running(f"service ({name})", procs.service(db, tmp))).base_url
        dbs = {"small": small, "large": large}
        probes = {k: make_probes(urls[k], dbs[k], opts.probes) for k in urls}
        sizes = {k: asyncio.run(sizes_of(dbs[k])) for k in dbs}
        for k in urls:  # warm-up round, not counted
            asyncio.run(run_opens(urls[k], probes[k], opts.rate, min(opts.duration, 5.0)))
        results: dict[str, list[Round]] = {"small": [], "large": []}
        for i in range(opts.rounds):
            for k in ("small", "large") if i % 2 == 0 else ("large", "small"):
                r = asyncio.run(run_opens(urls[k], probes[k], opts.rate, opts.duration))
                results[k].append(r)
                print(
                    f"  round {i + 1} {k}: open p99 {pct(r.open_ms)[2]:.1f} ms, errors {r.errors}",
                    file=sys.stderr,
                    flush=True,
                )
        machine = report.machine(
            asyncio.run(postgres_version(small)),
            {
                "Load generator": "open loop, bench/open_app.py (asyncio, raw HTTP/1.1)",
                "Database": how,
                "Load average (1/5/15 min) at the end": report.load_average(),
            },
        )
    text = render(opts, machine, results, sizes, took)
    report.write_section("open-app", text, opts.output)
    print(text)
    return 0


async def _seed(url: str) -> None:
    conn = await connect(url)
    try:
        await seed_reference(conn)
    finally:
        await conn.close()


if __name__ == "__main__":
    raise SystemExit(main())
