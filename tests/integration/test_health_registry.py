"""Facility registry on PostgreSQL (city admins), and the access log's first-reader notification."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import pytest

from adapters.dev.health_bundles import DEMO_FACILITIES, typical_bundle
from adapters.postgres.health.repositories import FacilityCache, PgFacilities
from adapters.postgres.pool import connect
from adapters.signing.pii import AesPiiProtector
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.health.facilities import FacilityDraft, FacilityRegistry
from domain.health.model import FacilityLevel
from domain.health.reading import Search
from domain.identity.principal import Principal, PrincipalKind
from tests.support.health import FakeClock, pg_citizen, pg_facility, pg_use_cases

PII = AesPiiProtector(os.urandom(32))
ADMIN = Principal(kind=PrincipalKind.USER, id=uuid.uuid4(), level=2, city_admin=True)


def run(url: str, body: Any) -> None:
    async def go() -> None:
        conn = await connect(url)
        try:
            await body(conn)
        finally:
            await conn.close()
    asyncio.run(go())


def test_registry_add_update_list_and_rules(clean_db: str) -> None:
    async def body(conn: Any) -> None:
        district = await conn.fetchval("SELECT id FROM units WHERE code = 'D001'")
        cache = FacilityCache()
        registry = FacilityRegistry(PgFacilities(conn, cache))
        added = await registry.add(ADMIN, FacilityDraft(code="01001", name="Bệnh viện Đa khoa Xanh Pôn",
                                                        level=FacilityLevel.CITY, district_id=district))
        with pytest.raises(Conflict):
            await registry.add(ADMIN, FacilityDraft(code="01001", name="x", level=FacilityLevel.CITY))
        with pytest.raises(InvalidInput):
            await registry.add(ADMIN, FacilityDraft(code="bad code", name="x", level=FacilityLevel.CITY))
        with pytest.raises(Forbidden):
            await registry.list(Principal(kind=PrincipalKind.USER, id=ADMIN.id, level=2))
        client = uuid.uuid4()
        await conn.execute("INSERT INTO api_clients (id, client_id, kind, name, public_jwk) "
                           "VALUES ($1, 'xanh-pon', 'facility', 'Xanh Pôn', '{}')", client)
        assert await PgFacilities(conn, cache).by_client(client) is None  # cached as unknown …
        updated = await registry.update(ADMIN, added.id, FacilityDraft(
            code="01001", name="Bệnh viện Xanh Pôn", level=FacilityLevel.CITY, district_id=district, client_id=client))
        found = await PgFacilities(conn, cache).by_client(client)  # … until an update drops the cache
        assert found is not None
        assert found.name == updated.name == "Bệnh viện Xanh Pôn"
        assert [f.code for f in await registry.list(ADMIN, district)] == ["01001"]
        with pytest.raises(NotFound):
            await registry.update(ADMIN, client, FacilityDraft(code="01001", name="x", level=FacilityLevel.CITY))
        # A facility sits in a district (not a ward, not an unknown id) and sends with a facility's client.
        ward = await conn.fetchval("SELECT id FROM units WHERE kind = 'ward' LIMIT 1")
        validator = uuid.uuid4()
        await conn.execute("INSERT INTO api_clients (id, client_id, kind, name, public_jwk) "
                           "VALUES ($1, 'gate-1', 'validator', 'Gate 1', '{}')", validator)
        refusals = ((uuid.uuid4(), None, "district_id"), (ward, None, "district_id"),
                    (district, uuid.uuid4(), "client_id"), (district, validator, "client_id"))
        for district_id, client_id, field in refusals:
            with pytest.raises(InvalidInput) as refused:
                await registry.add(ADMIN, FacilityDraft(code="01002", name="x", level=FacilityLevel.DISTRICT,
                                                        district_id=district_id, client_id=client_id))
            assert refused.value.field == field
        assert await PgFacilities(conn).by_code("01002") is None
    run(clean_db, body)


def test_a_new_reader_notifies_the_citizen_once(clean_db: str) -> None:
    async def body(conn: Any) -> None:
        clock = FakeClock()
        user = await pg_citizen(conn, PII, "001085000101")
        _, facility = await pg_facility(conn, DEMO_FACILITIES[0].code, DEMO_FACILITIES[0].name)
        uc = pg_use_cases(conn, PII, clock)
        result = await uc["ingest"].execute(facility, typical_bundle())
        for _ in range(3):
            await uc["fhir"].search(facility, Search(resource_type="Condition", patient_id=result.patient_id))
        assert await conn.fetchval("SELECT count(*) FROM health_access_log") == 3
        rows = await conn.fetch("SELECT template, content::text AS content FROM notification_inbox "
                                "WHERE user_id = $1 ORDER BY created_at", user)
        assert [r["template"] for r in rows] == ["health.new_visit", "health.new_reader"]
        assert DEMO_FACILITIES[0].name in rows[1]["content"]
        assert "I10" not in rows[1]["content"]  # no health data in a notification
    run(clean_db, body)
