"""Request and response schemas of the health context's JSON API (snake_case, app-friendly)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from domain.health.model import AccessEntry, Category, Facility, FacilityLevel, RecordItem, Share

ListCategory = Literal["problems", "medications", "immunizations", "labs", "vitals", "allergies", "procedures",
                       "referrals", "appointments", "documents"]


class RecordOut(msgspec.Struct, kw_only=True):
    patient_id: uuid.UUID
    fhir_base: str


class VisitOut(msgspec.Struct, kw_only=True):
    visit: RecordItem
    entries: list[RecordItem]


class ShareIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Empty: the whole record.
    categories: Annotated[list[Category], Meta(max_length=11)] = msgspec.field(default_factory=list)
    recipient: Annotated[str, Meta(min_length=1, max_length=200)]
    hours: Annotated[int, Meta(ge=1, le=168)] = 24


class ShareOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: uuid.UUID
    categories: list[Category]
    recipient: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    active: bool
    # Only in the answer that creates the share: the code is never stored in clear.
    code: str | None = None
    link: str | None = None


class RedeemIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Annotated[str, Meta(min_length=8, max_length=20)]


class RedeemOut(msgspec.Struct, kw_only=True):
    patient_id: uuid.UUID
    categories: list[Category]
    expires_at: datetime
    fhir_base: str


class AccessOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    at: datetime
    reader_kind: str
    reader_name: str
    action: str
    what: str
    why: str


class FacilityIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Annotated[str, Meta(pattern=r"^[0-9A-Z]{3,10}$")]
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    level: FacilityLevel
    district_id: uuid.UUID | None = None
    client_id: uuid.UUID | None = None
    active: bool = True


class FacilityOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    code: str
    name: str
    level: FacilityLevel
    district_id: uuid.UUID | None
    client_id: uuid.UUID | None
    active: bool


def share_out(s: Share, now: datetime, code: str | None = None, link: str | None = None) -> ShareOut:
    return ShareOut(id=s.id, categories=list(s.categories), recipient=s.recipient, created_at=s.created_at,
                    expires_at=s.expires_at, revoked_at=s.revoked_at, active=s.active(now), code=code, link=link)


def access_out(e: AccessEntry) -> AccessOut:
    return AccessOut(id=e.id, at=e.at, reader_kind=e.reader_kind.value, reader_name=e.reader_name, action=e.action,
                     what=e.what, why=e.why)


def facility_out(f: Facility) -> FacilityOut:
    return FacilityOut(id=f.id, code=f.code, name=f.name, level=f.level, district_id=f.district_id,
                       client_id=f.client_id, active=f.active)
