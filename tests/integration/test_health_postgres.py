"""Health adapters on real PostgreSQL: realistic visits in, both views out, resends, rejection, EXPLAIN."""

from __future__ import annotations

import asyncio
import copy
import os
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import pytest

from adapters.dev.health_bundles import DEMO_FACILITIES, demo_history, typical_bundle
from adapters.postgres.health.record import SEARCH_SQL, TIMELINE_SQL
from adapters.postgres.pool import connect
from adapters.signing.pii import AesPiiProtector
from domain.health import codes
from domain.health.issues import BundleRejected
from domain.health.model import BUNDLE_PATIENT, Category
from domain.health.reading import Search, Total
from domain.identity.principal import Principal, PrincipalKind
from tests.support.health import FakeClock, entry_index, pg_citizen, pg_facility, pg_use_cases

AN = "001085000101"
PII = AesPiiProtector(os.urandom(32))


def run(database_url: str, body: Callable[[Any], Awaitable[None]]) -> None:
    async def go() -> None:
        conn = await connect(database_url)
        try:
            await body(conn)
        finally:
            await conn.close()
    asyncio.run(go())


async def _count(conn: Any, table: str) -> int:
    return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))


async def _ingest(conn: Any, clock: FakeClock, principal: Principal, bundle: Any) -> Any:
    async with conn.transaction():
        return await pg_use_cases(conn, PII, clock)["ingest"].execute(principal, bundle)


def test_realistic_history_in_both_views_out(clean_db: str) -> None:
    async def body(conn: Any) -> None:
        clock = FakeClock()
        user_id = await pg_citizen(conn, PII, AN, "Nguyễn Văn An")
        principals = {}
        for f in DEMO_FACILITIES:
            _, principals[f.code] = await pg_facility(conn, f.code, f.name, f.level)
        history = demo_history(AN, "Nguyễn Văn", "An", "male", date(1985, 3, 12), years=3)
        for bundle in history:
            code = bundle["entry"][1]["resource"]["serviceProvider"]["identifier"]["value"]
            assert (await _ingest(conn, clock, principals[code], bundle)).created
        resources = await _count(conn, "health_resources")
        assert await _count(conn, "health_encounters") == len(history)
        # Same bundles again: no duplicates, nothing rewritten.
        for bundle in history[:3]:
            code = bundle["entry"][1]["resource"]["serviceProvider"]["identifier"]["value"]
            result = await _ingest(conn, clock, principals[code], copy.deepcopy(bundle))
            assert not result.created
            assert {o.outcome for o in result.resources} == {"unchanged"}
        assert await _count(conn, "health_resources") == resources
        assert await _count(conn, "health_encounters") == len(history)
        # The citizen is told about each new visit (inbox rows in the same transactions).
        assert await conn.fetchval("SELECT count(*) FROM notification_inbox WHERE user_id = $1 "
                                   "AND template = 'health.new_visit'", user_id) == len(history)

        uc = pg_use_cases(conn, PII, clock)
        me = Principal(kind=PrincipalKind.USER, id=user_id, level=2)
        timeline, cursor = [], None
        while True:
            page = await uc["citizen"].entries(me, (Category.VISITS,), cursor=cursor, limit=3)
            timeline += page.items
            cursor = page.next_cursor
            if cursor is None:
                break
        assert len(timeline) == len(history)
        assert [v.date for v in timeline] == sorted((v.date for v in timeline), reverse=True)
        labs = await uc["citizen"].entries(me, (Category.LABS,), limit=100)
        glucose = next(i for i in labs.items if i.code == "2345-7")
        assert (glucose.range_low, glucose.range_high, glucose.value.unit) == (3.9, 6.4, "mmol/L")
        for cat in (Category.MEDICATIONS, Category.IMMUNIZATIONS, Category.REFERRALS, Category.APPOINTMENTS,
                    Category.ALLERGIES, Category.DOCUMENTS, Category.PROBLEMS):
            assert (await uc["citizen"].entries(me, (cat,))).items, cat
        visit, related = await uc["citizen"].detail(me, timeline[-1].id)
        assert related
        assert all(r.encounter_id == visit.id for r in related)

        patient_id = await uc["policy"].own(me)
        found = await uc["fhir"].search(me, Search(resource_type="Immunization", patient_id=patient_id,
                                                   date=("ge2024",), count=2))
        assert found.total >= 1
        assert all(r.resource["patient"]["reference"] == f"Patient/{patient_id}" for r in found.resources)
        meds = await uc["fhir"].search(me, Search(resource_type="MedicationRequest", patient_id=patient_id,
                                                  intent=("order",), status=("active",), count=5, offset=5,
                                                  total=Total.ACCURATE))
        assert meds.total is not None
        assert meds.total > 5
        assert len(meds.resources) == min(5, meds.total - 5)
        assert meds.more is (meds.total > 10)
        summary = await uc["fhir"].summary(me, patient_id)
        assert {r.codes[0] for r in summary.problems} >= {"http://hl7.org/fhir/sid/icd-10|I10"}
        assert summary.allergies
        patient = await uc["fhir"].patient(me, patient_id)
        assert patient.resource["name"][0]["family"] == "Nguyễn Văn"
        assert AN not in str(patient.resource)

        plan = "\n".join(r[0] for r in await conn.fetch(
            "EXPLAIN " + TIMELINE_SQL, patient_id, "visits", None, None, 20))
        assert "health_resources_patient_category" in plan
        # The FHIR search (hot read of the FHIR API) must stay on a (patient, …) index too.
        plan = "\n".join(r[0] for r in await conn.fetch(
            "EXPLAIN " + SEARCH_SQL, patient_id, "Observation", ["labs", "vitals"], None, ["laboratory"], [],
            None, None, [], [], [], 0, 21))
        assert "Index Scan using health_resources_patient_" in plan, plan
        assert "Seq Scan on health_resources" not in plan, plan
    run(clean_db, body)


