"""Health reads at city scale: timeline first page and a FHIR search, small vs large data set.

    uv run python -m bench.health_scale [--patients 1000000] [--rows-per-patient 10] [--visits 3]
                                        [--rounds 6] [--real-json]

Two fresh databases on the same server. In each, a probe citizen's record is ingested through the real
use case (``--visits`` realistic visits). In the large one only, ``--patients`` other patients are generated
server-side with ``generate_series``, each with one visit of ``--rows-per-patient`` resource rows
(the probe's Encounter plus a rotating choice of its other rows, under new ids, patients and dates,
so the indexes hold realistic keys); the table's indexes and constraints are dropped for the load and
rebuilt from their own definitions afterwards, then VACUUM ANALYZE. The two hot reads (the queries the
API sends) are then timed on the probe in both databases, alternating small/large round by round
(``--rounds`` rounds of 2,000 runs per data set on one connection each), so a load swing on this shared
machine hits both sides of a round's ratio; the verdict is the median of the rounds' p99 ratios.

Synthetic rows carry every indexed and searched column of the copied row, but by default a stub for
the two JSON payloads (``{"resourceType": …}`` and ``{}``) instead of the ~2 KB of real JSON: 10 M
real-size rows need ~25 GB on a shared disk. The reads only fetch the probe's own rows (full size);
``--real-json`` copies the payloads too where the disk allows.
Target (quality.md): p99 at scale within 2x of the small data set; the plans must stay index scans.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from adapters.dev.health_bundles import DEMO_FACILITIES, typical_bundle
from adapters.postgres.health.record import SEARCH_SQL, TIMELINE_SQL
from adapters.postgres.pool import _init_connection
from adapters.signing.pii import AesPiiProtector
from bench.database import bench_database, server_url
from bench.report import load_average
from tests.support.health import FakeClock, pg_citizen, pg_facility, pg_use_cases

PROBE = "001085000101"


BATCH = 50_000  # patients per statement: progress output and bounded transactions


async def _timed(conn: Any, sql: str, args: tuple[Any, ...], n: int = 2000) -> tuple[float, float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        await conn.fetch(sql, *args)
        times.append(time.perf_counter() - t)
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.99)] * 1000


def _queries(patient_id: Any) -> dict[str, tuple[str, tuple[Any, ...]]]:
    """The two hot reads with the arguments the API sends (timeline first page; lab Observations: a page of 20
    asks for 21 rows, the one past the page saying whether a next page exists)."""
    return {"timeline": (TIMELINE_SQL, (patient_id, "visits", None, None, 21)),
            "fhir_search": (SEARCH_SQL, (patient_id, "Observation", ["labs", "vitals"], None, ["laboratory"], [],
                                         None, None, [], [], [], 0, 21))}


async def _reads(small: Any, large: Any, small_patient: Any, large_patient: Any,
                 rounds: int) -> dict[str, list[tuple[tuple[float, float], tuple[float, float]]]]:
    """Per read, ((p50, p99) small, (p50, p99) large) of each round: the two data sets alternate round by
    round, so both sides of a round's ratio see the same load on this shared machine."""
    sides = ((small, _queries(small_patient)), (large, _queries(large_patient)))
    for conn, queries in sides:  # warm-up: prepared statements, the probe's pages in cache
        for sql, args in queries.values():
            for _ in range(100):
                await conn.fetch(sql, *args)
    out: dict[str, list[tuple[tuple[float, float], tuple[float, float]]]] = {name: [] for name in sides[0][1]}
    for k in range(rounds):
        for name in out:
            order = sides if k % 2 == 0 else sides[::-1]
            timed = {id(conn): await _timed(conn, *queries[name]) for conn, queries in order}
            out[name].append((timed[id(small)], timed[id(large)]))
    return out


