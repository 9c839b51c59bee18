"""Health ingest throughput vs its same-work reference (quality.md: ≥ 0.50; aim ≥ 500 bundles/s).

    uv run python -m bench.health_ingest [--bundles 2000] [--concurrency 8] [--database-url URL]

* ours — the ingestion use case per bundle, in one transaction on a pooled connection, exactly as the
  API will run it: structural validation (compiled from fhir.resources' definitions), business checks,
  patient lookup, idempotency lookup, the rows, the demographics, the citizen's notification.
* reference — the same rows (read back from ours' run, then removed) inserted plainly: BEGIN, the
  encounter row, the resources in the same one-statement upsert, COMMIT.
* the two structural validators alone, per bundle on one core (fhir.resources' pydantic models vs
  the compiled walker).

Bundles are realistic encounters (adapters/dev/health_bundles.typical_bundle: 21 resources: diagnoses,
vitals, labs + report, two prescriptions, a vaccination, an allergy, a procedure, a note, a referral
and its appointment), each for a distinct visit of one of 1,000 citizens. In-process (no HTTP): the API
layer is not built yet; its cost is measured by bench.run for the other endpoints.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg

from adapters.dev.health_bundles import DEMO_FACILITIES, typical_bundle
from adapters.fhir.structure import CompiledValidator, LibraryValidator
from adapters.postgres.health.repositories import _UPSERT_RESOURCES, FacilityCache
from adapters.postgres.pool import _init_connection
from adapters.signing.pii import AesPiiProtector
from bench.database import postgres_version, run_database
from bench.report import load_average
from domain.shared.time import SystemClock
from tests.support.health import pg_citizen, pg_facility, pg_use_cases

CITIZENS = 1000


def _bundles(n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        pid = f"0010900{i % CITIZENS:05d}"
        out.append(typical_bundle(personal_id=pid, visit_code=f"01929.2026.{i:07d}", seed=i,
                                  start=datetime(2026, 1, 1, 2, 0, tzinfo=UTC).replace(minute=i % 60)))
    return out


async def _setup(url: str, pii: AesPiiProtector) -> Any:
    conn = await asyncpg.connect(url)
    await _init_connection(conn)
    try:
        await conn.execute("TRUNCATE health_encounters, health_resources, health_patients CASCADE")
        await conn.execute("DELETE FROM health_facilities")
        async with conn.transaction():
            for i in range(CITIZENS):
                if not await conn.fetchval("SELECT 1 FROM users WHERE personal_id_hash = $1",
                                           pii.lookup_hash(f"0010900{i:05d}")):
                    await pg_citizen(conn, pii, f"0010900{i:05d}", f"Bench {i}")
            _, principal = await pg_facility(conn, DEMO_FACILITIES[0].code, DEMO_FACILITIES[0].name)
        return principal
    finally:
        await conn.close()


async def _run(pool: asyncpg.Pool[Any], work: list[Any], concurrency: int, one: Any) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds) to run ``one`` over ``work``, ``concurrency`` at a time."""
    queue = list(reversed(work))

    async def worker() -> None:
        while queue:
            item = queue.pop()
            async with pool.acquire() as conn, conn.transaction():
                await one(conn, item)

    t, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - t, time.process_time() - cpu


