"""Ingestion use case against fakes: one encounter per bundle, all-or-nothing, idempotent resends."""

from __future__ import annotations

import copy

import pytest

from adapters.dev.health_bundles import DEMO_FACILITIES, typical_bundle
from domain.errors import Forbidden
from domain.health.codes import loinc_check_digit_ok
from domain.health.issues import BundleRejected
from domain.health.model import Category
from domain.identity.principal import Principal, PrincipalKind
from tests.support.health import World, bundle_with, entry_index

PID = "001085000101"


async def _world() -> tuple[World, object]:
    w = World()
    w.patients.citizen(PID)
    _, principal = await w.facility(DEMO_FACILITIES[0].code, DEMO_FACILITIES[0].name)
    return w, principal


async def _rejected(w: World, principal: object, bundle: object) -> list[tuple[str, str]]:
    with pytest.raises(BundleRejected) as err:
        await w.ingest.execute(principal, bundle)  # type: ignore[arg-type]
    assert w.store.saves == 0, "nothing may be stored from a rejected bundle"
    assert not w.store.resources
    return [(i.rule, i.expression) for i in err.value.issues]


async def test_typical_bundle_is_stored_with_search_columns_and_app_items() -> None:
    w, principal = await _world()
    bundle = typical_bundle(personal_id=PID)
    result = await w.ingest.execute(principal, bundle)  # type: ignore[arg-type]
    assert result.created
    assert len(result.resources) == len(bundle["entry"]) - 1  # the Patient is kept apart
    assert {o.outcome for o in result.resources} == {"created"}
    rows = list(w.store.resources.values())
    by_type = {r.resource_type for r in rows}
    assert by_type == {"Encounter", "Condition", "Observation", "DiagnosticReport", "MedicationRequest",
                       "Immunization", "AllergyIntolerance", "Procedure", "DocumentReference", "ServiceRequest",
                       "Appointment"}
    # References point at our ids; meta carries the version.
    cond = next(r for r in rows if r.resource_type == "Condition")
    assert cond.resource["subject"]["reference"] == f"Patient/{result.patient_id}"
    assert cond.resource["encounter"]["reference"] == f"Encounter/{result.encounter_id}"
    assert cond.resource["meta"]["versionId"] == "1"
    assert "http://hl7.org/fhir/sid/icd-10|I10" in next(
        r.codes for r in rows if r.resource_type == "Condition" and "I10" in r.codes)
    glucose = next(r for r in rows if "2345-7" in r.codes)
    assert glucose.category is Category.LABS
    assert glucose.item.range_low == 3.9
    assert glucose.item.range_high == 6.4
    assert glucose.item.value is not None
    assert glucose.item.value.unit == "mmol/L"
    bp = next(r for r in rows if "85354-9" in r.codes)
    assert bp.category is Category.VITALS
    assert len(bp.item.components) == 2
    visit = next(r for r in rows if r.resource_type == "Encounter")
    assert visit.item.visit_class == "outpatient"
    assert visit.item.diagnoses[0].startswith("I10")
    report = next(r for r in rows if r.resource_type == "DiagnosticReport")
    assert all(ref["reference"].startswith("Observation/") for ref in report.resource["result"])
    appt = next(r for r in rows if r.resource_type == "Appointment")
    assert appt.resource["basedOn"][0]["reference"].startswith("ServiceRequest/")
    # Demographics without the personal ID.
    patient = w.patients.stored[result.patient_id]
    assert PID not in str(patient.resource)
    # A new visit notifies the citizen.
    assert [n.template for n in w.notifier.sent] == ["health.new_visit"]


async def test_same_bundle_twice_changes_nothing_and_a_changed_resend_updates_in_place() -> None:
    w, principal = await _world()
    bundle = typical_bundle(personal_id=PID)
    first = await w.ingest.execute(principal, bundle)  # type: ignore[arg-type]
    again = await w.ingest.execute(principal, copy.deepcopy(bundle))  # type: ignore[arg-type]
    assert not again.created
    assert again.encounter_id == first.encounter_id
    assert {o.outcome for o in again.resources} == {"unchanged"}
    assert w.store.saves == 1
    count = len(w.store.resources)

    i = entry_index(bundle, "Observation", 5)  # a lab result is corrected, the allergy is withdrawn
    changed = bundle_with(bundle, i, status="amended")
    j = entry_index(changed, "AllergyIntolerance")
    del changed["entry"][j]
    w.clock.advance(hours=1)
    third = await w.ingest.execute(principal, changed)  # type: ignore[arg-type]
    outcomes = {o.outcome for o in third.resources}
    assert outcomes == {"unchanged", "updated", "deleted"}
    updated = [o for o in third.resources if o.outcome == "updated"]
    assert len(updated) == 1
    assert updated[0].version_id == 2
    row = w.store.resources[updated[0].id]
    assert row.resource["meta"]["versionId"] == "2"
    assert row.status == "amended"
    assert len(w.store.resources) == count - 1
    assert len(w.store.headers) == 1
    assert [n.template for n in w.notifier.sent] == ["health.new_visit"]  # a resend is not a new visit


