"""The health demo seed: facilities, records for the demo people, idempotent on every start."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from adapters.postgres.health.seed import DEMO_PATIENTS, seed_health
from adapters.postgres.pool import connect
from adapters.signing.pii import AesPiiProtector


def test_seed_twice_is_the_same_record(clean_db: str) -> None:
    pii = AesPiiProtector(os.urandom(32))

    async def go() -> None:
        conn: Any = await connect(clean_db)
        try:
            async with conn.transaction():
                sent = await seed_health(conn, pii, years=2)
            counts = [await conn.fetchval(f"SELECT count(*) FROM {t}")
                      for t in ("health_facilities", "health_patients", "health_encounters", "health_resources")]
            assert counts[0] == 5
            assert counts[1] == len(DEMO_PATIENTS)
            assert counts[2] == sent
            assert counts[3] > sent * 5
            async with conn.transaction():
                assert await seed_health(conn, pii, years=2) == 0  # already there: nothing resent
            again = [await conn.fetchval(f"SELECT count(*) FROM {t}")
                     for t in ("health_facilities", "health_patients", "health_encounters", "health_resources")]
            assert again == counts
            assert await conn.fetchval("SELECT max(version_id) FROM health_resources") == 1
            kinds = {r[0] for r in await conn.fetch("SELECT DISTINCT resource_type FROM health_resources")}
            assert {"Immunization", "ServiceRequest", "Appointment", "DocumentReference", "Procedure"} <= kinds
        finally:
            await conn.close()
    asyncio.run(go())
