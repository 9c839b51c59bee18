# ruff: noqa: S311  (demo data: reproducible pseudo-random values, nothing secret)
"""Realistic FHIR R4 encounter bundles as a Hanoi facility would send them (demo data, tests, bench, docs).

Each call builds one visit: the Patient, the Encounter (identified by the facility's visit link code
``MA_LK``), and whatever the visit produced — diagnoses (ICD-10), vital signs and lab results (LOINC,
with reference ranges), a lab report, prescriptions (ATC), a vaccination, an allergy, a procedure, a
discharge note, a referral and the appointment it led to. Everything is fictitious.
"""

from __future__ import annotations

import base64
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.health import codes
from domain.shared.time import HANOI

Json = dict[str, Any]


@dataclass(frozen=True)
class Facility:
    code: str
    name: str
    level: str
    district_code: str


# A handful of Hanoi facilities (codes are illustrative, not the ministry's registry).
DEMO_FACILITIES: tuple[Facility, ...] = (
    Facility("01929", "Bệnh viện Bạch Mai", "central", "D006"),
    Facility("01001", "Bệnh viện Đa khoa Xanh Pôn", "city", "D001"),
    Facility("01014", "Bệnh viện Thanh Nhàn", "city", "D007"),
    Facility("01820", "Trung tâm Y tế quận Hoàn Kiếm", "district", "D002"),
    Facility("01811", "Trạm Y tế phường Trúc Bạch", "commune", "D001"),
)


@dataclass
class VisitPlan:
    """What one visit contains. ``kind``: outpatient (AMB), inpatient (IMP) or vaccination (AMB)."""

    facility: Facility
    personal_id: str
    family: str
    given: str
    gender: str
    birth_date: date
    visit_code: str
    start: datetime
    kind: str = "outpatient"
    diagnoses: tuple[tuple[str, str], ...] = (("I10", "Tăng huyết áp vô căn (nguyên phát)"),)
    vitals: bool = True
    labs: bool = False
    medications: tuple[tuple[str, str, str], ...] = ()
    vaccine: tuple[str, str] | None = None
    allergy: bool = False
    procedure: tuple[str, str] | None = None
    document: bool = False
    referral_to: Facility | None = None
    bundle_type: str = "collection"
    rng: random.Random = field(default_factory=lambda: random.Random(0))


def _urn(rng: random.Random) -> str:
    return f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"


def _iso(t: datetime) -> str:
    return t.astimezone(HANOI).isoformat(timespec="seconds")


def _cc(system: str, code: str, display: str, text: str | None = None) -> Json:
    out: Json = {"coding": [{"system": system, "code": code, "display": display}]}
    if text:
        out["text"] = text
    return out


def _qty(value: float, unit: str, ucum: str) -> Json:
    return {"value": value, "unit": unit, "system": codes.UCUM, "code": ucum}


def facility_ref(f: Facility) -> Json:
    return {"identifier": {"system": codes.FACILITY, "value": f.code}, "display": f.name}


LABS: tuple[tuple[str, str, str, str, float, float, float], ...] = (
    # (LOINC, display, unit, UCUM, low, high, typical value)
    ("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mmol/L", "mmol/L", 3.9, 6.4, 7.8),
    ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", "%", 4.0, 6.0, 7.1),
    ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "µmol/L", "umol/L", 62.0, 106.0, 88.0),
    ("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mmol/L", "mmol/L", 3.9, 5.2, 5.9),
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/L", "g/L", 130.0, 170.0, 142.0),
)

MEDICINES: dict[str, tuple[str, str, str]] = {
    # key: (ATC, name and strength, dosage text)
    "amlodipine": ("C08CA01", "Amlodipin 5 mg viên nén", "Uống 1 viên/ngày vào buổi sáng"),
    "metformin": ("A10BA02", "Metformin 500 mg viên nén", "Uống 1 viên x 2 lần/ngày sau ăn"),
    "amoxicillin": ("J01CA04", "Amoxicilin 500 mg viên nang", "Uống 1 viên x 3 lần/ngày trong 7 ngày"),
    "paracetamol": ("N02BE01", "Paracetamol 500 mg viên nén", "Uống 1 viên khi sốt > 38.5°C, cách 6 giờ"),
    "atorvastatin": ("C10AA05", "Atorvastatin 20 mg viên nén", "Uống 1 viên/ngày buổi tối"),
}