def test_one_bad_resource_stores_nothing_and_a_changed_resend_updates(clean_db: str) -> None:
    async def body(conn: Any) -> None:
        clock = FakeClock()
        await pg_citizen(conn, PII, AN)
        _, principal = await pg_facility(conn, DEMO_FACILITIES[0].code, DEMO_FACILITIES[0].name)
        bundle = typical_bundle(personal_id=AN)
        bad = copy.deepcopy(bundle)
        i = entry_index(bad, "MedicationRequest", 1)
        bad["entry"][i]["resource"]["medicationCodeableConcept"]["coding"][0]["code"] = "metformin"
        with pytest.raises(BundleRejected) as err:
            await _ingest(conn, clock, principal, bad)
        assert [(x.rule, x.expression) for x in err.value.issues] == [
            ("health.atc_invalid", f"Bundle.entry[{i}].resource.medicationCodeableConcept.coding[0].code")]
        for table in ("health_encounters", "health_resources", "notification_inbox"):
            assert await _count(conn, table) == 0, table
        assert await conn.fetchval("SELECT resource FROM health_patients") is None

        first = await _ingest(conn, clock, principal, bundle)
        clock.advance(days=1)
        changed = copy.deepcopy(bundle)
        j = entry_index(changed, "Observation", 4)
        changed["entry"][j]["resource"]["valueQuantity"]["value"] = 6.1
        second = await _ingest(conn, clock, principal, changed)
        assert second.encounter_id == first.encounter_id
        updated = [o for o in second.resources if o.outcome == "updated"]
        assert len(updated) == 1
        row = await conn.fetchrow("SELECT version_id, last_updated, resource, item FROM health_resources "
                                  "WHERE id = $1", updated[0].id)
        assert row["version_id"] == 2
        assert row["last_updated"] == clock.now()
        assert row["resource"]["meta"]["versionId"] == "2"
        assert row["resource"]["valueQuantity"]["value"] == 6.1
        assert await conn.fetchval("SELECT version FROM health_encounters") == 2
        assert await _count(conn, "health_resources") == len(bundle["entry"]) - 1
    run(clean_db, body)


