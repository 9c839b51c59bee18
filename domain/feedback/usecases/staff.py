"""Staff use cases, scoped to the units the caller holds grants in (another unit's report is 404)."""

from __future__ import annotations

import uuid

from domain.errors import Conflict, Forbidden, InvalidInput
from domain.feedback import states
from domain.feedback.access import is_handling_staff, may_follow
from domain.feedback.model import (
    AWAITING_ACK,
    Attachment,
    AttachmentKind,
    EventKind,
    Level,
    Report,
    Status,
    UnitKind,
)
from domain.feedback.routing import route
from domain.feedback.states import Action
from domain.feedback.templates import REJECT_CODES
from domain.feedback.usecases.attachments import store_upload
from domain.feedback.usecases.common import ACK_HOURS, UseCase, not_found
from domain.identity.principal import Principal, StaffRole

_MANAGERS = (StaffRole.SUPERVISOR, StaffRole.UNIT_ADMIN)


class StaffUseCase(UseCase):
    async def unit_report(self, principal: Principal, report_id: uuid.UUID) -> Report:
        """The report, locked, if it currently sits with a unit the caller works in."""
        report = await self.d.reports.get(report_id, for_update=True)
        if report is None or not principal.has_role(report.unit_id):
            raise not_found()
        return report

    async def apply(self, principal: Principal, report: Report, action: Action, kind: EventKind, *,
                    public: bool = True, text: str = "", data: dict[str, str] | None = None) -> Report:
        report.status = states.transition(action, report.status)
        await self.save(report)
        await self.record(report, kind, principal, public=public, text=text, data=data)
        return report

    def move(self, report: Report, unit_id: uuid.UUID) -> None:
        """The receiving unit is accountable from now: fresh acknowledgement window, no assignee."""
        now = self.d.clock.now()
        report.unit_id = unit_id
        report.assignee_id = None
        report.acknowledged_at = None
        report.ack_due_at = self.d.calendar.add_working_hours(now, ACK_HOURS)

    def acknowledge_now(self, report: Report) -> None:
        if report.acknowledged_at is None or report.status in (Status.PENDING, Status.TRANSFERRED):
            report.acknowledged_at = self.d.clock.now()


class Acknowledge(StaffUseCase):
    """Tiếp nhận: the unit takes the report on (due within 8 working hours of receipt)."""

    async def execute(self, principal: Principal, report_id: uuid.UUID) -> Report:
        report = await self.unit_report(principal, report_id)
        states.transition(Action.ACKNOWLEDGE, report.status)
        self.acknowledge_now(report)
        return await self.apply(principal, report, Action.ACKNOWLEDGE, EventKind.ACKNOWLEDGED)


class Assign(StaffUseCase):
    """Phân công to a handler of the same unit; handlers may only take reports themselves."""

    async def execute(self, principal: Principal, report_id: uuid.UUID, assignee_id: uuid.UUID) -> Report:
        report = await self.unit_report(principal, report_id)
        states.transition(Action.ASSIGN, report.status)
        if assignee_id != principal.id and not principal.has_role(report.unit_id, *_MANAGERS):
            raise Forbidden("feedback.assign_forbidden")
        if StaffRole.HANDLER.value not in await self.d.units.staff_roles(assignee_id, report.unit_id):
            raise InvalidInput("feedback.not_a_handler", field="assignee_id", rule="not_a_handler")
        waiting = report.status in AWAITING_ACK
        self.acknowledge_now(report)
        report.assignee_id = assignee_id
        report.status = states.transition(Action.ASSIGN, report.status)
        await self.save(report)
        if waiting:  # assigning takes the report on: the reporter hears it like an acknowledgement
            await self.record(report, EventKind.ACKNOWLEDGED, principal)
        # The assignee's identity is internal; the citizen only sees that work has started.
        await self.record(report, EventKind.ASSIGNED, principal, public=False, data={"assignee_id": str(assignee_id)})
        return report


class AddNote(StaffUseCase):
    async def execute(self, principal: Principal, report_id: uuid.UUID, text: str) -> None:
        report = await self.unit_report(principal, report_id)
        states.transition(Action.NOTE, report.status)
        await self.record(report, EventKind.NOTE, principal, public=False, text=text)


class ChangeCategory(StaffUseCase):
    """Recategorise; routing runs again and moves the report if another unit is responsible."""

    async def execute(self, principal: Principal, report_id: uuid.UUID, category_id: uuid.UUID,
                      level: Level | None, reason: str) -> Report:
        report = await self.unit_report(principal, report_id)
        states.transition(Action.CHANGE_CATEGORY, report.status)
        category = await self.category(category_id)
        report.category_id = category.id
        report.level = level or category.default_level
        report.due_at = self.handle_due(report.created_at, category, report.level)
        unit = await route(self.d.units, category, report.location.lat, report.location.lon, report.ward_id)
        data = {"category_id": str(category.id), "level": report.level.value}
        if unit.id != report.unit_id:
            self.move(report, unit.id)
            data["unit_id"] = str(unit.id)
            report.status = Status.TRANSFERRED
        await self.save(report)
        await self.record(report, EventKind.CATEGORY_CHANGED, principal, text=reason, data=data)
        return report


