"""One scenario against the in-memory fakes and against PostgreSQL: same answers (keeps the fakes honest)."""

from __future__ import annotations

import asyncio
import copy
import os
from typing import Any

from adapters.dev.health_bundles import DEMO_FACILITIES, typical_bundle
from adapters.postgres.pool import connect
from adapters.signing.pii import AesPiiProtector
from domain.errors import NotFound
from domain.health.issues import BundleRejected
from domain.health.model import Category
from domain.health.reading import Search
from domain.identity.principal import Principal, PrincipalKind
from tests.support.health import FakeClock, World, pg_citizen, pg_facility, pg_use_cases

AN, BINH, DOCTOR = "001085000101", "001192000202", "001070000909"


async def scenario(uc: dict[str, Any], people: dict[str, Principal], facilities: list[Principal],
                   clock: FakeClock) -> dict[str, Any]:
    out: dict[str, Any] = {}
    ingest = uc["ingest"]
    first = typical_bundle(personal_id=AN, facility=DEMO_FACILITIES[0])
    await ingest.execute(facilities[0], first)
    await ingest.execute(facilities[1], typical_bundle(personal_id=AN, facility=DEMO_FACILITIES[1], visit_code="V-2",
                                                       seed=2))
    out["resend"] = sorted({o.outcome for o in (await ingest.execute(facilities[0], copy.deepcopy(first))).resources})
    bad = copy.deepcopy(first)
    bad["entry"][2]["resource"]["code"]["coding"][0]["code"] = "I-10"
    try:
        await ingest.execute(facilities[0], bad)
    except BundleRejected as err:
        out["rejected"] = [(i.rule, i.expression) for i in err.issues]
    an = people["an"]
    patient = await uc["policy"].own(an)
    pages, cursor, ids = 0, None, []
    while True:
        page = await uc["citizen"].entries(an, (Category.LABS, Category.VITALS), cursor=cursor, limit=5)
        pages += 1
        ids += [i.id for i in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    out["paging"] = (pages, len(ids), len(set(ids)))
    searches = {
        "obs_lab": Search(resource_type="Observation", patient_id=patient, category=("laboratory",)),
        "obs_code": Search(resource_type="Observation", patient_id=patient, code=("http://loinc.org|2345-7",)),
        "obs_date": Search(resource_type="Observation", patient_id=patient, date=("ge2026-03-09", "lt2026-03-10")),
        "cond_active": Search(resource_type="Condition", patient_id=patient, clinical_status=("active",)),
        "meds": Search(resource_type="MedicationRequest", patient_id=patient, intent=("order",), status=("active",),
                       count=3, offset=2),
        "enc_date": Search(resource_type="Encounter", patient_id=patient, date=("lt2020",)),
    }
    for name, q in searches.items():
        result = await uc["fhir"].search(an, q)
        out[name] = (result.total, len(result.resources))
    out["facility_view"] = (await uc["fhir"].search(facilities[0], searches["obs_lab"])).total
    try:
        await uc["fhir"].search(people["binh"], searches["obs_lab"])
    except NotFound:
        out["second_citizen"] = "not found"
    share = await uc["sharing"].create(an, categories=(Category.ALLERGIES,), recipient="BS. Lan", hours=24)
    await uc["sharing"].redeem(people["doctor"], share.code)
    out["shared"] = [(await uc["fhir"].search(people["doctor"], Search(resource_type=t, patient_id=patient))).total
                     for t in ("AllergyIntolerance", "Observation")]
    clock.advance(hours=25)
    try:
        await uc["fhir"].patient(people["doctor"], patient)
    except NotFound:
        out["expired"] = "not found"
    log = await uc["history"].list(an)
    out["log"] = sorted((e.reader_kind.value, e.action) for e in log.items)
    summary = await uc["fhir"].summary(an, patient)
    out["summary"] = (len(summary.problems), len(summary.allergies), len(summary.medications),
                      len(summary.immunizations), len(summary.results))
    return out


async def fake_run() -> dict[str, Any]:
    w = World()
    people = {k: w.citizen_principal(pid) for k, pid in (("an", AN), ("binh", BINH), ("doctor", DOCTOR))}
    facilities = [(await w.facility(f.code, f.name))[1] for f in DEMO_FACILITIES[:2]]
    uc = {"ingest": w.ingest, "citizen": w.citizen, "fhir": w.fhir, "sharing": w.sharing, "history": w.history,
          "policy": w.policy}
    return await scenario(uc, people, facilities, w.clock)


async def pg_run(url: str) -> dict[str, Any]:
    pii = AesPiiProtector(os.urandom(32))
    conn: Any = await connect(url)
    try:
        clock = FakeClock()
        people = {k: Principal(kind=PrincipalKind.USER, id=await pg_citizen(conn, pii, pid), level=2)
                  for k, pid in (("an", AN), ("binh", BINH), ("doctor", DOCTOR))}
        facilities = [(await pg_facility(conn, f.code, f.name))[1] for f in DEMO_FACILITIES[:2]]
        return await scenario(pg_use_cases(conn, pii, clock), people, facilities, clock)
    finally:
        await conn.close()


def test_fakes_and_postgres_agree(clean_db: str) -> None:
    fake = asyncio.run(fake_run())
    real = asyncio.run(pg_run(clean_db))
    assert fake == real
    # …and the shared answers are the right ones.
    assert real["resend"] == ["unchanged"]
    assert real["rejected"] == [("health.icd10_format", "Bundle.entry[2].resource.code.coding[0].code")]
    assert real["paging"] == (4, 20, 20)  # (5 labs + 1 report + 4 vital signs) x 2 visits, 5 a page
    assert real["meds"] == (4, 2)
    assert real["second_citizen"] == real["expired"] == "not found"
    assert real["shared"] == [2, 0]
    assert real["log"] == [("facility", "search"), ("shared", "search"), ("shared", "search")]