async def test_one_bad_resource_rejects_the_bundle_naming_it() -> None:
    w, principal = await _world()
    bundle = typical_bundle(personal_id=PID)
    i = entry_index(bundle, "Observation", 4)
    bad = copy.deepcopy(bundle)
    bad["entry"][i]["resource"]["code"]["coding"][0]["code"] = "2345-8"  # wrong LOINC check digit
    issues = await _rejected(w, principal, bad)
    assert issues == [("health.loinc_invalid", f"Bundle.entry[{i}].resource.code.coding[0].code")]


async def test_structural_problems_are_all_listed_with_their_paths() -> None:
    w, principal = await _world()
    bad = typical_bundle(personal_id=PID)
    c = entry_index(bad, "Condition")
    bad["entry"][c]["resource"]["recordedDate"] = "2026-02-30"
    bad["entry"][c]["resource"]["severty"] = {"text": "nặng"}
    del bad["entry"][entry_index(bad, "MedicationRequest")]["resource"]["intent"]
    issues = await _rejected(w, principal, bad)
    m = entry_index(bad, "MedicationRequest")
    assert set(issues) == {("health.invalid_primitive", f"Bundle.entry[{c}].resource.recordedDate"),
                           ("health.unknown_element", f"Bundle.entry[{c}].resource.severty"),
                           ("health.required", f"Bundle.entry[{m}].resource.intent")}


async def test_business_rules() -> None:
    w, principal = await _world()
    bundle = typical_bundle(personal_id=PID)
    c = entry_index(bundle, "Condition")
    enc = entry_index(bundle, "Encounter")

    not_icd = copy.deepcopy(bundle)
    not_icd["entry"][c]["resource"]["code"]["coding"][0]["system"] = "http://snomed.info/sct"
    assert ("health.icd10_required", f"Bundle.entry[{c}].resource.code") in await _rejected(w, principal, not_icd)

    dangling = copy.deepcopy(bundle)
    dangling["entry"][c]["resource"]["encounter"] = {"reference": "urn:uuid:00000000-0000-4000-8000-000000000000"}
    issues = await _rejected(w, principal, dangling)
    assert ("health.reference_unresolved", f"Bundle.entry[{c}].resource.encounter.reference") in issues

    elsewhere = copy.deepcopy(bundle)
    elsewhere["entry"][enc]["resource"]["serviceProvider"]["identifier"]["value"] = DEMO_FACILITIES[2].code
    assert ("health.encounter_not_at_facility",
            f"Bundle.entry[{enc}].resource.serviceProvider.identifier.value") in await _rejected(w, principal,
                                                                                                  elsewhere)

    two_patients = copy.deepcopy(bundle)
    two_patients["entry"].append(copy.deepcopy(bundle["entry"][0]) | {"fullUrl": "urn:uuid:1"})
    assert ("health.one_per_bundle", "Bundle.entry") in await _rejected(w, principal, two_patients)

    stranger = typical_bundle(personal_id="001099999999")
    assert await _rejected(w, principal, stranger) == [
        ("health.patient_unknown", "Bundle.entry[0].resource.identifier")]

    unsupported = copy.deepcopy(bundle)
    unsupported["entry"].append({"fullUrl": "urn:uuid:2", "resource": {"resourceType": "Coverage", "status": "active",
                                                                        "beneficiary": {"display": "x"},
                                                                        "payor": [{"display": "BHXH"}]}})
    n = len(unsupported["entry"]) - 1
    assert ("health.resource_type_not_accepted", f"Bundle.entry[{n}].resource") in await _rejected(
        w, principal, unsupported)

    batch = bundle | {"type": "batch"}
    assert ("health.bundle_type", "Bundle.type") in await _rejected(w, principal, batch)


async def test_transaction_bundles_need_requests_and_are_accepted() -> None:
    w, principal = await _world()
    tx = typical_bundle(personal_id=PID, bundle_type="transaction")
    assert (await w.ingest.execute(principal, tx)).created  # type: ignore[arg-type]
    broken = typical_bundle(personal_id=PID, bundle_type="transaction", visit_code="X-2")
    del broken["entry"][3]["request"]
    assert ("health.entry_request", "Bundle.entry[3].request") in await _rejected_after(w, principal, broken)


async def _rejected_after(w: World, principal: object, bundle: object) -> list[tuple[str, str]]:
    before = dict(w.store.resources)
    with pytest.raises(BundleRejected) as err:
        await w.ingest.execute(principal, bundle)  # type: ignore[arg-type]
    assert w.store.resources == before
    return [(i.rule, i.expression) for i in err.value.issues]


async def test_only_registered_facilities_may_send() -> None:
    w, _ = await _world()
    citizen = w.citizen_principal(PID)
    with pytest.raises(Forbidden):
        await w.ingest.execute(citizen, typical_bundle(personal_id=PID))
    unknown = Principal(kind=PrincipalKind.CLIENT, id=citizen.id, client_kind=None)
    with pytest.raises(Forbidden):
        await w.ingest.execute(unknown, typical_bundle(personal_id=PID))


