"""Identifier and code systems the health context relies on (one place, documented in docs/health-api.md).

The national systems (personal ID, facility code, visit link code ``MA_LK``) have no canonical URIs
published for FHIR yet; ours live under one namespace so that a mapping to the ministry's URIs later
is a change here only.
"""

from __future__ import annotations

import functools
import re

NAMESPACE = "https://fhir.thudo.hanoi.gov.vn"

# Identifiers
PERSONAL_ID = f"{NAMESPACE}/sid/cccd"          # 12-digit personal identification number (CCCD / số định danh)
HEALTH_INSURANCE = f"{NAMESPACE}/sid/bhyt"    # health-insurance card number
FACILITY = f"{NAMESPACE}/sid/facility"        # facility code (mã cơ sở khám chữa bệnh)
VISIT = f"{NAMESPACE}/sid/ma-lk"              # visit link code as sent to social insurance (QĐ 130)
PATIENT = f"{NAMESPACE}/sid/patient"          # our patient id (served on Patient.identifier)

# Code systems
ICD10 = "http://hl7.org/fhir/sid/icd-10"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
CVX = "http://hl7.org/fhir/sid/cvx"
UCUM = "http://unitsofmeasure.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
DIAGNOSTIC_SERVICE = "http://terminology.hl7.org/CodeSystem/v2-0074"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

# Where a facility's codes must come from, per resource element (business check on top of structure).
ICD10_CODE = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")
LOINC_CODE = re.compile(r"^[0-9]{1,7}-[0-9]$")
PERSONAL_ID_VALUE = re.compile(r"^[0-9]{12}$")
ATC_CODE = re.compile(r"^[A-Z][0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?$")


@functools.lru_cache(maxsize=4096)  # a pure function of the code; the same few hundred codes recur
def loinc_check_digit_ok(code: str) -> bool:
    """LOINC's mod-10 check digit (the digit after the hyphen), as published by Regenstrief."""
    if not LOINC_CODE.match(code):
        return False
    body, check = code.split("-")
    digits = [int(c) for c in body]
    # Double every other digit starting from the rightmost one, add the digits of the products.
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            total += d // 10 + d % 10
        else:
            total += d
    return (10 - total % 10) % 10 == int(check)


def icd10_ok(code: str) -> bool:
    return ICD10_CODE.match(code) is not None
