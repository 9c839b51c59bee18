"""Business checks on a structurally valid encounter bundle.

One encounter per bundle: exactly one Patient (identified by the personal ID) and one Encounter
(identified by the facility's visit code, at the sending facility); the other resources are of the
accepted types, belong to that patient and that encounter, reference only resources inside the
bundle, and carry codes from the expected systems. Every problem becomes an ``Issue`` with the
FHIRPath of the element; the caller rejects the bundle if there is any.
"""

from __future__ import annotations

import re

import msgspec

from domain.health import codes
from domain.health.fhirjson import Json, codings, encode_body, first_coding, path_of, referenced, references
from domain.health.issues import Issue, IssueType
from domain.health.model import ACCEPTED_TYPES, Facility

_LITERAL = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")

# Where each type points at its patient and at its encounter.
PATIENT_ELEMENT: dict[str, str] = {
    "Encounter": "subject", "Condition": "subject", "Observation": "subject", "DiagnosticReport": "subject",
    "MedicationRequest": "subject", "Procedure": "subject", "ServiceRequest": "subject",
    "DocumentReference": "subject", "Immunization": "patient", "AllergyIntolerance": "patient",
}
ENCOUNTER_ELEMENT: dict[str, str] = {
    "Condition": "encounter", "Observation": "encounter", "DiagnosticReport": "encounter",
    "MedicationRequest": "encounter", "Procedure": "encounter", "ServiceRequest": "encounter",
    "Immunization": "encounter", "AllergyIntolerance": "encounter",
}


class Entry(msgspec.Struct, frozen=True):
    index: int
    full_url: str
    resource: Json
    body: bytes  # encode_body(resource): what is stored, hashed and searched for references
    type: str  # resource["resourceType"], read on every step of ingestion
    refs: tuple[str, ...] = ()  # referenced(body), found once for the checks and the rewrite

    @property
    def path(self) -> str:
        return f"Bundle.entry[{self.index}].resource"


class CheckedBundle(msgspec.Struct, frozen=True):
    patient: Entry
    encounter: Entry
    personal_id: str
    visit_identifier: str  # "system|value"
    entries: tuple[Entry, ...]


def _issue(code: IssueType, rule: str, text: str, path: str) -> Issue:
    return Issue(code=code, rule=rule, diagnostics=text, expression=path)


def source_key(entry: Entry) -> str:
    """What identifies a resource across resends: its first identifier, else its id, else fullUrl."""
    r = entry.resource
    for ident in r.get("identifier", []) if isinstance(r.get("identifier"), list) else []:
        if isinstance(ident, dict) and ident.get("system") and ident.get("value"):
            return f"id:{ident['system']}|{ident['value']}"
    if isinstance(r.get("id"), str):
        return f"rid:{entry.type}/{r['id']}"
    return f"url:{entry.full_url}"


