"""FHIR R4 JSON that the API serves, built from what the domain returns (no FHIR library on this path).

Builders return plain data in which stored resources are ``msgspec.Raw`` (their JSON as stored); the
API encodes it with ``msgspec.json.encode``. Tests parse every builder's encoded output with
``fhir.resources`` (R4B models) to keep them honest.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import msgspec

from domain.health import codes
from domain.health.issues import Issue
from domain.health.model import IngestResult, StoredPatient, StoredResource
from domain.health.reading import SEARCH_PARAMS, SummaryData

Json = dict[str, Any]
FHIR_VERSION = "4.0.1"
MEDIA_TYPE = "application/fhir+json"


def instant(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def operation_outcome(issues: list[Issue]) -> Json:
    return {"resourceType": "OperationOutcome", "issue": [
        {"severity": i.severity, "code": i.code.value, "details": {"coding": [
            {"system": f"{codes.NAMESPACE}/CodeSystem/issue-rule", "code": i.rule}], "text": i.diagnostics},
         "diagnostics": i.diagnostics, "expression": [i.expression]} for i in issues]}


def error_outcome(code: str, text: str, severity: str = "error") -> Json:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": severity, "code": code, "diagnostics": text}]}


def ingest_response(result: IngestResult, base: str, bundle_type: str) -> Json:
    """``transaction-response`` for a transaction; for a collection an OperationOutcome summarising it."""
    status = {"created": "201 Created", "updated": "200 OK", "unchanged": "200 OK", "deleted": "204 No Content"}
    if bundle_type == "transaction":
        return {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "transaction-response", "entry": [
            {"response": {"status": status[o.outcome], "location": f"{o.resource_type}/{o.id}/_history/{o.version_id}",
                          "etag": f'W/"{o.version_id}"', "lastModified": instant(o.last_updated)}}
            for o in result.resources]}
    counts: dict[str, int] = {}
    for o in result.resources:
        counts[o.outcome] = counts.get(o.outcome, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    return {"resourceType": "OperationOutcome", "issue": [{
        "severity": "information", "code": "informational",
        "diagnostics": f"Encounter/{result.encounter_id} {'created' if result.created else 'stored'}: {summary}",
        "expression": ["Bundle"]}]}


def search_bundle(base: str, resource_type: str, params: list[tuple[str, str]], total: int | None,
                  resources: list[StoredResource], offset: int, count: int, *, more: bool) -> Json:
    """A ``searchset`` with ``self``/``next``/``previous`` links (offset paging, stable order); ``next`` while
    matches follow the page (``more``). ``total`` only when known (``Bundle.total`` is optional for a searchset:
    see ``domain.health.reading.Total``)."""
    def link(at: int) -> str:
        query = [(k, v) for k, v in params if k not in ("_offset", "_count")]
        query += [("_count", str(count)), ("_offset", str(at))]
        return f"{base}/{resource_type}?{urlencode(query)}"

    links = [{"relation": "self", "url": link(offset)}]
    if count and more:
        links.append({"relation": "next", "url": link(offset + count)})
    if offset > 0:
        links.append({"relation": "previous", "url": link(max(0, offset - count))})
    bundle: Json = {"resourceType": "Bundle", "id": str(uuid.uuid4()),
                    "meta": {"lastUpdated": instant(datetime.now(UTC))}, "type": "searchset"}
    if total is not None:
        bundle["total"] = total
    bundle["link"] = links
    if resources:  # FHIR JSON has no empty arrays
        # Stored JSON goes out as it is (msgspec.Raw): no decode/encode per resource on reads.
        bundle["entry"] = [{"fullUrl": f"{base}/{r.resource_type}/{r.id}", "resource": msgspec.Raw(r.resource_json),
                            "search": {"mode": "match"}} for r in resources]
    return bundle


# Search result parameters served with every search (besides each type's search parameters).
RESULT_PARAMS = ("_count", "_offset", "_total")
SEARCH_DOCUMENTATION = (
    "Paging: `_count` (0-100, default 20) entries from `_offset` (default 0), newest first; a `next` link while "
    "more matches follow. `Bundle.total` is given on every page (without `_total`, as with `_total=accurate` or "
    "`_total=estimate`, answered with the exact count); `_total=none` leaves it out and saves the count; "
    "`_count=0` answers the count alone."
)


def capability_statement(base: str, software_version: str = "0.1.0") -> Json:
    """Exactly what ``/fhir/r4`` serves: Patient read + $summary, read and the searches per type."""
    search_docs = {"patient": "reference", "category": "token", "code": "token", "date": "date",
                   "clinical-status": "token", "status": "token", "intent": "token", "type": "token"}
    resources: list[Json] = [{
        "type": "Patient", "interaction": [{"code": "read"}],
        "operation": [{"name": "summary", "definition": "http://hl7.org/fhir/uv/ips/OperationDefinition/summary"}]}]
    for rtype, names in SEARCH_PARAMS.items():
        resources.append({"type": rtype, "interaction": [{"code": "read"}, {"code": "search-type"}],
                          "documentation": SEARCH_DOCUMENTATION,
                          "searchParam": [{"name": n, "type": search_docs[n]} for n in names]})
    return {
        "resourceType": "CapabilityStatement", "status": "active", "date": "2026-06-01", "kind": "instance",
        "fhirVersion": FHIR_VERSION, "format": ["json"],
        "software": {"name": "Thủ Đô Số health record", "version": software_version},
        "implementation": {"description": "Hanoi citizen e-health record (read API)", "url": base},
        "instantiates": ["http://hl7.org/fhir/uv/ipa/CapabilityStatement/ipa-server"],
        "rest": [{"mode": "server", "security": {
            "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                     "code": "SMART-on-FHIR"}]}],
            "description": "Bearer tokens of Thủ Đô Số (VNeID level 2 for citizens; private_key_jwt clients for "
                           "facilities); patient-bound."},
            "resource": resources}]}


def smart_configuration(issuer: str, token_endpoint: str, authorize_endpoint: str) -> Json:
    return {
        "issuer": issuer, "authorization_endpoint": authorize_endpoint, "token_endpoint": token_endpoint,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "scopes_supported": ["openid", "patient/*.rs", "system/*.rs"],
        "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"],
        "capabilities": ["launch-standalone", "client-confidential-asymmetric", "context-standalone-patient",
                         "permission-patient", "permission-v2"],
    }


# --- International Patient Summary ---------------------------------------------------------------------

# (key in SummaryData, LOINC, title, required by IPS)
IPS_SECTIONS: tuple[tuple[str, str, str, bool], ...] = (
    ("medications", "10160-0", "Medication Summary", True),
    ("allergies", "48765-2", "Allergies and Intolerances", True),
    ("problems", "11450-4", "Problem List", True),
    ("immunizations", "11369-6", "History of Immunizations", False),
    ("results", "30954-2", "Relevant diagnostic tests/laboratory data", False),
    ("procedures", "47519-4", "History of Procedures", False),
)


def _narrative(lines: list[str]) -> Json:
    from html import escape
    items = "".join(f"<li>{escape(x)}</li>" for x in lines)
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><ul>{items}</ul></div>'}


def _line(r: StoredResource) -> str:
    item = r.item
    when = item.date.date().isoformat() if item.date else ""
    extra = ""
    if item.value is not None and item.value.value is not None:
        extra = f": {item.value.value:g} {item.value.unit or ''}".rstrip()
    return f"{when} {item.title}{extra}".strip()


def ips_document(base: str, data: SummaryData, now: datetime) -> Json:
    """An IPS document Bundle: Composition (LOINC 60591-5) first, then the Patient and every entry.

    Empty required sections (medications, allergies, problems) carry ``emptyReason`` and a narrative
    saying so; empty optional sections are left out, as the IPS guide asks.
    """
    patient: StoredPatient = data.patient
    patient_url = f"{base}/Patient/{patient.id}"
    author_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{codes.NAMESPACE}/organization/record")
    author = {"resourceType": "Organization", "id": str(author_id),
              "identifier": [{"system": codes.FACILITY, "value": "THUDO-HR"}],
              "name": "Hồ sơ sức khỏe điện tử Thủ Đô Số"}
    sections: list[Json] = []
    included: dict[str, msgspec.Raw] = {}
    for key, loinc, title, required in IPS_SECTIONS:
        rows: list[StoredResource] = getattr(data, key)
        section: Json = {"title": title, "code": {"coding": [{"system": codes.LOINC, "code": loinc,
                                                               "display": title}]}}
        if rows:
            section["text"] = _narrative([_line(r) for r in rows])
            section["entry"] = [{"reference": f"{base}/{r.resource_type}/{r.id}"} for r in rows]
            for r in rows:
                included[f"{base}/{r.resource_type}/{r.id}"] = msgspec.Raw(r.resource_json)
        elif required:
            section["text"] = _narrative(["Không có thông tin / No information available"])
            section["emptyReason"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/list-empty-reason",
                                                  "code": "unavailable", "display": "Unavailable"}]}
        else:
            continue
        sections.append(section)
    composition_id = uuid.uuid4()
    composition = {
        "resourceType": "Composition", "id": str(composition_id), "status": "final",
        "type": {"coding": [{"system": codes.LOINC, "code": "60591-5", "display": "Patient summary Document"}]},
        "subject": {"reference": patient_url}, "date": instant(now),
        "author": [{"reference": f"{base}/Organization/{author_id}"}],
        "title": "Tóm tắt hồ sơ bệnh nhân (International Patient Summary)",
        "confidentiality": "N",
        "section": sections,
    }
    entries: list[dict[str, Any]] = [{"fullUrl": f"urn:uuid:{composition_id}", "resource": composition},
               {"fullUrl": patient_url, "resource": patient.resource},
               {"fullUrl": f"{base}/Organization/{author_id}", "resource": author}]
    entries += [{"fullUrl": url, "resource": resource} for url, resource in included.items()]
    return {"resourceType": "Bundle", "id": str(uuid.uuid4()),
            "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"},
            "type": "document", "timestamp": instant(now), "entry": entries}
