"""The read side of the feedback context: the queries behind lists, timelines and statistics.

``FeedbackReads`` is implemented by ``adapters/postgres/feedback/queries.py``; controllers and
the statistics use case see only this port. Every list orders by the UUIDv7 id (time-ordered,
unique) so a cursor is the last id seen.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

import msgspec

from domain.feedback.geo import BBox
from domain.feedback.model import Attachment, Event, Level, Report, ReportSummary, Status


class QueueFilter(msgspec.Struct, frozen=True, kw_only=True):
    status: Status | None = None
    level: Level | None = None
    category_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    overdue: bool | None = None


class SearchFilter(msgspec.Struct, frozen=True, kw_only=True):
    """For Open311 ``GET requests`` and similar: category codes, statuses, creation window."""

    category_ids: tuple[uuid.UUID, ...] = ()
    statuses: tuple[Status, ...] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    public_only: bool = False


class UnitStats(msgspec.Struct, frozen=True):
    unit_id: uuid.UUID | None
    received: int
    handled: int
    rejected: int
    on_time: int
    avg_handling_hours: float | None
    ratings: int
    satisfied: int


class UnitName(msgspec.Struct, frozen=True):
    code: str
    name_vi: str
    name_en: str


class QueueCounts(msgspec.Struct, frozen=True):
    """A unit's open reports by status, and how many of them are overdue (the staff console's header)."""

    by_status: dict[str, int]
    overdue: int

    @property
    def open(self) -> int:
        return sum(self.by_status.values())


class StaffMember(msgspec.Struct, frozen=True):
    """A handler of a unit, as a supervisor picks them for an assignment."""

    user_id: uuid.UUID
    full_name: str


class FeedbackReads(Protocol):
    async def my_reports(self, reporter_id: uuid.UUID, now: datetime, after: uuid.UUID | None,
                         limit: int) -> list[ReportSummary]: ...

    async def my_reports_in_session(self, reporter_id: uuid.UUID, session_id: uuid.UUID, now: datetime,
                                    after: uuid.UUID | None, limit: int) -> list[ReportSummary] | None:
        """The same page, read only while ``session_id`` is a live session of the reporter (None if not): the
        caller's session check in the page's own round trip."""
        ...

    async def followed(self, user_id: uuid.UUID, now: datetime, after: uuid.UUID | None,
                       limit: int) -> list[ReportSummary]: ...

    async def queue(self, unit_id: uuid.UUID, f: QueueFilter, now: datetime, after: uuid.UUID | None,
                    limit: int) -> list[ReportSummary]: ...

    async def public_near(self, box: BBox, after: uuid.UUID | None, limit: int) -> list[Report]: ...

    async def public_in_ward(self, ward_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> list[Report]: ...

    async def search(self, f: SearchFilter, after: uuid.UUID | None, limit: int) -> list[Report]: ...

    async def events(self, report_id: uuid.UUID, *, public_only: bool) -> list[Event]: ...

    async def attachments(self, report_id: uuid.UUID) -> list[Attachment]: ...

    async def attachments_of(self, report_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Attachment]]: ...

    async def attachment(self, report_id: uuid.UUID, attachment_id: uuid.UUID) -> Attachment | None: ...

    async def rating(self, report_id: uuid.UUID) -> tuple[int, str] | None: ...

    async def follower_count(self, report_id: uuid.UUID) -> int: ...

    async def export_for(self, user_id: uuid.UUID) -> dict[str, Any]: ...

    async def heatmap(self, start: datetime, end: datetime, steps: tuple[float, float], unit_id: uuid.UUID | None,
                      category_id: uuid.UUID | None, limit: int) -> list[tuple[int, int, int, int]]: ...

    async def stats(self, start: datetime, end: datetime, unit_id: uuid.UUID | None) -> list[UnitStats]: ...

    async def queue_counts(self, unit_id: uuid.UUID, now: datetime) -> QueueCounts: ...

    async def handlers(self, unit_id: uuid.UUID) -> list[StaffMember]:
        """The unit's staff who may be assigned reports (handlers), by name."""
        ...

    async def unit_names(self, unit_ids: list[uuid.UUID]) -> dict[uuid.UUID, UnitName]: ...
