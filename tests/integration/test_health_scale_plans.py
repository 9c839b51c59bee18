"""The hot health reads stay on their (patient, …) indexes once the table is large and analysed.

The plans checked in test_health_postgres.py run on a few rows without statistics; here the table is
filled the way ``bench.health_scale`` fills it for the city-scale run (its own generator, 3,000 other
patients x 10 rows), ANALYZEd, and every hot read must still be an index scan: the timeline's first
page (also as the app sends it: with the patient id and the session check), the citizen's lists over
several categories, a FHIR search and its count, a detail read.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any

from adapters.dev.health_bundles import DEMO_FACILITIES, typical_bundle
from adapters.postgres.health.record import COLS, COUNT_SQL, ITEMS_SQL, OWN_ITEMS_IN_SESSION_SQL
from adapters.signing.pii import AesPiiProtector
from bench.health_scale import _generate, _queries
from tests.integration.test_health_postgres import run
from tests.support.health import FakeClock, pg_citizen, pg_facility, pg_use_cases

AN = "001085000101"
PII = AesPiiProtector(os.urandom(32))


async def _plan(conn: Any, sql: str, *args: Any) -> str:
    return "\n".join(r[0] for r in await conn.fetch("EXPLAIN " + sql, *args))


def test_hot_reads_use_the_patient_indexes_on_a_large_analysed_table(clean_db: str) -> None:
    async def body(conn: Any) -> None:
        user_id = await pg_citizen(conn, PII, AN)
        _, principal = await pg_facility(conn, DEMO_FACILITIES[0].code, DEMO_FACILITIES[0].name)
        clock = FakeClock()
        for v in range(2):
            async with conn.transaction():
                result = await pg_use_cases(conn, PII, clock)["ingest"].execute(
                    principal,
                    typical_bundle(
                        personal_id=AN, visit_code=f"S-{v}", seed=v, start=datetime(2025, 3 + v, 1, 2, tzinfo=UTC)
                    ),
                )
        patient = result.patient_id
        await _generate(conn, patient, 3000, 10, False)
        await conn.execute("ANALYZE health_patients, health_encounters, health_resources")
        assert await conn.fetchval("SELECT count(*) FROM health_resources") == 42 + 30_000
        # The generator rebuilt every index and constraint it dropped for the load.
        names = {
            r[0] for r in await conn.fetch("SELECT indexname FROM pg_indexes WHERE tablename = 'health_resources'")
        }
        assert {"health_resources_pkey", "health_resources_patient_type", "health_resources_patient_category"} <= names

        plans = {name: await _plan(conn, sql, *args) for name, (sql, args) in _queries(patient).items()}
        assert "health_resources_patient_category" in plans["timeline"], plans["timeline"]
        # What the app's timeline sends: the citizen's patient id and first page with the session check.
        plans["own timeline"] = await _plan(conn, OWN_ITEMS_IN_SESSION_SQL, user_id, "visits", None, None, 21,
                                            uuid.uuid4())
        assert "health_resources_patient_category" in plans["own timeline"], plans["own timeline"]
        plans["lists"] = await _plan(conn, ITEMS_SQL, patient, ["labs", "vitals"], None, None, None, None, 21)
        plans["count"] = await _plan(
            conn,
            COUNT_SQL,
            patient,
            "Observation",
            ["labs", "vitals"],
            None,
            ["laboratory"],
            [],
            None,
            None,
            [],
            [],
            [],
        )
        plans["detail"] = await _plan(
            conn,
            f"SELECT {COLS} FROM health_resources WHERE id = $1 AND patient_id = $2",
            result.resources[0].id,
            patient,
        )
        for name, plan in plans.items():
            assert "Seq Scan" not in plan, (name, plan)
            assert "Index Scan using health_resources_" in plan or "Bitmap Index Scan on health_resources_" in plan, (
                name,
                plan,
            )

    run(clean_db, body)