def encounter_bundle(p: VisitPlan) -> Json:
    """One encounter as a FHIR R4 Bundle (``collection`` or ``transaction``)."""
    rng = p.rng
    patient_url, encounter_url = _urn(rng), _urn(rng)
    patient_ref = {"reference": patient_url}
    enc_ref = {"reference": encounter_url}
    end = p.start + (timedelta(days=3) if p.kind == "inpatient" else timedelta(minutes=45))
    entries: list[tuple[str, Json]] = []

    patient: Json = {
        "resourceType": "Patient",
        "identifier": [{"use": "official", "system": codes.PERSONAL_ID, "value": p.personal_id}],
        "name": [{"use": "official", "text": f"{p.family} {p.given}", "family": p.family, "given": [p.given]}],
        "gender": p.gender, "birthDate": p.birth_date.isoformat(),
        "address": [{"use": "home", "city": "Hà Nội", "country": "VN"}],
    }
    entries.append((patient_url, patient))

    cls = ("IMP", "inpatient encounter") if p.kind == "inpatient" else ("AMB", "ambulatory")
    encounter: Json = {
        "resourceType": "Encounter",
        "identifier": [{"system": codes.VISIT, "value": p.visit_code}],
        "status": "finished",
        "class": {"system": codes.ACT_CODE, "code": cls[0], "display": cls[1]},
        "type": [{"text": {"outpatient": "Khám bệnh ngoại trú", "inpatient": "Điều trị nội trú",
                           "vaccination": "Tiêm chủng"}[p.kind]}],
        "subject": patient_ref,
        "period": {"start": _iso(p.start), "end": _iso(end)},
        "reasonCode": [{"text": p.diagnoses[0][1] if p.diagnoses else "Tiêm chủng"}],
        "serviceProvider": facility_ref(p.facility),
    }
    if p.kind == "inpatient":
        encounter["hospitalization"] = {"dischargeDisposition": {"text": "Ra viện, bệnh ổn định"}}
    entries.append((encounter_url, encounter))

    for i, (icd, display) in enumerate(p.diagnoses):
        entries.append((_urn(rng), {
            "resourceType": "Condition",
            "clinicalStatus": _cc(codes.CONDITION_CLINICAL, "active", "Active"),
            "verificationStatus": _cc("http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                      "confirmed", "Confirmed"),
            "category": [_cc(codes.CONDITION_CATEGORY, "encounter-diagnosis" if i else "problem-list-item",
                             "Encounter Diagnosis" if i else "Problem List Item")],
            "code": _cc(codes.ICD10, icd, display, display),
            "subject": patient_ref, "encounter": enc_ref,
            "recordedDate": _iso(p.start),
        }))

    def observation(category: str, loinc: str, display: str, when: datetime, **value: Any) -> tuple[str, Json]:
        obs: Json = {
            "resourceType": "Observation", "status": "final",
            "category": [_cc(codes.OBSERVATION_CATEGORY, category,
                             "Vital Signs" if category == "vital-signs" else "Laboratory")],
            "code": _cc(codes.LOINC, loinc, display, display),
            "subject": patient_ref, "encounter": enc_ref, "effectiveDateTime": _iso(when),
        }
        obs.update(value)
        return _urn(rng), obs

    if p.vitals:
        t = p.start + timedelta(minutes=5)
        sys_bp, dia_bp = rng.randint(118, 158), rng.randint(72, 96)
        entries.append(observation("vital-signs", "85354-9", "Blood pressure panel with all children optional", t,
                                   component=[
                                       {"code": _cc(codes.LOINC, "8480-6", "Systolic blood pressure"),
                                        "valueQuantity": _qty(sys_bp, "mmHg", "mm[Hg]")},
                                       {"code": _cc(codes.LOINC, "8462-4", "Diastolic blood pressure"),
                                        "valueQuantity": _qty(dia_bp, "mmHg", "mm[Hg]")}]))
        entries.append(observation("vital-signs", "8867-4", "Heart rate", t,
                                   valueQuantity=_qty(rng.randint(62, 96), "lần/phút", "/min")))
        entries.append(observation("vital-signs", "29463-7", "Body weight", t,
                                   valueQuantity=_qty(round(rng.uniform(48, 78), 1), "kg", "kg")))
        entries.append(observation("vital-signs", "8310-5", "Body temperature", t,
                                   valueQuantity=_qty(round(rng.uniform(36.3, 37.4), 1), "°C", "Cel")))

    lab_urls: list[str] = []
    if p.labs:
        t = p.start + timedelta(hours=1)
        for loinc, display, unit, ucum, low, high, typical in LABS:
            value = round(typical * rng.uniform(0.9, 1.1), 1)
            flag = "H" if value > high else "L" if value < low else "N"
            url, obs = observation("laboratory", loinc, display, t,
                                   valueQuantity=_qty(value, unit, ucum),
                                   interpretation=[_cc(codes.INTERPRETATION, flag,
                                                       {"H": "High", "L": "Low", "N": "Normal"}[flag])],
                                   referenceRange=[{"low": _qty(low, unit, ucum), "high": _qty(high, unit, ucum)}])
            lab_urls.append(url)
            entries.append((url, obs))
        entries.append((_urn(rng), {
            "resourceType": "DiagnosticReport", "status": "final",
            "category": [_cc(codes.DIAGNOSTIC_SERVICE, "LAB", "Laboratory")],
            "code": _cc(codes.LOINC, "24323-8", "Comprehensive metabolic 2000 panel - Serum or Plasma",
                        "Xét nghiệm sinh hóa máu"),
            "subject": patient_ref, "encounter": enc_ref, "effectiveDateTime": _iso(t), "issued": _iso(t),
            "performer": [facility_ref(p.facility)],
            "result": [{"reference": u} for u in lab_urls],
            "conclusion": "Đường huyết và HbA1c cao hơn giới hạn tham chiếu.",
        }))

    for key, quantity, days in p.medications:
        atc, name, dosage = MEDICINES[key]
        entries.append((_urn(rng), {
            "resourceType": "MedicationRequest", "status": "active", "intent": "order",
            "medicationCodeableConcept": _cc(codes.ATC, atc, name, name),
            "subject": patient_ref, "encounter": enc_ref, "authoredOn": _iso(end),
            "requester": {"display": "BS. Hoàng Minh Đức"},
            "dosageInstruction": [{"text": dosage}],
            "dispenseRequest": {"quantity": {"value": int(quantity), "unit": "viên"},
                                "expectedSupplyDuration": {"value": int(days), "unit": "ngày",
                                                           "system": codes.UCUM, "code": "d"}},
        }))

    if p.vaccine:
        cvx, display = p.vaccine
        entries.append((_urn(rng), {
            "resourceType": "Immunization", "status": "completed",
            "vaccineCode": _cc(codes.CVX, cvx, display, display),
            "patient": patient_ref, "encounter": enc_ref, "occurrenceDateTime": _iso(p.start),
            "primarySource": True, "lotNumber": f"LOT{rng.randint(10000, 99999)}",
            "performer": [{"actor": facility_ref(p.facility)}],
            "protocolApplied": [{"doseNumberPositiveInt": 1}],
        }))

    if p.allergy:
        entries.append((_urn(rng), {
            "resourceType": "AllergyIntolerance",
            "clinicalStatus": _cc(codes.ALLERGY_CLINICAL, "active", "Active"),
            "verificationStatus": _cc("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                                      "confirmed", "Confirmed"),
            "type": "allergy", "category": ["medication"], "criticality": "high",
            "code": _cc(codes.SNOMED, "372687004", "Amoxicillin", "Dị ứng Amoxicilin"),
            "patient": patient_ref, "encounter": enc_ref, "recordedDate": _iso(p.start),
            "reaction": [{"manifestation": [_cc(codes.SNOMED, "271807003", "Eruption of skin", "Phát ban")],
                          "severity": "moderate"}],
        }))

    if p.procedure:
        snomed, display = p.procedure
        entries.append((_urn(rng), {
            "resourceType": "Procedure", "status": "completed",
            "code": _cc(codes.SNOMED, snomed, display, display),
            "subject": patient_ref, "encounter": enc_ref,
            "performedDateTime": _iso(p.start + timedelta(hours=2)),
        }))

    if p.document:
        text = (f"Tóm tắt {'ra viện' if p.kind == 'inpatient' else 'khám bệnh'}: "
                f"{', '.join(d for _, d in p.diagnoses)}.").encode()
        doc_type = ("18842-5", "Discharge summary") if p.kind == "inpatient" else ("11506-3", "Progress note")
        entries.append((_urn(rng), {
            "resourceType": "DocumentReference", "status": "current",
            "type": _cc(codes.LOINC, doc_type[0], doc_type[1],
                        "Giấy ra viện" if p.kind == "inpatient" else "Phiếu khám"),
            "category": [_cc("http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                             "clinical-note", "Clinical Note")],
            "subject": patient_ref, "date": _iso(end), "author": [facility_ref(p.facility)],
            "content": [{"attachment": {"contentType": "text/plain; charset=utf-8", "language": "vi",
                                        "data": base64.b64encode(text).decode(), "size": len(text),
                                        "title": "Tóm tắt"}}],
            "context": {"encounter": [enc_ref]},
        }))

    if p.referral_to is not None:
        referral_url = _urn(rng)
        entries.append((referral_url, {
            "resourceType": "ServiceRequest", "status": "active", "intent": "order",
            "category": [_cc(codes.SNOMED, "3457005", "Patient referral", "Chuyển tuyến")],
            "code": _cc(codes.SNOMED, "183519002", "Referral to cardiology service",
                        "Chuyển khám chuyên khoa tim mạch"),
            "subject": patient_ref, "encounter": enc_ref, "authoredOn": _iso(end),
            "requester": facility_ref(p.facility), "performer": [facility_ref(p.referral_to)],
            "reasonCode": [{"text": "Tăng huyết áp chưa kiểm soát"}],
        }))
        when = (end + timedelta(days=7)).astimezone(HANOI).replace(hour=8, minute=30, second=0, microsecond=0)
        entries.append((_urn(rng), {
            "resourceType": "Appointment", "status": "booked",
            "serviceType": [{"text": "Khám tim mạch"}],
            "description": f"Khám chuyên khoa tại {p.referral_to.name}",
            "start": _iso(when), "end": _iso(when + timedelta(minutes=30)),
            "basedOn": [{"reference": referral_url}],
            "participant": [{"actor": patient_ref, "status": "accepted"},
                            {"actor": facility_ref(p.referral_to), "status": "accepted"}],
        }))

    bundle: Json = {"resourceType": "Bundle", "type": p.bundle_type, "timestamp": _iso(end), "entry": []}
    for url, resource in entries:
        entry: Json = {"fullUrl": url, "resource": resource}
        if p.bundle_type == "transaction":
            entry["request"] = {"method": "POST", "url": resource["resourceType"]}
        bundle["entry"].append(entry)
    return bundle


def typical_bundle(personal_id: str = "001085000101", visit_code: str = "01929.2026.000123",
                   facility: Facility = DEMO_FACILITIES[0], seed: int = 1,
                   start: datetime = datetime(2026, 3, 9, 1, 30, tzinfo=UTC), bundle_type: str = "collection") -> Json:
    """A follow-up visit with everything: diagnoses, vitals, labs, two prescriptions, a vaccination,
    an allergy, a procedure, a note, a referral and its appointment (the docs' example)."""
    return encounter_bundle(VisitPlan(
        facility=facility, personal_id=personal_id, family="Nguyễn Văn", given="An", gender="male",
        birth_date=date(1985, 3, 12), visit_code=visit_code, start=start,
        diagnoses=(("I10", "Tăng huyết áp vô căn (nguyên phát)"), ("E11.9", "Đái tháo đường type 2 không biến chứng")),
        labs=True, medications=(("amlodipine", "30", "30"), ("metformin", "60", "30")),
        vaccine=("141", "Influenza, seasonal, injectable"), allergy=True,
        procedure=("29303009", "Electrocardiographic procedure"), document=True,
        referral_to=DEMO_FACILITIES[1] if facility is not DEMO_FACILITIES[1] else DEMO_FACILITIES[0],
        bundle_type=bundle_type, rng=random.Random(seed)))


def demo_history(personal_id: str, family: str, given: str, gender: str, birth_date: date, *,
                 years: int = 3, seed: int = 7, until: datetime | None = None) -> list[Json]:
    """A few years of visits for one demo citizen: check-ups, an infection, a stay, vaccinations."""
    rng = random.Random(seed)
    until = until or datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    start = until - timedelta(days=365 * years)
    bundles: list[Json] = []
    n = 0
    t = start
    while t < until:
        fac = DEMO_FACILITIES[n % len(DEMO_FACILITIES)]
        kind = ("outpatient", "vaccination", "outpatient", "inpatient")[n % 4]
        n += 1
        plan = VisitPlan(facility=fac, personal_id=personal_id, family=family, given=given, gender=gender,
                         birth_date=birth_date, visit_code=f"{fac.code}.{t.year}.{rng.randint(1, 999999):06d}",
                         start=t, kind=kind, rng=random.Random(rng.getrandbits(32)))
        if kind == "vaccination":
            plan.diagnoses, plan.vitals = (), False
            plan.vaccine = ("141", "Influenza, seasonal, injectable")
        elif kind == "inpatient":
            plan.diagnoses = (("J18.9", "Viêm phổi, không đặc hiệu"),)
            plan.labs, plan.document = True, True
            plan.medications = (("amoxicillin", "21", "7"), ("paracetamol", "10", "5"))
            plan.procedure = ("399208008", "Plain chest X-ray")
        else:
            plan.diagnoses = (("I10", "Tăng huyết áp vô căn (nguyên phát)"),)
            plan.labs = n % 3 == 0
            plan.medications = (("amlodipine", "30", "30"), ("atorvastatin", "30", "30"))
            plan.allergy = n == 1
            plan.referral_to = DEMO_FACILITIES[0] if n == 5 else None
        bundles.append(encounter_bundle(plan))
        t += timedelta(days=rng.randint(60, 150))
    return bundles