async def test_visit_identifier_cannot_move_to_another_patient() -> None:
    w, principal = await _world()
    w.patients.citizen("001192000202")
    await w.ingest.execute(principal, typical_bundle(personal_id=PID))  # type: ignore[arg-type]
    other = typical_bundle(personal_id="001192000202")
    assert await _rejected_after(w, principal, other) == [
        ("health.encounter_patient_changed", "Bundle.entry[1].resource.identifier")]


def test_loinc_check_digit() -> None:
    assert loinc_check_digit_ok("2345-7")
    assert loinc_check_digit_ok("85354-9")
    assert not loinc_check_digit_ok("2345-8")
    assert not loinc_check_digit_ok("2345")


async def test_structural_and_business_issues_come_back_together() -> None:
    w, principal = await _world()
    bad = typical_bundle(personal_id=PID)
    c = entry_index(bad, "Condition", 1)
    o = entry_index(bad, "Observation")
    m = entry_index(bad, "MedicationRequest")
    bad["entry"][c]["resource"]["code"]["coding"][0]["code"] = "E11-9"
    bad["entry"][o]["resource"]["effectiveDateTime"] = "09/03/2026"
    bad["entry"][m]["resource"]["subject"] = {"reference": "Patient/123"}
    assert await _rejected(w, principal, bad) == [
        ("health.invalid_primitive", f"Bundle.entry[{o}].resource.effectiveDateTime"),
        ("health.icd10_format", f"Bundle.entry[{c}].resource.code.coding[0].code"),
        ("health.reference_unresolved", f"Bundle.entry[{m}].resource.subject.reference"),
        ("health.not_this_patient", f"Bundle.entry[{m}].resource.subject"),
    ]


async def test_demographics_get_a_new_version_only_when_they_change() -> None:
    w, principal = await _world()
    first = await w.ingest.execute(principal, typical_bundle(personal_id=PID))  # type: ignore[arg-type]
    await w.ingest.execute(principal, typical_bundle(personal_id=PID, visit_code="V-2"))  # type: ignore[arg-type]
    assert w.patients.stored[first.patient_id].version_id == 1
    moved = typical_bundle(personal_id=PID, visit_code="V-3")
    moved["entry"][0]["resource"]["address"] = [{"use": "home", "city": "Hà Nội", "district": "Cầu Giấy"}]
    w.clock.advance(days=2)
    await w.ingest.execute(principal, moved)  # type: ignore[arg-type]
    patient = w.patients.stored[first.patient_id]
    assert patient.version_id == 2
    assert patient.resource["address"][0]["district"] == "Cầu Giấy"
    assert patient.last_updated == w.clock.now()


async def test_validate_operation_reports_without_storing() -> None:
    from adapters.fhir.structure import LibraryValidator
    from domain.health.ingest import ValidateEncounterBundle

    w, principal = await _world()
    validate = ValidateEncounterBundle(w.ingest, LibraryValidator())
    assert await validate.execute(principal, typical_bundle(personal_id=PID)) == []  # type: ignore[arg-type]
    bad = typical_bundle(personal_id="001099999999")
    bad["entry"][2]["resource"]["recordedDate"] = "yesterday"
    rules = [i.rule for i in await validate.execute(principal, bad)]  # type: ignore[arg-type]
    assert rules == ["health.invalid_primitive"]
    unknown = [i.rule for i in await validate.execute(principal, typical_bundle(personal_id="001099999999"))]  # type: ignore[arg-type]
    assert unknown == ["health.patient_unknown"]
    assert not w.store.resources
    assert w.store.saves == 0


def test_references_are_found_as_the_json_grammar_says() -> None:
    from domain.health.fhirjson import _REFERENCE, referenced, rewrite_references

    bodies = [b'{"a":{"reference":"Patient/1"},"b":[{"reference":"x\\\\"},{"reference":"q\\"r"}],'
              b'"c":"\\"reference\\":\\"no\\""}', b'{"reference":""}', b"{}",
              b'{"reference":"urn:uuid:1","x":{"reference":"urn:uuid:1"},"y":{"reference":"urn:uuid:2"}}']
    for body in bodies:
        assert referenced(body) == [m.decode() for m in _REFERENCE.findall(body)]
    mapping = {"urn:uuid:1": "Encounter/9", "Patient/1": "Patient/p", "no": "never"}
    assert rewrite_references(bodies[3], mapping) == (
        b'{"reference":"Encounter/9","x":{"reference":"Encounter/9"},"y":{"reference":"urn:uuid:2"}}')
    assert rewrite_references(bodies[0], mapping).count(b'"reference":"Patient/p"') == 1
    assert b'\\"reference\\":\\"no\\"' in rewrite_references(bodies[0], mapping)  # inside a string: untouched