class Transfer(StaffUseCase):
    """Chuyển xử lý to another active unit with a reason."""

    async def execute(self, principal: Principal, report_id: uuid.UUID, unit_id: uuid.UUID,
                      reason: str) -> Report:
        report = await self.unit_report(principal, report_id)
        states.transition(Action.TRANSFER, report.status)
        unit = await self.d.units.get(unit_id)
        if unit is None or unit.kind is UnitKind.CITY:
            raise InvalidInput("feedback.unknown_unit", field="unit_id", rule="unknown_unit")
        if unit.id == report.unit_id:
            raise Conflict("feedback.same_unit")
        category = await self.d.categories.get(report.category_id)
        assert category is not None
        from_unit = report.unit_id
        self.move(report, unit.id)
        report.due_at = self.handle_due(self.d.clock.now(), category, report.level)
        return await self.apply(principal, report, Action.TRANSFER, EventKind.TRANSFERRED, text=reason,
                                data={"from_unit_id": str(from_unit), "unit_id": str(unit.id)})


class AddEvidence(StaffUseCase):
    """Proof of handling: a photo (re-encoded like citizens' photos) or a PDF document."""

    async def execute(self, principal: Principal, report_id: uuid.UUID, data: bytes) -> tuple[Attachment, bool]:
        report = await self.unit_report(principal, report_id)
        states.transition(Action.HANDLE, report.status)
        return await store_upload(self, report, principal, data, AttachmentKind.EVIDENCE, allow_pdf=True)


class Handle(StaffUseCase):
    """Trả lời: public reply; at least one evidence file uploaded to this report is required."""

    async def execute(self, principal: Principal, report_id: uuid.UUID, reply: str,
                      evidence_ids: list[uuid.UUID]) -> Report:
        report = await self.unit_report(principal, report_id)
        states.transition(Action.HANDLE, report.status)
        evidence = {a.id for a in await self.d.reports.attachments(report.id) if a.kind is AttachmentKind.EVIDENCE}
        if not evidence_ids:
            raise InvalidInput("feedback.evidence_required", field="evidence_ids", rule="evidence_required")
        if any(e not in evidence for e in evidence_ids):
            raise InvalidInput("feedback.unknown_evidence", field="evidence_ids", rule="unknown_evidence")
        await self.d.reports.mark_attachments_used(evidence_ids)
        now = self.d.clock.now()
        report.reply = reply
        report.handled_at = now
        report.closed_at = now
        return await self.apply(principal, report, Action.HANDLE, EventKind.HANDLED, text=reply,
                                data={"evidence_ids": ",".join(str(e) for e in evidence_ids)})


class Reject(StaffUseCase):
    async def execute(self, principal: Principal, report_id: uuid.UUID, reason: str,
                      template: str | None) -> Report:
        if template is not None and template not in REJECT_CODES:
            raise InvalidInput("feedback.unknown_template", field="template", rule="enum")
        report = await self.unit_report(principal, report_id)
        report.closed_at = self.d.clock.now()
        return await self.apply(principal, report, Action.REJECT, EventKind.REJECTED, text=reason,
                                data={"template": template} if template else None)


class MarkDuplicate(StaffUseCase):
    """Close as a duplicate; the reporter follows the original so they still hear the outcome."""

    async def execute(self, principal: Principal, report_id: uuid.UUID, original_id: uuid.UUID) -> Report:
        report = await self.unit_report(principal, report_id)
        states.transition(Action.MARK_DUPLICATE, report.status)
        original = await self.d.reports.get(original_id)
        # The original must be one the caller handles (their unit's, or any for a city admin), and one the
        # duplicate's reporter may follow: they become its follower and must not see more than that allows.
        if original is None or original.id == report.id or original.status in (Status.DUPLICATE, Status.REJECTED) \
                or not is_handling_staff(principal, original) \
                or (original.reporter_id != report.reporter_id and not may_follow(original)):
            raise InvalidInput("feedback.invalid_original", field="original_id", rule="invalid_original")
        report.duplicate_of = original.id
        report.closed_at = self.d.clock.now()
        if original.reporter_id != report.reporter_id:
            await self.d.reports.add_follower(original.id, report.reporter_id, self.d.clock.now())
        return await self.apply(principal, report, Action.MARK_DUPLICATE, EventKind.DUPLICATE,
                                data={"original_id": str(original.id), "original_ref": original.ref})


class SetVisibility(StaffUseCase):
    """Moderation: hide a report (and its photos) from the public feed, or show it again."""

    async def execute(self, principal: Principal, report_id: uuid.UUID, hidden: bool, reason: str) -> Report:
        report = await self.unit_report(principal, report_id)
        states.transition(Action.SET_VISIBILITY, report.status)
        report.hidden = hidden
        await self.save(report)
        await self.record(report, EventKind.VISIBILITY, principal, public=False, text=reason,
                          data={"hidden": str(hidden).lower()})
        return report
