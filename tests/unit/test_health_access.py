"""Who reads what: the patient, a second citizen, facilities, shares (expired, revoked, scoped), the log."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.dev.health_bundles import DEMO_FACILITIES, typical_bundle
from domain.errors import Forbidden, InvalidInput, NotFound
from domain.health.model import Category
from domain.health.reading import Search, Total, parse_date_param
from tests.support.health import World

AN, BINH = "001085000101", "001192000202"


async def _world() -> tuple[World, object, object]:
    w = World()
    w.patients.citizen(AN)
    w.patients.citizen(BINH)
    _f0, p0 = await w.facility(DEMO_FACILITIES[0].code, DEMO_FACILITIES[0].name)
    _f1, p1 = await w.facility(DEMO_FACILITIES[1].code, DEMO_FACILITIES[1].name)
    await w.ingest.execute(p0, typical_bundle(personal_id=AN, facility=DEMO_FACILITIES[0]))
    await w.ingest.execute(p1, typical_bundle(personal_id=AN, facility=DEMO_FACILITIES[1], visit_code="V-2", seed=2))
    return w, p0, p1


async def test_citizen_timeline_pages_by_cursor_and_detail_lists_the_visit() -> None:
    w, _, _ = await _world()
    an = w.citizen_principal(AN)
    first = await w.citizen.entries(an, (Category.LABS,), limit=4)
    assert len(first.items) == 4
    assert first.next_cursor
    seen = [i.id for i in first.items]
    cursor = first.next_cursor
    while cursor:
        page = await w.citizen.entries(an, (Category.LABS,), cursor=cursor, limit=4)
        seen += [i.id for i in page.items]
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 12  # 5 results + 1 report per visit, two visits
    visits = await w.citizen.entries(an, (Category.VISITS,))
    assert sorted(v.facility_name or "" for v in visits.items) == sorted(f.name for f in DEMO_FACILITIES[:2])
    visit, related = await w.citizen.detail(an, visits.items[0].id)
    assert visit.resource_type == "Encounter"
    assert {r.encounter_id for r in related} == {visit.id}
    assert len(related) == 20
    with pytest.raises(InvalidInput):
        await w.citizen.entries(an, (Category.LABS,), cursor="@@not-a-cursor")


async def test_second_citizen_and_level_1_get_nothing() -> None:
    w, _, _ = await _world()
    an, binh = w.citizen_principal(AN), w.citizen_principal(BINH)
    an_patient = await w.policy.own(an)
    with pytest.raises(NotFound):
        await w.citizen.entries(binh, (Category.VISITS,))  # Bình has no record yet
    with pytest.raises(NotFound):
        await w.fhir.patient(binh, an_patient)
    visit = (await w.citizen.entries(an, (Category.VISITS,))).items[0]
    with pytest.raises(NotFound):
        await w.citizen.detail(binh, visit.id)
    with pytest.raises(NotFound):
        await w.fhir.read(binh, "Encounter", visit.id)
    with pytest.raises(Forbidden):
        await w.citizen.entries(w.citizen_principal(AN, level=1), (Category.VISITS,))
    assert w.log.rows == []


async def test_facility_reads_only_its_own_rows_and_is_logged() -> None:
    w, p0, _ = await _world()
    an = w.citizen_principal(AN)
    patient = await w.policy.own(an)
    result = await w.fhir.search(p0, Search(resource_type="Encounter", patient_id=patient))  # type: ignore[arg-type]
    assert result.total == 1
    assert result.resources[0].facility_id == (await w.facilities.by_code(DEMO_FACILITIES[0].code)).id  # type: ignore[union-attr]
    other_visit = next(r for r in w.store.resources.values()
                       if r.resource_type == "Encounter" and r.facility_id != result.resources[0].facility_id)
    with pytest.raises(NotFound):
        await w.fhir.read(p0, "Encounter", other_visit.id)  # type: ignore[arg-type]
    # A facility that never treated the patient gets nothing at all.
    _, p2 = await w.facility(DEMO_FACILITIES[2].code)
    with pytest.raises(NotFound):
        await w.fhir.search(p2, Search(resource_type="Encounter", patient_id=patient))
    assert [(e.reader_name, e.action, e.why) for e in w.log.rows] == [(DEMO_FACILITIES[0].name, "search", "treatment")]
    assert [n.template for n in w.notifier.sent].count("health.new_reader") == 1
    page = await w.history.list(an)
    assert [e.reader_name for e in page.items] == [DEMO_FACILITIES[0].name]


async def test_share_scope_expiry_and_revocation() -> None:
    w, _, _ = await _world()
    an = w.citizen_principal(AN)
    patient = await w.policy.own(an)
    doctor = w.citizen_principal("001070000909")
    created = await w.sharing.create(an, categories=(Category.MEDICATIONS, Category.ALLERGIES),
                                     recipient="BS. Lan, BV Thanh Nhàn", hours=24)
    assert len(created.code) == 10
    with pytest.raises(NotFound):  # not redeemed yet
        await w.fhir.patient(doctor, patient)
    await w.sharing.redeem(doctor, created.code.lower())
    assert (await w.fhir.patient(doctor, patient)).id == patient
    meds = await w.fhir.search(doctor, Search(resource_type="MedicationRequest", patient_id=patient))
    assert meds.total == 4
    labs = await w.fhir.search(doctor, Search(resource_type="Observation", patient_id=patient))
    assert labs.total == 0  # not in the share
    summary = await w.fhir.summary(doctor, patient)
    assert summary.problems == []
    assert summary.allergies
    assert {e.why for e in w.log.rows} == {"share:BS. Lan, BV Thanh Nhàn"}

    w.clock.advance(hours=25)
    with pytest.raises(NotFound):
        await w.fhir.patient(doctor, patient)
    with pytest.raises(NotFound):
        await w.sharing.redeem(w.citizen_principal("001070000808"), created.code)

    second = await w.sharing.create(an, categories=(), recipient="BV Xanh Pôn", hours=2)
    _, facility = await w.facility(DEMO_FACILITIES[3].code)
    await w.sharing.redeem(facility, second.code)  # type: ignore[arg-type]
    assert (await w.fhir.search(facility, Search(resource_type="Observation", patient_id=patient))).total > 0  # type: ignore[arg-type]
    await w.sharing.revoke(an, second.share.id)
    with pytest.raises(NotFound):
        await w.fhir.search(facility, Search(resource_type="Observation", patient_id=patient))  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await w.sharing.revoke(w.citizen_principal(BINH), second.share.id)
    with pytest.raises(InvalidInput):
        await w.sharing.create(an, categories=(), recipient="x", hours=24 * 30)


async def test_fhir_search_filters_and_summary() -> None:
    w, _, _ = await _world()
    an = w.citizen_principal(AN)
    patient = await w.policy.own(an)
    vitals = await w.fhir.search(an, Search(resource_type="Observation", patient_id=patient, category=("vital-signs",)))
    assert vitals.total == 8
    glucose = await w.fhir.search(an, Search(resource_type="Observation", patient_id=patient,
                                             code=("http://loinc.org|2345-7",)))
    assert glucose.total == 2
    dated = await w.fhir.search(an, Search(resource_type="Observation", patient_id=patient, category=("laboratory",),
                                           date=("ge2026-03-09", "lt2026-03-10")))
    assert dated.total == 10
    none = await w.fhir.search(an, Search(resource_type="Encounter", patient_id=patient, date=("lt2020",)))
    assert none.total == 0
    active = await w.fhir.search(an, Search(resource_type="Condition", patient_id=patient,
                                            clinical_status=("active",)))
    assert active.total == 4
    orders = await w.fhir.search(an, Search(resource_type="MedicationRequest", patient_id=patient,
                                            intent=("order",), status=("active",), count=3))
    assert (orders.total, len(orders.resources), orders.more) == (4, 3, True)  # a first page: counted
    summary = await w.fhir.summary(an, patient)
    assert len(summary.problems) == 2  # I10 and E11.9, once each although sent twice
    assert len(summary.medications) == 2
    assert w.log.rows == []  # the patient's own reads are not logged


def test_date_parameter_ranges() -> None:
    d = parse_date_param(("ge2026-03-09", "lt2026-04"))
    assert d.start is not None
    assert d.end is not None
    assert (d.start.day, d.end.month, d.end.day) == (9, 4, 1)
    year = parse_date_param(("2025",))
    assert year.start is not None
    assert year.end is not None
    assert (year.end - year.start).days == 365
    with pytest.raises(InvalidInput):
        parse_date_param(("ge-yesterday",))


async def test_export_holds_the_whole_record_in_pages() -> None:
    from domain.health.reading import ExportRecord

    w, _, _ = await _world()
    an = w.citizen_principal(AN)
    export = await ExportRecord(w.policy, w.store, w.patients).execute(an, batch=7)
    assert len(export.items) == len(w.store.resources) == 42
    assert len({i.id for i in export.items}) == 42
    assert export.patient is not None
    with pytest.raises(NotFound):
        await ExportRecord(w.policy, w.store, w.patients).execute(w.citizen_principal(BINH))


class _CountingStore:
    """The fake record, counting the statements the search sends (a page, a count)."""

    def __init__(self, store: Any) -> None:
        self.store, self.pages, self.counts = store, 0, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def search(self, *args: Any, **kw: Any) -> Any:
        self.pages += 1
        return await self.store.search(*args, **kw)

    async def count(self, *args: Any, **kw: Any) -> Any:
        self.counts += 1
        return await self.store.count(*args, **kw)


@pytest.mark.parametrize(("count", "offset", "total", "expected"), [
    # (total, entries, next page?, counted?)
    (3, 0, None, (4, 3, True, True)),            # first of two pages: not proven, so counted (the default)
    (3, 3, None, (4, 1, False, False)),          # the last page proves it: offset + entries, no count
    (4, 0, None, (4, 4, False, False)),          # exactly one full page: the row past it is absent
    (20, 0, None, (4, 4, False, False)),
    (3, 8, None, (4, 0, False, True)),           # past the end: nothing proven, counted
    (3, 0, Total.NONE, (None, 3, True, False)),  # not wanted: never counted
    (3, 0, Total.ACCURATE, (4, 3, True, True)),  # asked for: counted
    (3, 0, Total.ESTIMATE, (4, 3, True, True)),  # an exact count is an estimate
    (3, 8, Total.ACCURATE, (4, 0, False, True)),
    (3, 3, Total.ACCURATE, (4, 1, False, False)),  # proven by the page: no count statement
    (3, 3, Total.NONE, (None, 1, False, False)),   # not wanted, even when known
    (0, 0, None, (4, 0, False, True)),           # _count=0: the total is all that is asked for
    (0, 0, Total.NONE, (None, 0, False, False)),
])
async def test_fhir_search_gives_the_total_unless_asked_for_none(
        count: int, offset: int, total: Total | None, expected: tuple[Any, ...]) -> None:
    w, _, _ = await _world()
    an = w.citizen_principal(AN)
    patient = await w.policy.own(an)
    store = _CountingStore(w.fhir.record)
    w.fhir.record = store  # type: ignore[assignment]
    result = await w.fhir.search(an, Search(resource_type="MedicationRequest", patient_id=patient, intent=("order",),
                                            status=("active",), count=count, offset=offset, total=total))
    assert (result.total, len(result.resources), result.more, store.counts == 1) == expected
    assert store.pages == (1 if count else 0)
    everything = await w.fhir.search(an, Search(resource_type="MedicationRequest", patient_id=patient,
                                                intent=("order",), status=("active",), count=100))
    assert [r.id for r in result.resources] == [r.id for r in everything.resources][offset:offset + count]


async def test_a_third_party_search_is_logged_whatever_the_total_asked() -> None:
    w, p0, _ = await _world()
    patient = await w.policy.own(w.citizen_principal(AN))
    for total in (None, Total.NONE, Total.ACCURATE):
        await w.fhir.search(p0, Search(resource_type="Encounter", patient_id=patient, count=0, total=total))
    assert [(e.action, e.what) for e in w.log.rows] == [("search", "Encounter")] * 3