# Each synthetic patient's rows: the probe visit's Encounter (n = 0) plus per-1 - 1 of its other
# rows, rotating by patient so every category and type occurs at the copied proportions.
_LOAD_SQL = """
WITH p AS (
    INSERT INTO health_patients (id, personal_id_hash)
    SELECT gen_random_uuid(), sha256(('synthetic-' || g)::bytea) FROM generate_series($1::int, $2::int) g
    RETURNING id
), e AS (
    INSERT INTO health_encounters (id, facility_id, patient_id, identifier, bundle_hash, version, received_at,
                                   updated_at, insurance_version)
    SELECT gen_random_uuid(), $3, p.id, 'urn:synthetic|' || p.id, 'synthetic', 1, now(), now(), 1 FROM p
    RETURNING id, patient_id
)
INSERT INTO health_resources (id, encounter_id, patient_id, facility_id, resource_type, source_key, category,
    fhir_categories, codes, date, status, clinical_status, intent, version_id, last_updated, content_hash,
    resource, item)
SELECT gen_random_uuid(), e.id, e.patient_id, r.facility_id, r.resource_type, r.source_key, r.category,
       r.fhir_categories, r.codes, r.date - random() * interval '3650 days', r.status, r.clinical_status,
       r.intent, 1, r.last_updated, r.content_hash,
       CASE WHEN $5 THEN r.resource ELSE jsonb_build_object('resourceType', r.resource_type) END,
       CASE WHEN $5 THEN r.item ELSE '{}'::jsonb END
FROM e CROSS JOIN probe r
WHERE r.n = 0 OR (r.n - 1 + abs(hashtext(e.id::text))) % probe_others() < $4 - 1
"""


async def _generate(conn: Any, probe_patient: Any, patients: int, per_patient: int, real_json: bool) -> None:
    """``patients`` synthetic patients with ``per_patient`` rows each, loaded without indexes, then indexed."""
    encounter = await conn.fetchval("SELECT encounter_id FROM health_resources WHERE patient_id = $1 "
                                    "AND resource_type = 'Encounter' ORDER BY date LIMIT 1", probe_patient)
    await conn.execute("""
        CREATE TEMP TABLE probe AS
        SELECT row_number() OVER (ORDER BY resource_type <> 'Encounter', resource_type, id) - 1 AS n, *
        FROM health_resources WHERE encounter_id = $1""", encounter)
    others = await conn.fetchval("SELECT count(*) - 1 FROM probe")
    await conn.execute(f"CREATE FUNCTION pg_temp.probe_others() RETURNS bigint IMMUTABLE LANGUAGE sql "
                       f"AS 'SELECT {int(others)}::bigint'")
    facility = await conn.fetchval("SELECT facility_id FROM probe LIMIT 1")
    # Bulk load without per-row index maintenance and FK checks: keep the definitions, drop, rebuild.
    constraints = await conn.fetch("""
        SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
        WHERE conrelid = 'health_resources'::regclass AND contype IN ('p', 'u', 'f') ORDER BY contype <> 'p'""")
    indexes = await conn.fetch("""
        SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'health_resources'
          AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'health_resources'::regclass)""")
    for c in reversed(constraints):
        await conn.execute(f'ALTER TABLE health_resources DROP CONSTRAINT "{c["conname"]}"')
    for i in indexes:
        await conn.execute(f'DROP INDEX "{i["indexname"]}"')
    await conn.execute("SET synchronous_commit = off")  # bulk load: durability of a bench table is moot
    t = time.perf_counter()
    sql = _LOAD_SQL.replace("probe_others()", "pg_temp.probe_others()")
    for first in range(1, patients + 1, BATCH):
        last = min(first + BATCH - 1, patients)
        await conn.execute(sql, first, last, facility, per_patient, real_json)
        print(f"  patients {last:,} / {patients:,} ({time.perf_counter() - t:.0f} s)", file=sys.stderr, flush=True)
    await conn.execute("SET maintenance_work_mem = '1GB'")
    for c in constraints:
        await conn.execute(f'ALTER TABLE health_resources ADD CONSTRAINT "{c["conname"]}" {c["def"]}')
        print(f"  rebuilt {c['conname']} ({time.perf_counter() - t:.0f} s)", file=sys.stderr, flush=True)
    for i in indexes:
        await conn.execute(i["indexdef"])
        print(f"  rebuilt {i['indexname']} ({time.perf_counter() - t:.0f} s)", file=sys.stderr, flush=True)


