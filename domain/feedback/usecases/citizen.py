"""Citizen use cases: submit, add photos, follow ("me too"), rate, reopen, duplicate suggestions."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

import msgspec

from domain.errors import Conflict
from domain.feedback import states
from domain.feedback.access import may_follow
from domain.feedback.geo import BBox, check_in_hanoi, distance_m
from domain.feedback.model import (
    Attachment,
    AttachmentKind,
    EventKind,
    Location,
    Rating,
    Report,
    Status,
    UnitKind,
)
from domain.feedback.questions import validate_answers
from domain.feedback.routing import route
from domain.feedback.states import Action
from domain.feedback.usecases.attachments import store_upload
from domain.feedback.usecases.common import ACK_HOURS, UseCase, not_found
from domain.identity.principal import Principal
from domain.shared.ids import new_id


class NewReport(msgspec.Struct, frozen=True, kw_only=True):
    category_id: uuid.UUID
    description: str
    lat: float
    lon: float
    address: str = ""
    ward_id: uuid.UUID | None = None
    answers: dict[str, Any] = msgspec.field(default_factory=dict)
    publishable: bool = True


class SubmitReport(UseCase):
    async def execute(self, principal: Principal, cmd: NewReport) -> Report:
        check_in_hanoi(cmd.lat, cmd.lon)
        category = await self.category(cmd.category_id)
        answers = validate_answers(category.questions, cmd.answers)
        unit = await route(self.d.units, category, cmd.lat, cmd.lon, cmd.ward_id)
        now = self.d.clock.now()
        level = category.default_level
        report = Report(
            id=new_id(), ref="", reporter_id=principal.id,
            category_id=category.id, level=level, status=Status.PENDING, description=cmd.description,
            location=Location(cmd.lat, cmd.lon), address=cmd.address,
            ward_id=cmd.ward_id or (unit.id if unit.kind is UnitKind.WARD else None),
            unit_id=unit.id, answers=answers, publishable=cmd.publishable, created_at=now, updated_at=now,
            ack_due_at=self.d.calendar.add_working_hours(now, ACK_HOURS),
            due_at=self.handle_due(now, category, level))
        # The "submitted" event goes in with the report (one statement); it notifies nobody.
        await self.d.reports.add(report, self.new_event(report, EventKind.SUBMITTED, principal,
                                                        data={"unit_id": str(unit.id)}))
        return report


class AddPhoto(UseCase):
    """A photo for the caller's own report, accepted until the unit acknowledges it (max 5)."""

    async def execute(self, principal: Principal, report_id: uuid.UUID, data: bytes) -> tuple[Attachment, bool]:
        report = await self.own_report(principal, report_id)
        states.transition(Action.ADD_PHOTO, report.status)
        photos = [a for a in await self.d.reports.attachments(report.id) if a.kind is AttachmentKind.PHOTO]
        digest = hashlib.sha256(data).hexdigest()
        retried = next((a for a in photos if a.source_sha256 == digest), None)
        if retried is not None:
            return retried, False
        if len(photos) >= self.d.limits.max_photos:
            raise Conflict("feedback.too_many_photos", limit=self.d.limits.max_photos)
        return await store_upload(self, report, principal, data, AttachmentKind.PHOTO)


class FollowReport(UseCase):
    """"Me too": follow someone else's open (or public) report instead of filing a new one."""

    async def execute(self, principal: Principal, report_id: uuid.UUID) -> bool:
        report = await self.d.reports.get(report_id)
        visible = report is not None and (report.status in states.TRANSITIONS[Action.FOLLOW][0])
        if report is None or not visible or not may_follow(report):
            raise not_found()
        if report.reporter_id == principal.id:
            raise Conflict("feedback.own_report")
        return await self.d.reports.add_follower(report.id, principal.id, self.d.clock.now())


class UnfollowReport(UseCase):
    async def execute(self, principal: Principal, report_id: uuid.UUID) -> None:
        if not await self.d.reports.remove_follower(report_id, principal.id):
            raise not_found()


class RateReport(UseCase):
    async def execute(self, principal: Principal, report_id: uuid.UUID, score: int, comment: str) -> Rating:
        report = await self.own_report(principal, report_id)
        states.transition(Action.RATE, report.status)
        rating = Rating(report_id=report.id, score=score, comment=comment, created_at=self.d.clock.now())
        if not await self.d.reports.add_rating(rating):
            raise Conflict("feedback.already_rated")
        await self.record(report, EventKind.RATED, principal, data={"score": score}, notify=False)
        return rating


class ReopenReport(UseCase):
    """"Not fixed": back to the same unit with a fresh handling deadline, within the time limit."""

    async def execute(self, principal: Principal, report_id: uuid.UUID, reason: str) -> Report:
        report = await self.own_report(principal, report_id)
        new_status = states.transition(Action.REOPEN, report.status)
        now = self.d.clock.now()
        assert report.handled_at is not None
        if now > report.handled_at + timedelta(days=self.d.limits.reopen_days):
            raise Conflict("feedback.reopen_window_closed", days=self.d.limits.reopen_days)
        category = await self.d.categories.get(report.category_id)
        assert category is not None
        report.status = new_status
        report.reopen_count += 1
        report.handled_at = None
        report.closed_at = None
        report.due_at = self.handle_due(now, category, report.level)
        await self.save(report)
        await self.record(report, EventKind.REOPENED, principal, text=reason)
        return report


class Candidate(msgspec.Struct, frozen=True):
    report: Report
    distance_m: float


class FindDuplicates(UseCase):
    """Same category, within ~100 m, in the last 30 days, not rejected or closed as duplicate."""

    async def execute(self, category_id: uuid.UUID, lat: float, lon: float) -> list[Candidate]:
        check_in_hanoi(lat, lon)
        lim = self.d.limits
        since = self.d.clock.now() - timedelta(days=lim.duplicate_days)
        rows = await self.d.reports.nearby(category_id, BBox.around(lat, lon, lim.duplicate_radius_m), since, 50)
        # Only what "me too" may join: a private report's id would be a handle to its reporter.
        found = [Candidate(r, distance_m(lat, lon, r.location.lat, r.location.lon)) for r in rows
                 if r.status not in (Status.REJECTED, Status.DUPLICATE) and may_follow(r)]
        return sorted((c for c in found if c.distance_m <= lim.duplicate_radius_m),
                      key=lambda c: c.distance_m)[:10]

