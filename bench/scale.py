"""Scale check (quality.md): city-scale data must not change the p99 of the indexed reads by more than 2×.

One service, one database. First the indexed read scenarios are measured at a fixed request rate
(open loop, ``bench/rate.py``) on the small seeded data set; then synthetic citizens and reports
are inserted straight into PostgreSQL (``generate_series``, not through the API: 10 M reports
through the API would take hours here), the tables analysed, and the same scenarios measured again
at the same rate. The verdict is p99(large) ÷ p99(small) ≤ 2 per scenario.

    uv run python -m bench.scale [--citizens 1000000] [--reports 10000000] [--rate 200] [--duration 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from adapters.postgres.scratch import fetchval_on
from bench import city_data, procs, report, setup_feedback
from bench.database import postgres_version, run_database
from bench.rate import RateResult, run_rate
from bench.scenarios import BenchContext, RequestSpec, Scenario, citizen_headers
from domain.feedback.geo import HANOI_LAT, HANOI_LON

BUDGET = 2.0  # quality.md: p99 at city scale ≤ 2 × p99 on the small data set

SCALE_SCENARIOS = [
    Scenario("identity.me", "read", "GET", "/api/v1/me", setup=citizen_headers,
             note="token check + user row by primary key (users grows to --citizens rows)"),
    Scenario("feedback.my_reports", "read", "GET", "/api/v1/feedback/reports?limit=20",
             setup=setup_feedback.my_reports_setup,
             note="index range scan (reporter_id, id DESC) for a page of 20"),
    Scenario("feedback.duplicates", "read", "GET",
             "/api/v1/feedback/duplicates?category_id={category_id}&lat=21.0287&lon=105.8545",
             setup=setup_feedback.duplicates_setup,
             note="same category within ~100 m in the last 30 days, asked before every submission (index cells)"),
    Scenario("feedback.public_feed", "read", "GET",
             "/api/v1/public/feedback/reports?lat=21.0287&lon=105.8545&radius_m=1000&limit=20",
             note="handled public reports within 1 km of Hoàn Kiếm lake (one page per 0.01° feed cell)"),
]

# Synthetic citizens: only what a users row needs; the hash column keeps its UNIQUE index honest.
CITIZENS_SQL = """
INSERT INTO users (id, eid_issuer, eid_subject, personal_id_hash, personal_id_enc, full_name, level,
                   created_at, updated_at)
SELECT gen_random_uuid(), 'synthetic', $2 || '-' || g, sha256(('synthetic-' || $2 || '-' || g)::bytea),
       '\\x00'::bytea, 'Công dân ' || g, 2, now(), now()
FROM generate_series(1, $1) AS g
"""

# Synthetic reports over the last year: ids time-ordered like UUIDv7 (ms timestamp prefix), spread over
# Hanoi's extent, every category and locality; 70 % handled, 10 % rejected, 20 % still open. Report g of
# $8 arrives at g/$8 of the year (plus jitter), so, as in the real table, rows are appended in time order
# and the primary key grows at its right edge instead of taking 10 M random inserts.
REPORTS_SQL = """
WITH people AS (SELECT array_agg(id) AS ids FROM users WHERE eid_issuer = 'synthetic'),
     cats AS (SELECT array_agg(id) AS ids FROM feedback_categories),
     places AS (SELECT array_agg(id) AS ids FROM units WHERE kind IN ('district', 'ward')),
     rows AS (
       SELECT g, now() - (1 - (g - random()) / $8::float8) * interval '365 days' AS ts, random() AS fate
       FROM generate_series($1::bigint, $2::bigint) AS g)
INSERT INTO feedback_reports (id, ref, reporter_id, category_id, level, status, description, lat, lon, address,
                              unit_id, created_at, updated_at, ack_due_at, due_at, acknowledged_at, handled_at,
                              closed_at, publishable)
