"""Health ingest throughput vs its same-work reference (quality.md: ≥ 0.50; aim ≥ 500 bundles/s).

    uv run python -m bench.health_ingest [--bundles 3050] [--rounds 6] [--concurrency 8] [--database-url URL]

* ours — the ingestion use case per bundle, in one transaction on a pooled connection, exactly as the
  API will run it: structural validation (compiled from fhir.resources' definitions), business checks,
  then one statement that finds (or enrols) the patient, stores changed demographics and inserts the
  visit with its rows unless it was sent before; then the citizen's notification.
* reference — the same rows (read back from ours' run, then removed) inserted plainly: BEGIN, the
  encounter row, the resources in the same one-statement upsert, COMMIT.
* the two alternate: ``--rounds`` rounds of ours on fresh bundles, each followed at once by the
  reference on the rows ours wrote in that round; the ratio is the median of the rounds' ratios
  (with its spread), so a load swing on this shared machine moves both halves of a ratio together.
* the two structural validators alone, per bundle on one core (fhir.resources' pydantic models vs
  the compiled walker).

Bundles are realistic encounters (adapters/dev/health_bundles.typical_bundle: 21 resources: diagnoses,
vitals, labs + report, two prescriptions, a vaccination, an allergy, a procedure, a note, a referral
and its appointment), each for a distinct visit of one of 1,000 citizens. In-process (no HTTP), on
uvloop as in production.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
import uvloop

from adapters.dev.health_bundles import DEMO_FACILITIES, typical_bundle
from adapters.fhir.structure import CompiledValidator, LibraryValidator
from adapters.postgres.health.repositories import _UPSERT_RESOURCES, FacilityCache
from adapters.postgres.pool import _init_connection, create_pool
from adapters.signing.pii import AesPiiProtector
from bench.database import postgres_version, run_database
from bench.judicial_submit import RoundTrips
from bench.report import load_average
from domain.shared.time import SystemClock
from tests.support.health import pg_citizen, pg_facility, pg_use_cases

CITIZENS = 1000
COUNTED = 50  # bundles whose round trips are counted after the timed rounds


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


_ROW_COLS = ("encounter_id, id, resource_type, source_key, category, fhir_categories, codes, date, status, "
             "clinical_status, intent, version_id, content_hash")


def _reference_work(headers: list[Any], rows: list[Any]) -> list[tuple[Any, list[Any]]]:
    by_encounter: dict[Any, list[Any]] = {}
    for r in rows:
        by_encounter.setdefault(r["encounter_id"], []).append(r)
    return [(h, by_encounter.get(h["id"], [])) for h in headers]


async def _reference(conn: Any, item: Any) -> None:
    """The same-work reference: the rows ours wrote for one bundle, inserted bare (2 statements)."""
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
                       [r["resource"] for r in rs], [r["item"] for r in rs])


async def _take_back(pool: asyncpg.Pool[Any], since: Any) -> list[tuple[Any, list[Any]]]:
    """The encounters ours wrote after ``since`` with their rows, removed so the reference can insert them."""
    async with pool.acquire() as conn, conn.transaction():
        headers = await conn.fetch("SELECT * FROM health_encounters WHERE received_at > $1", since)
        ids = [h["id"] for h in headers]
        rows = await conn.fetch(f"SELECT {_ROW_COLS}, resource::text AS resource, item::text AS item "
                                "FROM health_resources WHERE encounter_id = ANY($1::uuid[])", ids)
        await conn.execute("DELETE FROM health_encounters WHERE id = ANY($1::uuid[])", ids)
    return _reference_work(headers, rows)


async def main_async(url: str, n: int, concurrency: int, rounds: int) -> dict[str, Any]:
    """Ours and the reference alternate: each round runs ours on fresh bundles, then the reference on the
    very rows ours wrote in that round, so both halves of a round's ratio see the same machine load."""
    pii = AesPiiProtector(os.urandom(32))
    principal = await _setup(url, pii)
    bundles = _bundles(n + COUNTED)
    clock = SystemClock()
    cache = FacilityCache()
    # The service's own pool (no reset query on release), for ours and the reference alike.
    pool = await create_pool(url, min_size=concurrency, max_size=concurrency)
    per_round = (n - 50) // rounds
    results: list[dict[str, float]] = []
    try:
        async def ours(conn: Any, bundle: Any) -> None:
            await pg_use_cases(conn, pii, clock, cache)["ingest"].execute(principal, bundle)

        # Warm-up of both (prepared statements, compiled specs).
        since = clock.now()
        await _run(pool, bundles[:50], concurrency, ours)
        await _run(pool, await _take_back(pool, since), concurrency, _reference)
        stmts = await _resources_per_bundle(pool)
        for k in range(rounds):
            chunk = bundles[50 + k * per_round: 50 + (k + 1) * per_round]
            since = clock.now()
            ours_s, ours_cpu = await _run(pool, chunk, concurrency, ours)
            work = await _take_back(pool, since)
            ref_s, ref_cpu = await _run(pool, work, concurrency, _reference)
            results.append({"ours": len(chunk) / ours_s, "reference": len(work) / ref_s,
                            "ours_cpu_ms": ours_cpu / len(chunk) * 1000, "ref_cpu_ms": ref_cpu / len(work) * 1000,
                            "load": os.getloadavg()[0]})
            print(f"  round {k + 1}: ours {results[-1]['ours']:.0f}/s, reference {results[-1]['reference']:.0f}/s, "
                  f"ratio {results[-1]['ours'] / results[-1]['reference']:.2f}, load {results[-1]['load']:.1f}",
                  file=sys.stderr, flush=True)
        # Round trips per bundle, counted apart (not timed) on bundles of returning patients.
        trips = RoundTrips()
        with trips.installed():
            since = clock.now()
            await _run(pool, bundles[n:], concurrency, ours)
            ours_trips = trips.count / COUNTED
            work = await _take_back(pool, since)
            trips.count = 0
            await _run(pool, work, concurrency, _reference)
            ref_trips = trips.count / COUNTED
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
    return {"rounds": results, "resources_per_bundle": stmts, "ours_trips": ours_trips, "ref_trips": ref_trips,
            "library_ms": per["library"] * 1000, "compiled_ms": per["compiled"] * 1000}