def check_bundle(bundle: Json, facility: Facility) -> tuple[CheckedBundle | None, list[Issue]]:
    issues: list[Issue] = []
    if bundle.get("type") not in ("transaction", "collection"):
        issues.append(_issue(IssueType.VALUE, "health.bundle_type",
                             "Bundle.type must be 'transaction' or 'collection'", "Bundle.type"))
    raw_entries = bundle.get("entry")
    if not isinstance(raw_entries, list) or not raw_entries:
        issues.append(_issue(IssueType.REQUIRED, "health.bundle_empty", "the bundle has no entries", "Bundle.entry"))
        return None, issues

    entries: list[Entry] = []
    by_url: dict[str, Entry] = {}
    for i, e in enumerate(raw_entries):
        where = f"Bundle.entry[{i}]"
        resource = e.get("resource")
        if not isinstance(resource, dict):
            issues.append(_issue(IssueType.REQUIRED, "health.entry_resource", "each entry holds a resource",
                                 f"{where}.resource"))
            continue
        rtype = resource.get("resourceType")
        if rtype not in ACCEPTED_TYPES:
            issues.append(_issue(IssueType.NOT_SUPPORTED, "health.resource_type_not_accepted",
                                 f"{str(rtype)[:40]} is not accepted in an encounter bundle", f"{where}.resource"))
            continue
        full_url = e.get("fullUrl")
        if not isinstance(full_url, str) or not full_url:
            rid = resource.get("id")
            full_url = f"{rtype}/{rid}" if isinstance(rid, str) else ""
        if not full_url:
            issues.append(_issue(IssueType.REQUIRED, "health.entry_full_url",
                                 "each entry needs a fullUrl (or a resource id) so that references resolve",
                                 f"{where}.fullUrl"))
            continue
        if bundle.get("type") == "transaction":
            request = e.get("request")
            if not isinstance(request, dict) or request.get("method") not in ("POST", "PUT"):
                issues.append(_issue(IssueType.VALUE, "health.entry_request",
                                     "transaction entries need request.method POST or PUT", f"{where}.request"))
        body = encode_body(resource)
        entry = Entry(i, full_url, resource, body, rtype, tuple(referenced(body)))
        keys = {full_url}
        if isinstance(resource.get("id"), str):
            keys.add(f"{rtype}/{resource['id']}")
        if any(k in by_url for k in keys):
            issues.append(_issue(IssueType.DUPLICATE, "health.entry_duplicate", "two entries have the same fullUrl",
                                 f"{where}.fullUrl"))
            continue
        for k in keys:
            by_url[k] = entry
        entries.append(entry)

    patients = [e for e in entries if e.type == "Patient"]
    encounters = [e for e in entries if e.type == "Encounter"]
    for name, found in (("Patient", patients), ("Encounter", encounters)):
        if len(found) != 1:
            issues.append(_issue(IssueType.INVARIANT, "health.one_per_bundle",
                                 f"an encounter bundle holds exactly one {name} (found {len(found)})", "Bundle.entry"))
    if len(patients) != 1 or len(encounters) != 1:
        return None, issues
    patient, encounter = patients[0], encounters[0]

    personal_id = _personal_id(patient, issues)
    visit_identifier = _visit_identifier(encounter, issues)
    _check_owner(encounter, facility, issues)

    for entry in entries:
        _check_references(entry, by_url, patient, encounter, issues)
        _check_codes(entry, issues)
    if issues or personal_id is None or visit_identifier is None:
        return None, issues
    return CheckedBundle(patient, encounter, personal_id, visit_identifier, tuple(entries)), issues


def _personal_id(patient: Entry, issues: list[Issue]) -> str | None:
    idents = patient.resource.get("identifier", [])
    for i, ident in enumerate(idents):
        if ident.get("system") == codes.PERSONAL_ID:
            value = ident.get("value")
            if isinstance(value, str) and codes.PERSONAL_ID_VALUE.match(value):
                return value
            issues.append(_issue(IssueType.VALUE, "health.personal_id_format",
                                 "the personal ID has 12 digits", f"{patient.path}.identifier[{i}].value"))
            return None
    issues.append(_issue(IssueType.REQUIRED, "health.personal_id_missing",
                         f"the Patient needs an identifier with system {codes.PERSONAL_ID}",
                         f"{patient.path}.identifier"))
    return None


def _visit_identifier(encounter: Entry, issues: list[Issue]) -> str | None:
    for ident in encounter.resource.get("identifier", []):
        system, value = ident.get("system"), ident.get("value")
        if isinstance(system, str) and isinstance(value, str) and system and value:
            return f"{system}|{value}"
    issues.append(_issue(IssueType.REQUIRED, "health.visit_identifier_missing",
                         "the Encounter needs an identifier (system and value, e.g. the visit code MA_LK): "
                         "it makes resending the visit an update", f"{encounter.path}.identifier"))
    return None


def _check_owner(encounter: Entry, facility: Facility, issues: list[Issue]) -> None:
    provider = encounter.resource.get("serviceProvider")
    ident = provider.get("identifier") if isinstance(provider, dict) else None
    if not isinstance(ident, dict) or ident.get("system") != codes.FACILITY or not ident.get("value"):
        issues.append(_issue(IssueType.REQUIRED, "health.service_provider_missing",
                             "Encounter.serviceProvider must identify the facility "
                             f"(identifier system {codes.FACILITY})",
                             f"{encounter.path}.serviceProvider"))
    elif ident["value"] != facility.code:
        issues.append(_issue(IssueType.FORBIDDEN, "health.encounter_not_at_facility",
                             "a facility may only send encounters that took place at itself",
                             f"{encounter.path}.serviceProvider.identifier.value"))


