"""Social-insurance sync from the visit rows: at least once, idempotent, new versions re-sent, backoff."""

from __future__ import annotations

import asyncio
import copy
import os
from datetime import timedelta
from typing import Any

import asyncpg

from adapters.dev.health_bundles import DEMO_FACILITIES, typical_bundle
from adapters.dev.health_insurance_standin import RecordingInsuranceGateway
from adapters.postgres.health.insurance import PgInsuranceQueue
from adapters.postgres.pool import _init_connection
from adapters.signing.pii import AesPiiProtector
from domain.health.insurance import SyncToSocialInsurance
from tests.support.health import FakeClock, pg_citizen, pg_facility, pg_use_cases

PII = AesPiiProtector(os.urandom(32))
AN = "001085000101"


def test_visits_reach_social_insurance_once_per_version(clean_db: str) -> None:
    async def go() -> None:
        pool: Any = await asyncpg.create_pool(clean_db, min_size=2, max_size=4, init=_init_connection)
        try:
            clock = FakeClock()
            async with pool.acquire() as conn:
                await pg_citizen(conn, PII, AN)
                _, principal = await pg_facility(conn, DEMO_FACILITIES[0].code, DEMO_FACILITIES[0].name)
                bundle = typical_bundle(personal_id=AN)
                bundle["entry"][0]["resource"]["identifier"].append(
                    {"system": "https://fhir.thudo.hanoi.gov.vn/sid/bhyt", "value": "DN4010123456789"})
                for b in (bundle, typical_bundle(personal_id=AN, visit_code="01929.2026.000124", seed=3)):
                    async with conn.transaction():
                        await pg_use_cases(conn, PII, clock)["ingest"].execute(principal, b)
            # Due rows are stamped by the database clock; the worker's clock runs a little ahead.
            clock.t = (await pool.fetchval("SELECT now()")) + timedelta(seconds=1)
            gateway = RecordingInsuranceGateway()
            gateway.down_for = 1
            sync = SyncToSocialInsurance(PgInsuranceQueue(pool), gateway, clock)
            assert await sync.run_once() == (1, 1)  # the first call hits the outage, the other goes through
            assert await sync.run_once() == (0, 0)  # the failed one waits for its backoff
            clock.advance(minutes=5)
            assert await sync.run_once() == (1, 0)
            assert len(gateway.received) == 2
            first = gateway.received["01929|01929.2026.000123|1"]
            assert first.insurance_card == "DN4010123456789"
            assert [d.code for d in first.diagnoses] == ["I10", "E11.9"]
            assert {m.code for m in first.medicines} == {"C08CA01", "A10BA02"}
            assert "001085000101" not in str(first)

            # A corrected resend is a new version: sent again under a new key; an identical one is not.
            changed = copy.deepcopy(bundle)
            changed["entry"][14]["resource"]["dosageInstruction"] = [{"text": "Uống 2 viên/ngày"}]
            async with pool.acquire() as conn:
                for b in (changed, copy.deepcopy(changed)):
                    async with conn.transaction():
                        await pg_use_cases(conn, PII, clock)["ingest"].execute(principal, b)
            clock.t = (await pool.fetchval("SELECT now()")) + timedelta(seconds=1)
            assert await sync.run_once() == (1, 0)
            assert set(gateway.received) == {"01929|01929.2026.000123|1", "01929|01929.2026.000124|1",
                                             "01929|01929.2026.000123|2"}
            assert await pool.fetchval("SELECT count(*) FROM health_encounters WHERE insurance_version < version") == 0

            # Two workers never claim the same visit.
            async with pool.acquire() as conn:
                await conn.execute("UPDATE health_encounters SET insurance_version = 0")
            a = SyncToSocialInsurance(PgInsuranceQueue(pool), gateway, clock)
            b = SyncToSocialInsurance(PgInsuranceQueue(pool), gateway, clock)
            calls = gateway.calls
            results = await asyncio.gather(a.run_once(limit=1), b.run_once(limit=1))
            assert sorted(r[0] for r in results) == [1, 1]
            assert gateway.calls == calls + 2
        finally:
            await pool.close()
    asyncio.run(go())
