"""Feedback entities and value objects.

Statuses follow the city's statistics (Decision 1207/QĐ-UBND); ``overdue`` is derived from the
stored deadlines, never stored. ``duplicate`` closes a report in favour of another one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec


class Status(StrEnum):
    PENDING = "pending"            # chờ xử lý: received, waiting for the unit to acknowledge
    TRANSFERRED = "transferred"    # chuyển xử lý: sent to another unit, waiting for it to acknowledge
    IN_PROGRESS = "in_progress"    # đang xử lý: acknowledged by the unit
    HANDLED = "handled"            # đã xử lý: public reply with evidence
    REJECTED = "rejected"          # từ chối
    DUPLICATE = "duplicate"        # closed as a duplicate of another report


OPEN_STATUSES = frozenset({Status.PENDING, Status.TRANSFERRED, Status.IN_PROGRESS})
AWAITING_ACK = frozenset({Status.PENDING, Status.TRANSFERRED})


def open311_status(status: Status) -> str:
    """GeoReport v2 knows only ``open`` and ``closed``."""
    return "open" if status in OPEN_STATUSES else "closed"


# FixMyStreet's richer vocabulary for ``servicerequestupdates``.
FMS_STATUS: dict[Status, str] = {
    Status.PENDING: "open",
    Status.TRANSFERRED: "internal_referral",
    Status.IN_PROGRESS: "in_progress",
    Status.HANDLED: "fixed",
    Status.REJECTED: "not_councils_responsibility",
    Status.DUPLICATE: "duplicate",
}


class Level(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"      # disaster, crime, safety: handled within 4 working hours
    COMPLEX = "complex"    # several agencies or a legal procedure: longer deadline


class Datatype(StrEnum):
    STRING = "string"
    NUMBER = "number"
    DATETIME = "datetime"
    TEXT = "text"
    SINGLE = "singlevaluelist"
    MULTI = "multivaluelist"


class QuestionValue(msgspec.Struct, frozen=True):
    key: str
    name_vi: str
    name_en: str


class Question(msgspec.Struct, frozen=True, kw_only=True):
    """An extra question of a category (an Open311 service-definition attribute)."""

    code: str
    datatype: Datatype
    required: bool = False
    label_vi: str
    label_en: str
    description_vi: str = ""
    description_en: str = ""
    values: tuple[QuestionValue, ...] = ()


class Sla(msgspec.Struct, frozen=True):
    """Working hours to handle a report, per level (urgent is fixed by Decision 1207 at 4)."""

    normal_hours: int
    complex_hours: int
    urgent_hours: int = 4

    def hours(self, level: Level) -> int:
        return {Level.NORMAL: self.normal_hours, Level.COMPLEX: self.complex_hours,
                Level.URGENT: self.urgent_hours}[level]


class CategoryInput(msgspec.Struct, frozen=True, kw_only=True):
    """What a city admin edits; a stored ``Category`` adds its identity and version."""

    code: str
    name_vi: str
    name_en: str
    description_vi: str = ""
    description_en: str = ""
    group: str = ""
    keywords: tuple[str, ...] = ()
    default_level: Level = Level.NORMAL
    sla: Sla
    # When set and ``route_to_department`` is true, reports go to this department, not the locality.
    department_id: uuid.UUID | None = None
    route_to_department: bool = False
    questions: tuple[Question, ...] = ()
    active: bool = True


class Category(CategoryInput, frozen=True, kw_only=True):
    id: uuid.UUID
    updated_at: datetime | None = None


class UnitKind(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    WARD = "ward"
    DEPARTMENT = "department"


class UnitRef(msgspec.Struct, frozen=True):
    id: uuid.UUID
    kind: UnitKind
    parent_id: uuid.UUID | None = None
    name_vi: str = ""
    name_en: str = ""


class Location(msgspec.Struct, frozen=True):
    lat: float
    lon: float


class Report(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    ref: str
    reporter_id: uuid.UUID
    category_id: uuid.UUID
    level: Level
    status: Status
    description: str
    location: Location
    address: str
    ward_id: uuid.UUID | None
    unit_id: uuid.UUID
    assignee_id: uuid.UUID | None = None
    answers: dict[str, Any] = msgspec.field(default_factory=dict)
    # The reporter agrees the handled report may be shown publicly (reporter never shown).
    publishable: bool = True
    # Staff moderation: hides a report from the public feed regardless of consent.
    hidden: bool = False
    created_at: datetime
    updated_at: datetime
    ack_due_at: datetime
    due_at: datetime
    acknowledged_at: datetime | None = None
    handled_at: datetime | None = None
    closed_at: datetime | None = None
    duplicate_of: uuid.UUID | None = None
    reply: str | None = None
    reopen_count: int = 0
    version: int = 0

    @property
    def is_public(self) -> bool:
        return self.status is Status.HANDLED and self.publishable and not self.hidden

    @property
    def next_deadline(self) -> datetime | None:
        """The deadline that matters now: acknowledgement first, then handling."""
        if self.status in AWAITING_ACK:
            return min(self.ack_due_at, self.due_at)
        if self.status is Status.IN_PROGRESS:
            return self.due_at
        return None

    def overdue(self, now: datetime) -> bool:
        deadline = self.next_deadline
        return deadline is not None and now > deadline


class ReportSummary(msgspec.Struct, frozen=True):
    """A list row (my reports, unit queue, followed): built straight from the row, in this order."""

    id: uuid.UUID
    ref: str
    status: str
    overdue: bool
    category_id: uuid.UUID
    level: str
    description: str  # the first 200 characters
    address: str
    unit_id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    due_at: datetime
    assignee_id: uuid.UUID | None = None
    # The handling unit's names, so a list needs no second look-up (GET /api/v1/units has the rest).
    unit_name_vi: str = ""
    unit_name_en: str = ""


class EventKind(StrEnum):
    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    NOTE = "note"
    CATEGORY_CHANGED = "category_changed"
    TRANSFERRED = "transferred"
    HANDLED = "handled"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    REOPENED = "reopened"
    RATED = "rated"
    VISIBILITY = "visibility"
    ESCALATED = "escalated"


class ActorKind(StrEnum):
    CITIZEN = "citizen"
    STAFF = "staff"
    SYSTEM = "system"


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a report's timeline. ``public`` false = internal (never shown to citizens)."""

    id: uuid.UUID
    report_id: uuid.UUID
    kind: EventKind
    status: Status
    actor_kind: ActorKind
    actor_id: uuid.UUID | None
    public: bool
    text: str = ""
    data: dict[str, Any] = msgspec.field(default_factory=dict)
    created_at: datetime


class AttachmentKind(StrEnum):
    PHOTO = "photo"          # citizen's photo of the problem
    EVIDENCE = "evidence"    # staff's proof of handling (photo or PDF document)


class Attachment(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    report_id: uuid.UUID
    kind: AttachmentKind
    content_type: str
    size: int
    blob_key: str
    thumb_key: str | None
    uploaded_by: uuid.UUID
    created_at: datetime
    used: bool = False
    # SHA-256 of the bytes as uploaded: a retried upload finds the attachment it already created.
    source_sha256: str = ""


class Rating(msgspec.Struct, frozen=True, kw_only=True):
    report_id: uuid.UUID
    score: int
    comment: str
    created_at: datetime