def test_the_visit_statement_finds_the_patient_binds_their_id_and_keeps_their_demographics(clean_db: str) -> None:
    """A new visit is one statement with the patient lookup in it: the rows are planned for a placeholder
    patient, and what is stored names the real one everywhere (columns, references, the Patient)."""
    async def body(conn: Any) -> None:
        clock = FakeClock()
        _, principal = await pg_facility(conn, DEMO_FACILITIES[0].code, DEMO_FACILITIES[0].name)
        with pytest.raises(BundleRejected) as err:  # nobody has this personal ID: nothing written at all
            await _ingest(conn, clock, principal, typical_bundle(personal_id=AN))
        assert [(x.rule, x.expression) for x in err.value.issues] == [
            ("health.patient_unknown", "Bundle.entry[0].resource.identifier")]
        for table in ("health_patients", "health_encounters", "health_resources", "notification_inbox"):
            assert await _count(conn, table) == 0, table

        await pg_citizen(conn, PII, AN)
        bundle = typical_bundle(personal_id=AN)
        first = await _ingest(conn, clock, principal, bundle)  # a first visit: enrolled in the same statement
        pid = first.patient_id
        assert await conn.fetchval("SELECT count(*) FROM health_patients WHERE id = $1", pid) == 1
        assert await conn.fetchval("SELECT count(DISTINCT patient_id) FROM health_resources") == 1
        assert await conn.fetchval("SELECT patient_id FROM health_resources LIMIT 1") == pid
        assert await conn.fetchval("SELECT patient_id FROM health_encounters") == pid
        patient = await conn.fetchrow("SELECT version_id, resource FROM health_patients")
        assert patient["version_id"] == 1
        assert patient["resource"]["id"] == str(pid)
        assert {"system": codes.PATIENT, "value": str(pid)} in patient["resource"]["identifier"]
        assert patient["resource"]["meta"]["versionId"] == "1"

        async def stored_json() -> str:
            return "\n".join(await conn.fetchval("SELECT array_agg(resource::text) FROM health_resources") or [])
        subjects = await conn.fetch("SELECT resource #>> '{subject,reference}' AS s FROM health_resources "
                                    "WHERE resource ? 'subject'")
        assert subjects
        assert all(r["s"] == f"Patient/{pid}" for r in subjects)
        assert str(BUNDLE_PATIENT) not in await stored_json()

        # Another visit with the same demographics leaves the Patient as it is …
        await _ingest(conn, clock, principal, typical_bundle(personal_id=AN, visit_code="V-2", seed=2))
        assert await conn.fetchval("SELECT version_id FROM health_patients") == 1
        # … changed ones make a new version.
        renamed = typical_bundle(personal_id=AN, visit_code="V-3", seed=3)
        p = entry_index(renamed, "Patient")
        renamed["entry"][p]["resource"]["name"] = [{"text": "Nguyễn Văn Mới"}]
        await _ingest(conn, clock, principal, renamed)
        patient = await conn.fetchrow("SELECT version_id, resource FROM health_patients")
        assert patient["version_id"] == 2
        assert patient["resource"]["name"] == [{"text": "Nguyễn Văn Mới"}]
        assert patient["resource"]["id"] == str(pid)

        # A changed resend takes the update path (the patient known by then): the same binding.
        changed = copy.deepcopy(bundle)
        j = entry_index(changed, "Observation", 4)
        changed["entry"][j]["resource"]["valueQuantity"]["value"] = 6.1
        second = await _ingest(conn, clock, principal, changed)
        assert second.patient_id == pid
        assert [o.outcome for o in second.resources].count("updated") == 1
        assert str(BUNDLE_PATIENT) not in await stored_json()
        assert await conn.fetchval("SELECT count(DISTINCT patient_id) FROM health_resources") == 1
    run(clean_db, body)


def test_two_first_visits_of_one_person_at_once_meet_on_one_patient(clean_db: str) -> None:
    """The visit statement enrols a first-time patient; a second one racing it waits on the unique hash,
    then keeps that patient and stores its own demographics (they differ)."""
    async def go() -> None:
        a, b = await connect(clean_db), await connect(clean_db)
        try:
            await pg_citizen(a, PII, AN)
            _, f0 = await pg_facility(a, DEMO_FACILITIES[0].code, DEMO_FACILITIES[0].name)
            _, f1 = await pg_facility(a, DEMO_FACILITIES[1].code, DEMO_FACILITIES[1].name)
            one = typical_bundle(personal_id=AN, facility=DEMO_FACILITIES[0])
            two = typical_bundle(personal_id=AN, facility=DEMO_FACILITIES[1], visit_code="V-2", seed=2)
            two["entry"][entry_index(two, "Patient")]["resource"]["name"] = [{"text": "Tên khác"}]
            ta, tb = a.transaction(), b.transaction()
            await ta.start()
            first = await pg_use_cases(a, PII, FakeClock())["ingest"].execute(f0, one)
            await tb.start()
            racing = asyncio.create_task(pg_use_cases(b, PII, FakeClock())["ingest"].execute(f1, two))
            await asyncio.sleep(0.3)
            assert not racing.done()  # waiting on the first one's enrolment
            await ta.commit()
            second = await racing
            await tb.commit()
            assert second.created
            assert second.patient_id == first.patient_id
            patient = await a.fetchrow("SELECT version_id, resource FROM health_patients")
            assert await _count(a, "health_patients") == 1
            assert patient["version_id"] == 2
            assert patient["resource"]["name"] == [{"text": "Tên khác"}]
            assert patient["resource"]["id"] == str(first.patient_id)
            assert await a.fetchval("SELECT count(DISTINCT patient_id) FROM health_resources") == 1
            assert await _count(a, "health_encounters") == 2
        finally:
            await a.close()
            await b.close()
    asyncio.run(go())