async def main_async(url: str, n: int, concurrency: int) -> dict[str, float]:
    pii = AesPiiProtector(os.urandom(32))
    principal = await _setup(url, pii)
    bundles = _bundles(n)
    clock = SystemClock()
    cache = FacilityCache()
    pool = await asyncpg.create_pool(url, min_size=concurrency, max_size=concurrency, init=_init_connection)
    assert pool is not None
    try:
        async def ours(conn: Any, bundle: Any) -> None:
            await pg_use_cases(conn, pii, clock, cache)["ingest"].execute(principal, bundle)

        await _run(pool, bundles[:50], concurrency, ours)  # warm-up (prepared statements, compiled specs)
        ours_s, ours_cpu = await _run(pool, bundles[50:], concurrency, ours)
        async with pool.acquire() as conn:
            headers = await conn.fetch("SELECT * FROM health_encounters")
            rows = await conn.fetch("SELECT * FROM health_resources")
            stmts = await conn.fetchval("SELECT count(*) FROM health_resources")
            await conn.execute("TRUNCATE health_encounters, health_resources CASCADE")
        by_encounter: dict[Any, list[Any]] = {}
        for r in rows:
            by_encounter.setdefault(r["encounter_id"], []).append(r)
        work = [(h, by_encounter.get(h["id"], [])) for h in headers]

        async def reference(conn: Any, item: Any) -> None:
            h, rs = item
            await conn.execute(
                """INSERT INTO health_encounters (id, facility_id, patient_id, identifier, bundle_hash, version,
                       received_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
                h["id"], h["facility_id"], h["patient_id"], h["identifier"], h["bundle_hash"], h["version"],
                h["received_at"], h["updated_at"])
            await conn.execute(_UPSERT_RESOURCES, h["id"], h["patient_id"], h["facility_id"], h["updated_at"],
                               [r["id"] for r in rs], [r["resource_type"] for r in rs], [r["source_key"] for r in rs],
                               [r["category"] for r in rs], [_arr(r["fhir_categories"]) for r in rs],
                               [_arr(r["codes"]) for r in rs], [r["date"] for r in rs], [r["status"] for r in rs],
                               [r["clinical_status"] for r in rs], [r["intent"] for r in rs],
                               [r["version_id"] for r in rs], [r["content_hash"] for r in rs],
                               [_json(r["resource"]) for r in rs], [_json(r["item"]) for r in rs])

        warm, rest = work[:50], work[50:]
        await _run(pool, warm, concurrency, reference)
        ref_s, ref_cpu = await _run(pool, rest, concurrency, reference)
    finally:
        await pool.close()

    sample = bundles[0]
    library, compiled = LibraryValidator(), CompiledValidator()
    per: dict[str, float] = {}
    for name, v in (("library", library), ("compiled", compiled)):
        v.validate(sample)
        times = []
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(40):
                v.validate(sample)
            times.append((time.perf_counter() - t) / 40)
        per[name] = statistics.median(times)
    return {"ours": (n - 50) / ours_s, "reference": len(rest) / ref_s,
            "ours_cpu_ms": ours_cpu / (n - 50) * 1000, "ref_cpu_ms": ref_cpu / len(rest) * 1000,
            "resources_per_bundle": stmts / max(1, n),
            "library_ms": per["library"] * 1000, "compiled_ms": per["compiled"] * 1000}


def _arr(values: list[str]) -> str:
    import msgspec
    return msgspec.json.encode(list(values)).decode()


def _json(value: Any) -> str:
    import msgspec
    return msgspec.json.encode(value).decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundles", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with run_database(args.database_url) as (url, how):
        result = asyncio.run(main_async(url, args.bundles, args.concurrency))
        version = asyncio.run(postgres_version(url))
    print(f"health ingest bench — {args.bundles} bundles (~{result['resources_per_bundle']:.0f} resources each), "
          f"concurrency {args.concurrency}, PostgreSQL {version} ({how}), load {load_average()}")
    print(f"  ours (full use case):        {result['ours']:8.0f} bundles/s")
    print(f"  reference (same rows, bare): {result['reference']:8.0f} bundles/s")
    print(f"  ratio ours/reference:        {result['ours'] / result['reference']:8.2f}   (target >= 0.50)")
    print(f"  Python CPU per bundle (this process): ours {result['ours_cpu_ms']:.2f} ms, "
          f"reference {result['ref_cpu_ms']:.2f} ms")
    print(f"  structural validation per bundle, one core: fhir.resources {result['library_ms']:.2f} ms, "
          f"compiled {result['compiled_ms']:.2f} ms")


if __name__ == "__main__":
    main()
