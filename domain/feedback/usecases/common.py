"""What every feedback use case needs: its ports, the calendar, and the shared steps
(loading a report the caller may see, recording an event, notifying reporter and followers)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.errors import InvalidInput, NotFound
from domain.feedback import notifications as _templates  # noqa: F401  (registers the texts)
from domain.feedback.access import is_reporter
from domain.feedback.calendar import WorkingCalendar
from domain.feedback.model import ActorKind, Category, Event, EventKind, Level, Report
from domain.feedback.ports import BlobStore, Categories, ImageProcessor, Reports, Units
from domain.identity.principal import Principal
from domain.notifications.model import Notification
from domain.notifications.ports import Notifier
from domain.shared.ids import new_id
from domain.shared.time import Clock

ACK_HOURS = 8  # Decision 1207: every report acknowledged within 8 working hours


@dataclass(frozen=True)
class Limits:
    max_photos: int = 5
    max_upload_bytes: int = 10 * 1024 * 1024
    reopen_days: int = 7
    duplicate_radius_m: float = 100.0
    duplicate_days: int = 30


@dataclass(frozen=True)
class Deps:
    reports: Reports
    categories: Categories
    units: Units
    notifier: Notifier
    clock: Clock
    calendar: WorkingCalendar
    images: ImageProcessor | None = None
    blobs: BlobStore | None = None
    limits: Limits = Limits()


def not_found() -> NotFound:
    return NotFound("feedback.report_not_found")


class UseCase:
    def __init__(self, deps: Deps) -> None:
        self.d = deps

    async def category(self, category_id: uuid.UUID, field: str = "category_id") -> Category:
        category = await self.d.categories.get(category_id)
        if category is None or not category.active:
            raise InvalidInput("feedback.unknown_category", field=field, rule="unknown_category")
        return category

    async def own_report(self, principal: Principal, report_id: uuid.UUID) -> Report:
        """The caller's own report, locked for update; anyone else's is 404."""
        report = await self.d.reports.get(report_id, for_update=True)
        if report is None or not is_reporter(principal, report):
            raise not_found()
        return report

    def handle_due(self, start: datetime, category: Category, level: Level) -> datetime:
        return self.d.calendar.add_working_hours(start, category.sla.hours(level))

    def new_event(self, report: Report, kind: EventKind, actor: Principal | None, *, public: bool = True,
                  text: str = "", data: dict[str, Any] | None = None) -> Event:
        actor_kind = (ActorKind.SYSTEM if actor is None else
                      ActorKind.CITIZEN if actor.id == report.reporter_id else ActorKind.STAFF)
        return Event(id=new_id(), report_id=report.id, kind=kind, status=report.status,
                     actor_kind=actor_kind, actor_id=actor.id if actor else None, public=public,
                     text=text, data=data or {}, created_at=self.d.clock.now())

    async def record(self, report: Report, kind: EventKind, actor: Principal | None, *,
                     public: bool = True, text: str = "", data: dict[str, Any] | None = None,
                     notify: bool = True) -> Event:
        """Append a timeline event; a public status change notifies reporter and followers."""
        event = self.new_event(report, kind, actor, public=public, text=text, data=data)
        await self.d.reports.add_event(event)
        if notify and public:
            await self.notify_all(report, event)
        return event

    async def notify_all(self, report: Report, event: Event) -> None:
        recipients = [report.reporter_id, *await self.d.reports.follower_ids(report.id)]
        for user_id in dict.fromkeys(recipients):
            if event.actor_id == user_id:
                continue  # nobody needs a push about what they just did themselves
            await self.d.notifier.notify(Notification(
                user_id=user_id, category="feedback", template=f"feedback.{event.kind.value}",
                object_type="feedback_report", object_id=str(report.id),
                params={"ref": report.ref, "status": report.status.value},
                idempotency_key=f"feedback.{event.id}.{user_id}"))

    async def save(self, report: Report) -> None:
        report.updated_at = self.d.clock.now()
        await self.d.reports.save(report)

