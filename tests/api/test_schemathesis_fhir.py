"""Schemathesis against the FHIR surface (``/fhir/r4`` and the facilities' ingest), as facilities and as citizens.

FHIR endpoints are documented by the server's CapabilityStatement, not by the REST API's OpenAPI document
(tests/api/test_schemathesis.py). This test turns what ``/fhir/r4/metadata`` declares into an OpenAPI
document — every resource type it lists with its read and its search parameters, Patient read and
``$summary``, the transaction and ``$validate`` endpoints — so the fuzzer exercises exactly what the server
claims to serve, with every check: answers in ``application/fhir+json``, errors as OperationOutcomes,
no 5xx, authentication not ignored, and the object-level check between peers (two facilities, one that
treated the patient and one that did not; the patient and another citizen).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.api.test_health_api import world
from tests.support.auth import login

FHIR = "application/fhir+json"
BASE = "/fhir/r4"
INGEST = "/api/v1/health-ingest/bundles"
RESOURCE = {"type": "object", "required": ["resourceType"], "properties": {"resourceType": {"type": "string"}}}
OUTCOME = {"type": "object", "required": ["resourceType", "issue"],
           "properties": {"resourceType": {"enum": ["OperationOutcome"]},
                          "issue": {"type": "array", "minItems": 1, "items": {"type": "object"}}}}
BUNDLE_IN = {"type": "object", "required": ["resourceType", "type", "entry"],
             "properties": {"resourceType": {"enum": ["Bundle"]}, "type": {"enum": ["transaction", "collection"]},
                            "entry": {"type": "array", "items": {"type": "object"}}}}
ERRORS = (400, 401, 403, 404, 410, 413, 415, 422, 429, 503)
# Search values the server documents (docs/health-api.md): a patient reference, FHIR date prefixes.
PATIENT_REF = {"type": "string", "pattern": "^(Patient/)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"}
DATES = {"type": "string", "enum": ["2026", "ge2020-01-01", "lt2030-01", "2026-03-09", "le2026-12-31T23:59:59+07:00"]}


def _responses(*ok: int) -> dict[str, Any]:
    answers = {str(s): {"description": "Answer", "content": {FHIR: {"schema": RESOURCE}}} for s in ok}
    answers.update({str(s): {"description": "OperationOutcome", "content": {FHIR: {"schema": OUTCOME}}}
                    for s in ERRORS})
    return answers


def _op(op_id: str, *ok: int, params: list[dict[str, Any]] | None = None, body: bool = False,
        secured: bool = True) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": op_id, "responses": _responses(*ok), "parameters": params or []}
    if secured:
        op["security"] = [{"bearer": []}]
    if body:
        op["requestBody"] = {"required": True, "content": {FHIR: {"schema": BUNDLE_IN}}}
    return op


def _uuid_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}


def openapi_from_capabilities(capability: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI 3.0 form of what a CapabilityStatement declares (the interactions this server offers)."""
    paths: dict[str, Any] = {
        f"{BASE}/metadata": {"get": _op("metadata", 200, secured=False)},
        f"{BASE}/Patient/{{patient_id}}/$summary": {"get": _op("summary", 200, params=[_uuid_param("patient_id")])},
        f"{BASE}/": {"post": _op("transaction", 200, 201, body=True)},
        f"{BASE}/Bundle/$validate": {"post": _op("validate", 200, body=True)},
        INGEST: {"post": _op("ingest", 200, 201, body=True)},
    }
    for resource in capability["rest"][0]["resource"]:
        rtype, interactions = resource["type"], {i["code"] for i in resource["interaction"]}
        if "read" in interactions:
            paths[f"{BASE}/{rtype}/{{resource_id}}"] = {"get": _op(f"read{rtype}", 200,
                                                                   params=[_uuid_param("resource_id")])}
        if "search-type" in interactions:
            params = [{"name": p["name"], "in": "query", "required": p["name"] == "patient",
                       "schema": PATIENT_REF if p["name"] == "patient" else DATES if p["type"] == "date"
                       else {"type": "string", "minLength": 1}} for p in resource["searchParam"]]
            # The result parameters each searchable type's documentation advertises (paging and ``_total``).
            result = {"_count": {"type": "integer", "minimum": 0, "maximum": 100},
                      "_offset": {"type": "integer", "minimum": 0, "maximum": 100000},
                      "_total": {"enum": ["none", "estimate", "accurate"]}}
            params += [{"name": name, "in": "query", "schema": schema} for name, schema in result.items()
                       if f"`{name}" in resource.get("documentation", "")]
            assert len(params) == len(resource["searchParam"]) + len(result), resource.get("documentation")
            paths[f"{BASE}/{rtype}"] = {"get": _op(f"search{rtype}", 200, params=params)}
    return {"openapi": "3.0.3", "info": {"title": "Thủ Đô Số FHIR R4 (from /fhir/r4/metadata)", "version": "1"},
            "paths": paths,
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}}