def _check_references(entry: Entry, by_url: dict[str, Entry], patient: Entry, encounter: Entry,
                      issues: list[Issue]) -> None:
    if entry.type == "Patient":
        return
    contained = {f"#{c.get('id')}" for c in entry.resource.get("contained", []) if isinstance(c, dict)}
    for value in entry.refs:
        if value in contained or value in by_url:
            continue
        kind = "absolute URL" if "://" in value else "reference"
        ref = next((r for r in references(entry.resource) if r["reference"] == value), None)
        path = path_of(entry.resource, ref, entry.path) or entry.path
        issues.append(_issue(IssueType.NOT_FOUND, "health.reference_unresolved",
                             f"the {kind} does not resolve to an entry of this bundle "
                             "(refer to other facilities and people by identifier)", f"{path}.reference"))
    pe = PATIENT_ELEMENT.get(entry.type)
    if pe is not None:
        subject = entry.resource.get(pe)
        target = by_url.get(subject.get("reference", "")) if isinstance(subject, dict) else None
        if target is not patient:
            issues.append(_issue(IssueType.BUSINESS_RULE, "health.not_this_patient",
                                 "must refer to the bundle's Patient", f"{entry.path}.{pe}"))
    if entry.type == "Appointment":
        actors = [p.get("actor", {}).get("reference") for p in entry.resource.get("participant", [])]
        if not any(by_url.get(a) is patient for a in actors if isinstance(a, str)):
            issues.append(_issue(IssueType.BUSINESS_RULE, "health.not_this_patient",
                                 "one participant must be the bundle's Patient", f"{entry.path}.participant"))
    ee = ENCOUNTER_ELEMENT.get(entry.type)
    if ee is not None and ee in entry.resource:
        ref = entry.resource[ee]
        if by_url.get(ref.get("reference", "")) is not encounter:
            issues.append(_issue(IssueType.BUSINESS_RULE, "health.not_this_encounter",
                                 "must refer to the bundle's Encounter", f"{entry.path}.{ee}"))


# The coded concept of each type whose code systems are checked (built once, not per entry).
_CONCEPT_ELEMENT: dict[str, str] = {
    "Observation": "code", "DiagnosticReport": "code", "Immunization": "vaccineCode",
    "MedicationRequest": "medicationCodeableConcept", "AllergyIntolerance": "code", "Procedure": "code",
}


def _check_codes(entry: Entry, issues: list[Issue]) -> None:
    r, path = entry.resource, entry.path
    if entry.type == "Condition":
        icd = first_coding(r.get("code"), codes.ICD10)
        if icd is None:
            issues.append(_issue(IssueType.CODE_INVALID, "health.icd10_required",
                                 f"a diagnosis is coded in ICD-10 ({codes.ICD10})", f"{path}.code"))
        elif not codes.icd10_ok(str(icd.get("code", ""))):
            i = codings(r["code"]).index(icd)
            issues.append(_issue(IssueType.CODE_INVALID, "health.icd10_format",
                                 "not an ICD-10 code (letter, two digits, optional .subcode)",
                                 f"{path}.code.coding[{i}].code"))
    concept_el = _CONCEPT_ELEMENT.get(entry.type)
    if concept_el is not None:
        concept = r.get(concept_el)
        if entry.type == "MedicationRequest" and concept is None:
            issues.append(_issue(IssueType.REQUIRED, "health.medication_code_required",
                                 "the medicine is given as medicationCodeableConcept", f"{path}.medication[x]"))
        elif not codings(concept) and not (isinstance(concept, dict) and concept.get("text")):
            issues.append(_issue(IssueType.REQUIRED, "health.code_required", "a code or text is required",
                                 f"{path}.{concept_el}"))
        for i, c in enumerate(codings(concept)):
            system, code = c.get("system"), str(c.get("code", ""))
            if system == codes.LOINC and not codes.loinc_check_digit_ok(code):
                issues.append(_issue(IssueType.CODE_INVALID, "health.loinc_invalid",
                                     "not a LOINC code (wrong form or check digit)",
                                     f"{path}.{concept_el}.coding[{i}].code"))
            elif system == codes.ATC and not codes.ATC_CODE.match(code):
                issues.append(_issue(IssueType.CODE_INVALID, "health.atc_invalid", "not an ATC code",
                                     f"{path}.{concept_el}.coding[{i}].code"))
            elif system == codes.ICD10 and not codes.icd10_ok(code):
                issues.append(_issue(IssueType.CODE_INVALID, "health.icd10_format", "not an ICD-10 code",
                                     f"{path}.{concept_el}.coding[{i}].code"))
    if entry.type == "Observation":
        for i, comp in enumerate(r.get("component", [])):
            for j, c in enumerate(codings(comp.get("code"))):
                if c.get("system") == codes.LOINC and not codes.loinc_check_digit_ok(str(c.get("code", ""))):
                    issues.append(_issue(IssueType.CODE_INVALID, "health.loinc_invalid",
                                         "not a LOINC code (wrong form or check digit)",
                                         f"{path}.component[{i}].code.coding[{j}].code"))
