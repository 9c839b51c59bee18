"""Everything /fhir/r4 serves parses with an independent FHIR library (fhir.resources, R4B models)."""

from __future__ import annotations

import copy

import msgspec
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome

from adapters.dev.health_bundles import DEMO_FACILITIES, typical_bundle
from adapters.fhir.output import (
    capability_statement,
    ingest_response,
    ips_document,
    operation_outcome,
    search_bundle,
)
from adapters.fhir.structure import CompiledValidator, LibraryValidator
from domain.health.issues import BundleRejected
from domain.health.model import Category
from domain.health.reading import SEARCH_PARAMS, Search, Total
from tests.support.health import World

BASE = "https://api.thudo.example/fhir/r4"
AN = "001085000101"


async def _world() -> tuple[World, object]:
    w = World()
    w.patients.citizen(AN)
    _, p = await w.facility(DEMO_FACILITIES[0].code, DEMO_FACILITIES[0].name)
    await w.ingest.execute(p, typical_bundle(personal_id=AN))  # type: ignore[arg-type]
    return w, p


async def test_stored_resources_and_searchsets_parse() -> None:
    w, _ = await _world()
    for r in w.store.resources.values():
        get_fhir_model_class(r.resource_type).model_validate(r.resource)
    me = w.citizen_principal(AN)
    patient_id = await w.policy.own(me)
    get_fhir_model_class("Patient").model_validate(w.patients.stored[patient_id].resource)
    result = await w.fhir.search(me, Search(resource_type="Observation", patient_id=patient_id, count=4,
                                            total=Total.NONE))
    bundle = search_bundle(BASE, "Observation", [("patient", str(patient_id))], result.total, result.resources, 0, 4,
                           more=result.more)
    parsed = Bundle.model_validate_json(msgspec.json.encode(bundle))
    assert parsed.total is None  # _total=none: left out
    assert "total" not in bundle
    assert len(parsed.entry) == 4
    rels = {link.relation: link.url for link in parsed.link}
    assert set(rels) == {"self", "next"}
    assert "_offset=4" in rels["next"]
    assert f"patient={patient_id}" in rels["next"]
    counted = await w.fhir.search(me, Search(resource_type="Observation", patient_id=patient_id, count=4,
                                             total=Total.ACCURATE))
    parsed = Bundle.model_validate_json(msgspec.json.encode(search_bundle(
        BASE, "Observation", [("_total", "accurate")], counted.total, counted.resources, 0, 4, more=counted.more)))
    assert parsed.total == 9  # 4 vital signs + 5 lab results
    assert "_total=accurate" in {link.relation: link.url for link in parsed.link}["next"]
    end = await w.fhir.search(me, Search(resource_type="Observation", patient_id=patient_id, count=4, offset=8))
    last = search_bundle(BASE, "Observation", [], end.total, end.resources, 8, 4, more=end.more)
    assert Bundle.model_validate_json(msgspec.json.encode(last)).total == 9  # the last page proves it
    assert {link["relation"] for link in last["link"]} == {"self", "previous"}


def test_capability_statement_documents_paging_and_total() -> None:
    statement = capability_statement(BASE)
    CapabilityStatement.model_validate(statement)
    searchable = [r for r in statement["rest"][0]["resource"] if {"code": "search-type"} in r["interaction"]]
    assert searchable
    for r in searchable:
        assert all(p in r["documentation"] for p in ("_count", "_offset", "_total=accurate", "_total=none", "next"))


async def test_ips_document_with_empty_required_sections() -> None:
    w, _ = await _world()
    me = w.citizen_principal(AN)
    patient_id = await w.policy.own(me)
    data = await w.fhir.summary(me, patient_id)
    doc = msgspec.json.decode(msgspec.json.encode(ips_document(BASE, data, w.clock.now())))
    parsed = Bundle.model_validate(doc)
    assert parsed.type == "document"
    assert parsed.identifier is not None
    composition = doc["entry"][0]["resource"]
    assert composition["resourceType"] == "Composition"
    assert composition["type"]["coding"][0]["code"] == "60591-5"
    codes = [s["code"]["coding"][0]["code"] for s in composition["section"]]
    assert codes[:3] == ["10160-0", "48765-2", "11450-4"]
    urls = {e["fullUrl"] for e in doc["entry"]}
    for section in composition["section"]:
        for ref in section.get("entry", []):
            assert ref["reference"] in urls  # every section entry is in the document

    # Nothing known: required sections stay, with emptyReason; optional ones go.
    empty = type(data)(patient=data.patient, problems=[], allergies=[], medications=[], immunizations=[],
                       results=[], procedures=[])
    doc = msgspec.json.decode(msgspec.json.encode(ips_document(BASE, empty, w.clock.now())))
    Bundle.model_validate(doc)
    sections = doc["entry"][0]["resource"]["section"]
    assert [s["code"]["coding"][0]["code"] for s in sections] == ["10160-0", "48765-2", "11450-4"]
    assert all(s["emptyReason"]["coding"][0]["code"] == "unavailable" and "entry" not in s for s in sections)