def _load(base_url: str, tmp: Any, peers: dict[str, dict[str, str]], patient: str) -> Any:
    with httpx.Client(base_url=base_url, timeout=15) as http:
        capability = http.get(f"{BASE}/metadata").json()
    auth_doc = tmp / "peers.json"
    auth_doc.write_text(json.dumps({"auth": [
        {"name": name, "fixedHeaders": [{"name": k, "value": v} for k, v in headers.items()]}
        for name, headers in peers.items()]}))
    config = SchemathesisConfig.from_dict({
        "checks": {"enabled": True},
        "generation": {"max-examples": 10, "deterministic": True, "no-shrink": True, "database": "none",
                       "allow-x00": False},
        "auth": {"wfc": {"path": str(auth_doc), "peers": list(peers)}},
        # Half of the reads and searches name the patient who has a record, so that they reach real rows.
        "dictionaries": {"patient_id": {"values": [patient]}, "patient_ref": {"values": [f"Patient/{patient}"]}},
        "parameters": {"path.patient_id": {"dictionary": "patient_id", "probability": 0.5},
                       "query.patient": {"dictionary": "patient_ref", "probability": 0.5}},
    })
    loaded = schemathesis.openapi.from_dict(openapi_from_capabilities(capability), config=config)
    assert [getattr(p, "peers", None) for p in loaded.auth.providers] == [tuple(peers)]
    return loaded


@pytest.fixture(scope="module")
def fhir_world(base_url: str, database_url: str) -> dict[str, Any]:
    with httpx.Client(base_url=base_url, timeout=15) as http:
        return world(http, database_url) | {"stranger": login(http)}


@pytest.fixture(scope="module")
def as_facilities(base_url: str, fhir_world: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The facility that treated the patient and one that did not (peers)."""
    peers = {"treating": fhir_world["a"].headers, "other_facility": fhir_world["b"].headers}
    return _load(base_url, tmp_path_factory.mktemp("facilities"), peers, fhir_world["patient"])


@pytest.fixture(scope="module")
def as_citizens(base_url: str, fhir_world: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The patient and another citizen (peers): a patient-bound token reaches only its own record."""
    peers = {"patient": fhir_world["an"].headers, "stranger": fhir_world["stranger"].headers}
    return _load(base_url, tmp_path_factory.mktemp("citizens"), peers, fhir_world["patient"])


# A bundle's validity is FHIR structure plus business rules (the patient exists, the encounter is at the
# sending facility, references resolve, codes from the expected systems): a schema-shaped object is rightly
# a 422 OperationOutcome naming each issue. tests/api/test_health_api.py sends real bundles. ``$validate``
# is FHIR's "tell me what is wrong": any body gets a 200 OperationOutcome listing the issues, by design.
EXCLUDED_CHECKS = {f"POST {path}": [positive_data_acceptance] for path in (f"{BASE}/", INGEST)}
EXCLUDED_CHECKS[f"POST {BASE}/Bundle/$validate"] = [positive_data_acceptance, negative_data_rejection]


def _call(case: schemathesis.Case, base_url: str) -> None:
    if case.headers:
        case.headers.pop("Idempotency-Key", None)
    case.call_and_validate(base_url=base_url, excluded_checks=EXCLUDED_CHECKS.get(case.operation.label),
                           headers={"X-Request-Id": uuid.uuid4().hex})


@schemathesis.pytest.from_fixture("as_facilities").parametrize()
def test_fhir_as_facilities(case: schemathesis.Case, base_url: str) -> None:
    _call(case, base_url)


@schemathesis.pytest.from_fixture("as_citizens").parametrize()
def test_fhir_as_citizens(case: schemathesis.Case, base_url: str) -> None:
    _call(case, base_url)