async def _resources_per_bundle(pool: asyncpg.Pool[Any]) -> float:
    async with pool.acquire() as conn:
        return float(await conn.fetchval(
            "SELECT count(*)::float / greatest(1, (SELECT count(*) FROM health_encounters)) FROM health_resources"))


def _arr(values: list[str]) -> str:
    return msgspec.json.encode(list(values)).decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundles", type=int, default=3050)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with run_database(args.database_url) as (url, how):
        # uvloop: the event loop granian serves the app with in production (as bench.inproc does).
        result = uvloop.run(main_async(url, args.bundles, args.concurrency, args.rounds))
        version = asyncio.run(postgres_version(url))
    rounds = result["rounds"]
    ratios = sorted(r["ours"] / r["reference"] for r in rounds)

    def med(key: str) -> float:
        return float(statistics.median(r[key] for r in rounds))

    print(f"health ingest bench — {args.bundles} bundles (~{result['resources_per_bundle']:.0f} resources each), "
          f"concurrency {args.concurrency}, {len(rounds)} alternating rounds, PostgreSQL {version} ({how}), "
          f"load {load_average()}")
    best = max(r["ours"] for r in rounds)
    print(f"  ours (full use case):        {med('ours'):8.0f} bundles/s (median of rounds; best {best:.0f})")
    print(f"  reference (same rows, bare): {med('reference'):8.0f} bundles/s (median of rounds)")
    print(f"  ratio ours/reference:        {statistics.median(ratios):8.2f}   "
          f"(median; spread {ratios[0]:.2f}-{ratios[-1]:.2f}; target >= 0.50)")
    print(f"  Python CPU per bundle (this process): ours {med('ours_cpu_ms'):.2f} ms, "
          f"reference {med('ref_cpu_ms'):.2f} ms")
    visit = "a returning patient" if args.bundles >= CITIZENS else "a patient's first visit"
    print(f"  round trips per bundle ({visit}, no device): ours {result['ours_trips']:.1f}, "
          f"reference {result['ref_trips']:.1f}")
    print(f"  structural validation per bundle, one core: fhir.resources {result['library_ms']:.2f} ms, "
          f"compiled {result['compiled_ms']:.2f} ms")


if __name__ == "__main__":
    main()