async def test_operation_outcome_and_ingest_responses_parse() -> None:
    w, p = await _world()
    bad = typical_bundle(personal_id=AN)
    bad["entry"][3]["resource"]["code"]["coding"][0]["code"] = "I10-X"
    try:
        await w.ingest.execute(p, bad)  # type: ignore[arg-type]
    except BundleRejected as err:
        outcome = operation_outcome(err.issues)
    parsed = OperationOutcome.model_validate(outcome)
    assert parsed.issue[0].expression == ["Bundle.entry[3].resource.code.coding[0].code"]
    result = await w.ingest.execute(p, typical_bundle(personal_id=AN, visit_code="V-9"))  # type: ignore[arg-type]
    Bundle.model_validate(ingest_response(result, BASE, "transaction"))
    OperationOutcome.model_validate(ingest_response(result, BASE, "collection"))


def test_capability_statement_lists_exactly_the_searches() -> None:
    cs = capability_statement(BASE)
    CapabilityStatement.model_validate(cs)
    served = {r["type"]: tuple(p["name"] for p in r.get("searchParam", [])) for r in cs["rest"][0]["resource"]}
    assert served.pop("Patient") == ()
    assert served == SEARCH_PARAMS


def test_compiled_validator_agrees_with_the_library_on_good_and_bad_bundles() -> None:
    fast, library = CompiledValidator(), LibraryValidator()
    good = typical_bundle(personal_id=AN, bundle_type="transaction")
    assert fast.validate(good) == library.validate(good) == []
    mutations = [
        ("Bundle.entry[1].resource.status", lambda b: b["entry"][1]["resource"].pop("status")),
        ("Bundle.entry[2].resource.recordedDate",
         lambda b: b["entry"][2]["resource"].__setitem__("recordedDate", "09/03/2026")),
        ("Bundle.entry[0].resource.gender", lambda b: b["entry"][0]["resource"].__setitem__("gender", "nam")),
        ("Bundle.entry[5].resource.valueQuantity.value",
         lambda b: b["entry"][5]["resource"]["valueQuantity"].__setitem__("value", "72")),
        ("Bundle.entry[4].resource.bodySite2", lambda b: b["entry"][4]["resource"].__setitem__("bodySite2", {})),
        ("Bundle.entry[3].resource.code.coding",
         lambda b: b["entry"][3]["resource"]["code"].__setitem__("coding", {"code": "E11.9"})),
    ]
    for path, mutate in mutations:
        b = copy.deepcopy(good)
        mutate(b)
        assert path in [i.expression for i in fast.validate(b)], path
        # Where the library is laxer: it lists required-binding codes without enforcing them, and its
        # pydantic models coerce the JSON string "72" into a decimal. The compiled walker rejects both.
        if not path.endswith((".gender", ".value")):
            assert library.validate(b), path


def test_categories_cover_every_searchable_type() -> None:
    from domain.health.model import TYPE_CATEGORIES
    assert set(SEARCH_PARAMS) <= set(TYPE_CATEGORIES)
    assert {c for cats in TYPE_CATEGORIES.values() for c in cats} == set(Category)


async def test_docs_example_bundle_is_the_generated_one_and_is_accepted() -> None:
    import json
    from pathlib import Path

    example = json.loads((Path(__file__).parents[2] / "docs" / "health-example-bundle.json").read_text())
    assert example == typical_bundle(bundle_type="transaction")
    w = World()
    w.patients.citizen(AN)
    _, p = await w.facility(DEMO_FACILITIES[0].code)
    result = await w.ingest.execute(p, example)  # type: ignore[arg-type]
    assert len(result.resources) == len(example["entry"]) - 1