SELECT (lpad(to_hex((extract(epoch FROM ts) * 1000)::bigint), 12, '0') || substr(md5($7 || g), 1, 20))::uuid,
       'SYN-' || $7 || '-' || lpad(g::text, 9, '0'),
       people.ids[1 + (random() * (array_length(people.ids, 1) - 1))::int],
       cats.ids[1 + (random() * (array_length(cats.ids, 1) - 1))::int],
       'normal',
       CASE WHEN fate < 0.7 THEN 'handled' WHEN fate < 0.8 THEN 'rejected' ELSE 'pending' END,
       'Phản ánh tổng hợp số ' || g || ': lấn chiếm vỉa hè, rác thải, đèn đường hỏng',
       $3::float8 + random() * ($4::float8 - $3::float8), $5::float8 + random() * ($6::float8 - $5::float8),
       'Địa chỉ ' || g,
       places.ids[1 + (random() * (array_length(places.ids, 1) - 1))::int],
       ts, ts, ts + interval '8 hours', ts + interval '3 days',
       CASE WHEN fate < 0.8 THEN ts + interval '2 hours' END,
       CASE WHEN fate < 0.7 THEN ts + interval '2 days' END,
       CASE WHEN fate < 0.8 THEN ts + interval '2 days' END,
       true
FROM rows, people, cats, places
"""
BATCH = 500_000  # reports per statement: bounded memory and visible progress


@dataclass
class Row:
    name: str
    note: str
    small: list[RateResult] = field(default_factory=list)
    large: list[RateResult] = field(default_factory=list)

    @staticmethod
    def _p99(results: list[RateResult]) -> float:
        return statistics.median(r.p99_ms for r in results)

    @property
    def ratio(self) -> float:
        return self._p99(self.large) / self._p99(self.small)


async def load(database_url: str, citizens: int, reports: int) -> dict[str, float]:
    """Insert the synthetic data; return seconds per step."""
    took: dict[str, float] = {}
    conn = await asyncpg.connect(database_url, command_timeout=None)
    try:
        await city_data.bulk_session(conn)
        t = time.perf_counter()
        run = f"{time.time_ns():x}"  # keeps ids and hashes unique when a database is loaded twice
        await conn.execute(CITIZENS_SQL, citizens, run)
        took["citizens"] = time.perf_counter() - t
        t = time.perf_counter()

        async def reports_load() -> None:
            for first in range(1, reports + 1, BATCH):
                last = min(first + BATCH - 1, reports)
                await conn.execute(REPORTS_SQL, first, last, *HANOI_LAT, *HANOI_LON, run, reports)
                print(f"  reports {last:,} / {reports:,} ({time.perf_counter() - t:.0f} s)", file=sys.stderr,
                      flush=True)

        # Secondary indexes dropped during the load and rebuilt by one sort each (bench/city_data.py).
        await city_data._rebuilding(conn, "feedback_reports", reports_load)
        took["reports"] = time.perf_counter() - t
        t = time.perf_counter()
        await conn.execute("VACUUM ANALYZE users")
        await conn.execute("VACUUM ANALYZE feedback_reports")
        took["vacuum analyze"] = time.perf_counter() - t
    finally:
        await conn.close()
    return took


async def _measure(base_url: str, spec: RequestSpec, opts: argparse.Namespace, name: str) -> RateResult:
    r = await run_rate(base_url, spec, rate=opts.rate, duration=opts.duration, connections=16)
    print(f"  {name}: p99 {r.p99_ms:.1f} ms at {r.achieved_rps:,.0f} req/s, {r.errors} errors", file=sys.stderr,
          flush=True)
    return r


def measure_all(base_url: str, specs: list[tuple[Row, RequestSpec]], opts: argparse.Namespace, phase: str) -> None:
    for _, spec in specs:  # warm-up, not counted: statement caches, token cache, the pages the query touches
        asyncio.run(run_rate(base_url, spec, rate=opts.rate, duration=min(3.0, opts.duration), connections=16))
    for _ in range(opts.rounds):
        for row, spec in specs:
            result = asyncio.run(_measure(base_url, spec, opts, f"{row.name} ({phase})"))
            (row.small if phase == "small" else row.large).append(result)


async def _counts(database_url: str) -> tuple[int, int]:
    users, reports = await fetchval_on(
        database_url, "SELECT ARRAY[(SELECT count(*) FROM users), (SELECT count(*) FROM feedback_reports)]")
    return users, reports


def render(rows: list[Row], opts: argparse.Namespace, machine: str, sizes: dict[str, tuple[int, int]],
           took: dict[str, float]) -> str:
    out = ["## Scale: p99 of indexed reads, small data set versus city scale", "",
           f"`uv run python -m bench.scale --citizens {opts.citizens} --reports {opts.reports} --rate {opts.rate} "
           f"--duration {opts.duration:g} --rounds {opts.rounds}` — one service (granian, 1 worker), open loop at "
           f"{opts.rate} req/s over 16 connections, {opts.duration:g} s per measurement after a 3 s warm-up per "
           "scenario and phase, median p99 of the rounds; "
           "synthetic rows inserted with `generate_series` between the two phases, then `VACUUM ANALYZE`.", "",
           machine, "",
           "| Data set | users | feedback reports |", "|---|---:|---:|",
           *(f"| {k} | {u:,} | {r:,} |" for k, (u, r) in sizes.items()), "",
           "Loading took " + ", ".join(f"{k} {v:.0f} s" for k, v in took.items()) + ".", "",
           "| Scenario | p99 small ms | p99 large ms | × | Budget | Verdict | What it reads |",
           "|---|---:|---:|---:|---:|---|---|"]
    for row in rows:
        ok = row.ratio <= BUDGET and not any(r.errors for r in row.small + row.large)
        out.append(f"| {row.name} | {Row._p99(row.small):.1f} | {Row._p99(row.large):.1f} | {row.ratio:.2f} | "
                   f"≤ {BUDGET:g} | {'meets' if ok else '**misses**'} | {row.note} |")
    return "\n".join(out)


def run(opts: argparse.Namespace, scenarios: Sequence[Scenario] = SCALE_SCENARIOS,
        database_url: str | None = None) -> list[Row]:
    with run_database(database_url) as (db, how), tempfile.TemporaryDirectory(prefix="thudo-scale-") as tmp, \
            procs.running("service", procs.service(db, Path(tmp))) as service:
        ctx = BenchContext(service.base_url, db, Path(tmp))
        specs = [(Row(sc.name, sc.note), sc.prepare(ctx)) for sc in scenarios]
        sizes = {"small (seeded + bench set-up)": asyncio.run(_counts(db))}
        measure_all(service.base_url, specs, opts, "small")
        took = asyncio.run(load(db, opts.citizens, opts.reports))
        sizes["large"] = asyncio.run(_counts(db))
        # Tokens live 10 minutes and loading may take longer: set up again (a fresh login; for my reports a
        # citizen with 30 reports again, among the millions now).
        specs = [(row, sc.prepare(ctx) if sc.setup else spec) for (row, spec), sc in zip(specs, scenarios, strict=True)]
        measure_all(service.base_url, specs, opts, "large")
        machine = report.machine(asyncio.run(postgres_version(db)), {
            "Load generator": "open loop: bench/rate.py (asyncio)", "Database": how})
    rows = [row for row, _ in specs]
    report.write_section("scale", render(rows, opts, machine, sizes, took), opts.output)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    p.add_argument("--citizens", type=int, default=1_000_000)
    p.add_argument("--reports", type=int, default=10_000_000)
    p.add_argument("--rate", type=int, default=200, help="requests per second per measurement (default 200)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measurement (default 10)")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--database-url", help="an already migrated database instead of a fresh one")
    p.add_argument("--output", type=Path, default=report.DOC)
    opts = p.parse_args(argv)
    rows = run(opts, database_url=opts.database_url)
    for row in rows:
        print(f"{row.name}: p99 × {row.ratio:.2f} (budget ≤ {BUDGET:g})")
    return 0 if all(row.ratio <= BUDGET for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