async def _probe(url: str, pii: AesPiiProtector, visits: int) -> tuple[Any, Any]:
    """(connection, probe patient id): the probe citizen's record ingested through the real use case."""
    conn: Any = await asyncpg.connect(url, command_timeout=None)
    await _init_connection(conn)
    await pg_citizen(conn, pii, PROBE, "Probe")
    _, principal = await pg_facility(conn, DEMO_FACILITIES[0].code, DEMO_FACILITIES[0].name)
    clock = FakeClock()
    start = datetime(2024, 1, 5, 2, 0, tzinfo=UTC)
    for v in range(visits):
        async with conn.transaction():
            result = await pg_use_cases(conn, pii, clock)["ingest"].execute(
                principal, typical_bundle(personal_id=PROBE, visit_code=f"P-{v}", seed=v,
                                          start=start + timedelta(days=90 * v)))
    return conn, result.patient_id


async def main_async(small_url: str, large_url: str, patients: int, visits: int, per_patient: int, rounds: int,
                     real_json: bool) -> None:
    pii = AesPiiProtector(os.urandom(32))
    small, small_patient = await _probe(small_url, pii, visits)
    large, large_patient = await _probe(large_url, pii, visits)
    try:
        rows = await small.fetchval("SELECT count(*) FROM health_resources")
        t = time.perf_counter()
        await _generate(large, large_patient, patients, per_patient, real_json)
        await large.execute("VACUUM ANALYZE health_patients, health_encounters, health_resources")
        await small.execute("VACUUM ANALYZE health_patients, health_encounters, health_resources")
        generated = time.perf_counter() - t
        total = await large.fetchval("SELECT count(*) FROM health_resources")
        size = await large.fetchval("SELECT pg_size_pretty(pg_total_relation_size('health_resources'))")
        before = load_average()
        results = await _reads(small, large, small_patient, large_patient, rounds)
        after = load_average()
        plans = {name: "\n".join(r[0] for r in await large.fetch("EXPLAIN " + sql, *args))
                 for name, (sql, args) in _queries(large_patient).items()}
    finally:
        await small.close()
        await large.close()
    print(f"health scale bench — probe record {rows} rows; large set {total:,} rows in {size} "
          f"({patients:,} patients x {per_patient} rows, {'real' if real_json else 'stub'} JSON, "
          f"generated + indexed in {generated:.0f} s); {rounds} alternating rounds of 2,000 runs per data set; "
          f"load {before} before, {after} after")
    for name, per_round in results.items():
        ratios = sorted(lg[1] / sm[1] for sm, lg in per_round)
        s50, s99 = statistics.median(sm[0] for sm, _ in per_round), statistics.median(sm[1] for sm, _ in per_round)
        l50, l99 = statistics.median(lg[0] for _, lg in per_round), statistics.median(lg[1] for _, lg in per_round)
        print(f"  {name:12s} small p50 {s50:.2f} ms p99 {s99:.2f} ms | large p50 {l50:.2f} ms p99 {l99:.2f} ms | "
              f"p99 ratio {statistics.median(ratios):.2f} (median of rounds; spread {ratios[0]:.2f}-{ratios[-1]:.2f};"
              f" target <= 2)")
    for name, plan in plans.items():
        print(f"  {name} plan at scale: {'index scan' if 'Index Scan' in plan and 'Seq Scan' not in plan else plan}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--rows-per-patient", type=int, default=10)
    parser.add_argument("--visits", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--real-json", action="store_true")
    args = parser.parse_args()
    # Two fresh databases on one server: the small data set and the large one, measured alternately.
    with server_url() as (server, _how), bench_database(server) as small, bench_database(server) as large:
        asyncio.run(main_async(small, large, args.patients, args.visits, args.rows_per_patient, args.rounds,
                               args.real_json))


if __name__ == "__main__":
    main()
