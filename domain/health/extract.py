"""From one FHIR resource to what is stored beside it: search columns and the app's ``RecordItem``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from domain.health import codes
from domain.health.fhirjson import (
    Json,
    codings,
    concept_text,
    first_coding,
    parse_datetime,
    quantity,
    status_code,
    tokens,
)
from domain.health.model import Amount, Category, Facility, RecordItem


class Columns(msgspec.Struct, kw_only=True):
    category: Category
    fhir_categories: tuple[str, ...]
    codes: tuple[str, ...]
    date: datetime | None
    status: str | None
    clinical_status: str | None
    intent: str | None


def _first_date(r: Json, *names: str) -> datetime | None:
    for name in names:
        value = r.get(name)
        if isinstance(value, dict):  # a Period
            value = value.get("start")
        found = parse_datetime(value)
        if found is not None:
            return found
    return None


_DATE_ELEMENTS: dict[str, tuple[str, ...]] = {
    "Encounter": ("period",),
    "Condition": ("onsetDateTime", "onsetPeriod", "recordedDate"),
    "Observation": ("effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued"),
    "DiagnosticReport": ("effectiveDateTime", "effectivePeriod", "issued"),
    "MedicationRequest": ("authoredOn",),
    "Immunization": ("occurrenceDateTime",),
    "AllergyIntolerance": ("recordedDate", "onsetDateTime"),
    "Procedure": ("performedDateTime", "performedPeriod"),
    "ServiceRequest": ("authoredOn", "occurrenceDateTime", "occurrencePeriod"),
    "Appointment": ("start", "created"),
    "DocumentReference": ("date",),
}

_CODE_ELEMENT: dict[str, str] = {
    "Condition": "code", "Observation": "code", "DiagnosticReport": "code", "Immunization": "vaccineCode",
    "MedicationRequest": "medicationCodeableConcept", "AllergyIntolerance": "code", "Procedure": "code",
    "ServiceRequest": "code", "DocumentReference": "type",
}


def _list(r: Json, name: str) -> list[Any]:
    value = r.get(name)
    return value if isinstance(value, list) else [value] if isinstance(value, dict) else []


_CATEGORY: dict[str, Category] = {
    "Encounter": Category.VISITS, "Condition": Category.PROBLEMS, "DiagnosticReport": Category.LABS,
    "MedicationRequest": Category.MEDICATIONS, "Immunization": Category.IMMUNIZATIONS,
    "AllergyIntolerance": Category.ALLERGIES, "Procedure": Category.PROCEDURES,
    "ServiceRequest": Category.REFERRALS, "Appointment": Category.APPOINTMENTS,
    "DocumentReference": Category.DOCUMENTS,
}
_VISIT_CLASS = {"AMB": "outpatient", "IMP": "inpatient", "EMER": "emergency", "HH": "home", "VR": "virtual"}


def category_of(rtype: str, r: Json) -> Category:
    if rtype == "Observation":
        vital = any(c.get("code") == "vital-signs" for cat in _list(r, "category") for c in codings(cat))
        return Category.VITALS if vital else Category.LABS
    return _CATEGORY[rtype]


def columns(rtype: str, r: Json) -> Columns:
    cats = _list(r, "category") if rtype != "Encounter" else _list(r, "class")
    if rtype == "Encounter":
        cats = [{"coding": [c]} for c in cats]  # Encounter.class is a Coding, not a CodeableConcept
    code_el = _CODE_ELEMENT.get(rtype)
    code_concepts = _list(r, code_el) if code_el else _list(r, "type") + _list(r, "serviceType")
    status = r.get("status")
    return Columns(
        category=category_of(rtype, r), fhir_categories=tokens(cats), codes=tokens(code_concepts),
        date=_first_date(r, *_DATE_ELEMENTS.get(rtype, ())),
        status=status if isinstance(status, str) else None,
        clinical_status=status_code(r.get("clinicalStatus")),
        intent=r.get("intent") if isinstance(r.get("intent"), str) else None)


def _amount(q: Any) -> Amount | None:
    value, unit = quantity(q)
    return Amount(value=value, unit=unit) if value is not None else None


def item(rid: uuid.UUID, rtype: str, r: Json, cols: Columns, facility: Facility, encounter_id: uuid.UUID,
         diagnoses: tuple[str, ...] = ()) -> RecordItem:
    """The app's view of one resource (after our ids were put into its references)."""
    code_el = _CODE_ELEMENT.get(rtype)
    concept = r.get(code_el) if code_el else None
    coding = first_coding(concept)
    title = concept_text(concept) or rtype
    kw: dict[str, Any] = {}
    if rtype == "Encounter":
        cls = r.get("class", {})
        kw["visit_class"] = _VISIT_CLASS.get(cls.get("code"), cls.get("code"))
        title = next((t for t in (concept_text(x) for x in _list(r, "type")) if t), "Khám bệnh")
        reasons = [concept_text(x) for x in _list(r, "reasonCode")]
        kw["reason"] = next((x for x in reasons if x), None)
        kw["diagnoses"] = diagnoses
        kw["end"] = parse_datetime(r.get("period", {}).get("end"))
    elif rtype == "Observation":
        kw["value"] = _amount(r.get("valueQuantity"))
        if kw["value"] is None:
            text = r.get("valueString") or concept_text(r.get("valueCodeableConcept"))
            kw["value"] = Amount(text=str(text)) if text else None
        comps = []
        for comp in _list(r, "component"):
            a = _amount(comp.get("valueQuantity"))
            if a is not None:
                comps.append((concept_text(comp.get("code")) or "", a))
        kw["components"] = tuple(comps)
        rr = _list(r, "referenceRange")
        if rr:
            kw["range_low"] = quantity(rr[0].get("low"))[0]
            kw["range_high"] = quantity(rr[0].get("high"))[0]
            kw["range_text"] = rr[0].get("text")
        interp = [status_code(x) for x in _list(r, "interpretation")]
        kw["interpretation"] = next((x for x in interp if x), None)
    elif rtype == "DiagnosticReport":
        kw["note"] = r.get("conclusion")
    elif rtype == "MedicationRequest":
        kw["dosage"] = next((d.get("text") for d in _list(r, "dosageInstruction") if d.get("text")), None)
        kw["quantity"] = _amount(r.get("dispenseRequest", {}).get("quantity"))
    elif rtype == "AllergyIntolerance":
        kw["criticality"] = r.get("criticality")
        kw["reactions"] = tuple(t for t in (concept_text(m) for x in _list(r, "reaction")
                                            for m in _list(x, "manifestation")) if t)
    elif rtype in ("ServiceRequest", "Appointment"):
        if rtype == "ServiceRequest":
            targets = _list(r, "performer")
        else:
            targets = [p.get("actor", {}) for p in _list(r, "participant")
                       if "identifier" in p.get("actor", {})]
            title = r.get("description") or concept_text(next(iter(_list(r, "serviceType")), None)) or title
            kw["end"] = parse_datetime(r.get("end"))
        kw["target"] = next((t.get("display") for t in targets if t.get("display")), None)
        reasons = [concept_text(x) for x in _list(r, "reasonCode")]
        kw["note"] = next((x for x in reasons if x), None)
    elif rtype == "DocumentReference":
        att: Json = next((c.get("attachment", {}) for c in _list(r, "content")), {})
        kw["content_type"] = att.get("contentType")
        kw["size"] = att.get("size")
        kw["note"] = att.get("title")
    clinical = cols.clinical_status  # status_code(r.get("clinicalStatus")), as columns() found it
    return RecordItem(
        id=rid, category=cols.category, resource_type=rtype, title=str(title), date=cols.date,
        status=clinical or cols.status, code=str(coding["code"]) if coding and coding.get("code") else None,
        code_system=str(coding["system"]) if coding and coding.get("system") else None,
        facility_id=facility.id, facility_name=facility.name, encounter_id=encounter_id, **kw)


def diagnoses_of(conditions: list[Json]) -> tuple[str, ...]:
    out = []
    for r in conditions:
        icd = first_coding(r.get("code"), codes.ICD10)
        text = concept_text(r.get("code"))
        if icd is not None:
            out.append(f"{icd.get('code')} {text}" if text and text != icd.get("code") else str(icd.get("code")))
    return tuple(out)
