"""Health reads at city scale: timeline first page and a FHIR search, small vs large data set.

    uv run python -m bench.health_scale [--patients 20000] [--visits 3] [--database-url URL]

A probe citizen's record is ingested through the real use case (``--visits`` realistic visits); the
two hot reads are timed on it (p50/p99 of 2,000 runs on one connection, the queries the API sends).
Then ``--patients`` other records are generated server-side (copies of the probe's rows under new
patients and ids, so the indexes hold realistic keys), ANALYZE runs, and the reads are timed again.
Target (quality.md): p99 at scale within 2x of the small data set; the plans must stay index scans.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from adapters.dev.health_bundles import DEMO_FACILITIES, typical_bundle
from adapters.postgres.health.record import SEARCH_SQL, TIMELINE_SQL
from adapters.postgres.pool import _init_connection
from adapters.signing.pii import AesPiiProtector
from bench.database import run_database
from bench.report import load_average
from tests.support.health import FakeClock, pg_citizen, pg_facility, pg_use_cases

PROBE = "001085000101"


async def _timed(conn: Any, sql: str, args: tuple[Any, ...], n: int = 2000) -> tuple[float, float]:
    for _ in range(100):
        await conn.fetch(sql, *args)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        await conn.fetch(sql, *args)
        times.append(time.perf_counter() - t)
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.99)] * 1000


async def _reads(conn: Any, patient_id: Any) -> dict[str, tuple[float, float]]:
    timeline: tuple[Any, ...] = (patient_id, "visits", None, None, 21)
    search: tuple[Any, ...] = (patient_id, "Observation", ["labs", "vitals"], None, ["laboratory"], [], None, None,
                               [], [], [], 0, 20)
    return {"timeline": await _timed(conn, TIMELINE_SQL, timeline),
            "fhir_search": await _timed(conn, SEARCH_SQL, search)}


async def main_async(url: str, patients: int, visits: int) -> None:
    pii = AesPiiProtector(os.urandom(32))
    conn: Any = await asyncpg.connect(url)
    await _init_connection(conn)
    try:
        await conn.execute("TRUNCATE health_encounters, health_resources, health_patients CASCADE")
        await conn.execute("DELETE FROM health_facilities")
        await pg_citizen(conn, pii, PROBE, "Probe")
        _, principal = await pg_facility(conn, DEMO_FACILITIES[0].code, DEMO_FACILITIES[0].name)
        clock = FakeClock()
        start = datetime(2024, 1, 5, 2, 0, tzinfo=UTC)
        for v in range(visits):
            async with conn.transaction():
                result = await pg_use_cases(conn, pii, clock)["ingest"].execute(
                    principal, typical_bundle(personal_id=PROBE, visit_code=f"P-{v}", seed=v,
                                              start=start + timedelta(days=90 * v)))
        patient_id = result.patient_id
        rows = await conn.fetchval("SELECT count(*) FROM health_resources")
        small = await _reads(conn, patient_id)

        t = time.perf_counter()
        await conn.execute("""
            INSERT INTO health_patients (id, personal_id_hash)
            SELECT gen_random_uuid(), sha256(('synthetic-' || g)::bytea) FROM generate_series(1, $1) g""", patients)
        await conn.execute("""
            INSERT INTO health_encounters (id, facility_id, patient_id, identifier, bundle_hash, version, received_at,
                                           updated_at, insurance_version)
            SELECT gen_random_uuid(), e.facility_id, p.id, e.identifier || '/' || p.id, e.bundle_hash, 1, e.received_at,
                   e.updated_at, 1
            FROM health_patients p CROSS JOIN health_encounters e
            WHERE p.id <> $1 AND e.patient_id = $1""", patient_id)
        await conn.execute("""
            INSERT INTO health_resources (id, encounter_id, patient_id, facility_id, resource_type, source_key,
                category, fhir_categories, codes, date, status, clinical_status, intent, version_id, last_updated,
                content_hash,
                resource, item)
            SELECT gen_random_uuid(), e2.id, e2.patient_id, r.facility_id, r.resource_type, r.source_key, r.category,
                   r.fhir_categories, r.codes, r.date - (random() * interval '700 days'), r.status, r.clinical_status,
                   r.intent, 1, r.last_updated, r.content_hash, r.resource, r.item
            FROM health_resources r
            JOIN health_encounters e1 ON e1.id = r.encounter_id
            JOIN health_encounters e2 ON e2.identifier LIKE e1.identifier || '/%' AND e2.patient_id <> $1
            WHERE r.patient_id = $1""", patient_id)
        await conn.execute("ANALYZE health_patients, health_encounters, health_resources")
        generated = time.perf_counter() - t
        total = await conn.fetchval("SELECT count(*) FROM health_resources")
        large = await _reads(conn, patient_id)
        plans = {name: "\n".join(r[0] for r in await conn.fetch("EXPLAIN " + sql, *args))
                 for name, sql, args in (("timeline", TIMELINE_SQL, (patient_id, "visits", None, None, 21)),)}
    finally:
        await conn.close()
    print(f"health scale bench — probe record {rows} rows; large set {total:,} rows "
          f"({patients:,} patients, generated in {generated:.0f} s); load {load_average()}")
    for name in small:
        (s50, s99), (l50, l99) = small[name], large[name]
        print(f"  {name:12s} small p50 {s50:.2f} ms p99 {s99:.2f} ms | large p50 {l50:.2f} ms p99 {l99:.2f} ms"
              f" | p99 ratio {l99 / s99:.2f} (target <= 2)")
    print("  timeline plan uses index:", "health_resources_patient_category" in plans["timeline"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=20000)
    parser.add_argument("--visits", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with run_database(args.database_url) as (url, _how):
        asyncio.run(main_async(url, args.patients, args.visits))


if __name__ == "__main__":
    main()
