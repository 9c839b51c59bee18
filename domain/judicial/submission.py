"""What a request must satisfy to be submitted (and again after a supplement)."""

from __future__ import annotations

from datetime import date

from domain.errors import Forbidden, InvalidInput
from domain.judicial.model import (
    AGE_CATEGORIES,
    HANOI_PROVINCE,
    Applicant,
    CertificateType,
    Delivery,
    FeeCategory,
    Request,
)
from domain.judicial.residence import age_on, validate_history

# Applicant fields every request needs (Mẫu 03/04); spouse is asked only when there is one.
REQUIRED = ("full_name", "sex", "date_of_birth", "place_of_birth", "nationality", "ethnicity",
            "permanent_residence", "id_document", "father", "mother")
MAX_COPIES = 20
CHILD_UNDER = 16
ELDERLY_FROM = 60


def require_complete(a: Applicant) -> None:
    for name in REQUIRED:
        value = getattr(a, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise InvalidInput("judicial.field_required", field=f"applicant.{name}", rule="required")


def check_rules(r: Request, today: date) -> None:
    """Business rules beyond completeness; ``today`` is the Hanoi date of submission."""
    a = r.applicant
    require_complete(a)
    assert a.date_of_birth is not None
    if a.date_of_birth > today:
        raise InvalidInput("judicial.birth_in_future", field="applicant.date_of_birth", rule="in_future")
    if r.certificate_type is CertificateType.NO2 and r.proxy is not None:
        # Law on Judicial Records, art. 46: No. 2 is given only to the person concerned.
        raise Forbidden("judicial.no2_by_proxy")
    if r.proxy is not None and r.proxy.document is None:
        raise InvalidInput("judicial.proxy_document_required", field="proxy.document", rule="required")
    if not r.purpose.strip():
        raise InvalidInput("judicial.field_required", field="purpose", rule="required")
    if not 1 <= r.copies <= MAX_COPIES:
        raise InvalidInput("judicial.copies", field="copies", rule="range")
    if r.delivery is Delivery.POST and r.postal_address is None:
        raise InvalidInput("judicial.field_required", field="postal_address", rule="required")
    age = age_on(a.date_of_birth, today)
    if r.fee_category is FeeCategory.CHILD and age >= CHILD_UNDER:
        raise InvalidInput("judicial.fee_category_age", field="fee_category", rule="child_age")
    if r.fee_category is FeeCategory.ELDERLY and age < ELDERLY_FROM:
        raise InvalidInput("judicial.fee_category_age", field="fee_category", rule="elderly_age")
    if r.fee_category not in AGE_CATEGORIES and r.fee_category is not FeeCategory.STANDARD and not r.fee_documents:
        raise InvalidInput("judicial.fee_document_required", field="fee_documents", rule="required")
    validate_history(r.residence_history, a.date_of_birth, today)


def hanoi_resident(a: Applicant) -> bool:
    return any(addr is not None and addr.country == "VN" and addr.province_code == HANOI_PROVINCE
               for addr in (a.permanent_residence, a.temporary_residence))
