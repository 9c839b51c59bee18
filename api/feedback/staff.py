"""Staff endpoints: the unit queue and every handling step (acknowledge, assign, notes, category,
transfer, evidence, reply, reject, duplicate, visibility). A report outside the caller's units is 404."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody
from msgspec import Meta

from adapters.postgres.uow import PgUnitOfWork
from api.feedback.citizen import UPLOAD_BODY_LIMIT, Text, Upload, read_upload, upload_limit
from api.feedback.common import (
    BEARER,
    EventOut,
    FileOut,
    StaffReportOut,
    after,
    deps,
    event_out,
    file_out,
    page,
    report_out,
)
from api.feedback.wiring import reads
from api.identity.auth import CurrentUser, staff_guard
from api.platform.container import Container
from api.platform.deps import AppContainer, UnitOfWork
from api.platform.idempotency import idempotent
from api.platform.params import Limit
from domain.errors import NotFound
from domain.feedback.access import is_handling_staff
from domain.feedback.model import Level, Report, ReportSummary, Status
from domain.feedback.reads import QueueFilter
from domain.feedback.templates import REPLY_TEMPLATES, ReplyTemplate
from domain.feedback.usecases import staff
from domain.feedback.usecases.common import Deps
from domain.identity.access import require_unit_role
from domain.identity.principal import Principal
from domain.shared.paging import Page

Reason = Annotated[str, Meta(min_length=3, max_length=2000)]
Req = Request[Any, Any, Any]


class AssignIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    assignee_id: uuid.UUID


class NoteIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    text: Text


class CategoryChangeIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    category_id: uuid.UUID
    level: Level | None = None
    reason: Reason


class TransferIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    unit_id: uuid.UUID
    reason: Reason


class HandleIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reply: Annotated[str, Meta(min_length=10, max_length=4000)]
    evidence_ids: Annotated[list[uuid.UUID], Meta(max_length=10)]


class RejectIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Reason
    template: Annotated[str, Meta(max_length=64, pattern=r"^[a-z_]+$")] | None = None


class DuplicateIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    original_id: uuid.UUID


class VisibilityIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    hidden: bool
    reason: Reason


async def visible_report(principal: Principal, container: Container, uow: PgUnitOfWork, report_id: uuid.UUID) -> Report:
    """Staff of the report's current unit (or a city admin) may read it; anyone else gets 404."""
    report = await deps(container, uow.conn).reports.get(report_id)
    if report is None or not is_handling_staff(principal, report):
        raise NotFound("feedback.report_not_found")
    return report


async def _timeline(uow: PgUnitOfWork, report_id: uuid.UUID) -> list[EventOut]:
    return [event_out(e, staff=True) for e in await reads(uow).events(report_id, public_only=False)]


async def _step(request: Req, principal: Principal, container: Container, uow: PgUnitOfWork,
                act: Callable[[Deps], Awaitable[Report]]) -> Response[Any]:
    """Run one handling step; with an ``Idempotency-Key`` a retried step replays its first answer
    instead of failing with 409 because the first attempt already moved the report on."""
    async def run() -> Response[Any]:
        report = await act(deps(container, uow.conn))
        out = await report_out(reads(uow), report, container.clock.now(), staff=True)
        return Response(msgspec.to_builtins(out), status_code=200)
    return await idempotent(request, uow, f"user:{principal.id}", run)


class StaffFeedbackController(Controller):
    path = "/staff/feedback"
    tags = ["feedback-staff"]
    security = BEARER
    guards = [staff_guard]

    @get("/queue", operation_id="feedbackQueue", summary="My unit's reports (open by default), newest first",
         description="Filters: status, level, category_id, assignee_id, overdue. Staff of another unit get 403.")
    async def queue(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                    unit_id: FromQuery[uuid.UUID],
                    status: FromQuery[Status | None] = None, level: FromQuery[Level | None] = None,
                    category_id: FromQuery[uuid.UUID | None] = None,
                    assignee_id: FromQuery[uuid.UUID | None] = None, overdue: FromQuery[bool | None] = None,
                    cursor: FromQuery[str | None] = None,
                    limit: Limit = 20) -> Page[ReportSummary]:
        require_unit_role(principal, unit_id)
        f = QueueFilter(status=status, level=level, category_id=category_id, assignee_id=assignee_id, overdue=overdue)
        return page(await reads(uow).queue(unit_id, f, container.clock.now(), after(cursor),
                                                            limit + 1), limit)

    @get("/reply-templates", operation_id="feedbackReplyTemplates",
         summary="Response templates for replies and rejections (vi/en)")
    async def templates(self, kind: FromQuery[Literal["reply", "reject"] | None] = None) -> list[ReplyTemplate]:
        return [t for t in REPLY_TEMPLATES if kind is None or t.kind == kind]

    @get("/reports/{report_id:uuid}", operation_id="feedbackStaffReport", summary="A report of my unit")
    async def one(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                  report_id: FromPath[uuid.UUID]) -> StaffReportOut:
        out = await report_out(reads(uow), await visible_report(principal, container, uow, report_id),
                               container.clock.now(), staff=True)
        assert isinstance(out, StaffReportOut)
        return out

    @get("/reports/{report_id:uuid}/timeline", operation_id="feedbackStaffTimeline",
         summary="Full timeline including internal notes")
    async def timeline(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                       report_id: FromPath[uuid.UUID]) -> list[EventOut]:
        await visible_report(principal, container, uow, report_id)
        return await _timeline(uow, report_id)

    @post("/reports/{report_id:uuid}/acknowledge", operation_id="feedbackAcknowledge", status_code=200,
          summary="Tiếp nhận: take the report on")
    async def acknowledge(self, request: Req, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                          report_id: FromPath[uuid.UUID]) -> Response[StaffReportOut]:
        return await _step(request, principal, container, uow,
                           lambda d: staff.Acknowledge(d).execute(principal, report_id))

    @post("/reports/{report_id:uuid}/assign", operation_id="feedbackAssign", status_code=200,
          summary="Phân công to a handler of the unit (handlers may only take it themselves)")
    async def assign(self, request: Req, principal: CurrentUser, container: AppContainer,
                     uow: UnitOfWork, report_id: FromPath[uuid.UUID],
                     data: JSONBody[AssignIn]) -> Response[StaffReportOut]:
        return await _step(request, principal, container, uow,
                           lambda d: staff.Assign(d).execute(principal, report_id, data.assignee_id))

    @post("/reports/{report_id:uuid}/notes", operation_id="feedbackNote", status_code=201,
          summary="Internal note (never shown to citizens)")
    async def note(self, request: Req, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                   report_id: FromPath[uuid.UUID], data: JSONBody[NoteIn]) -> Response[list[EventOut]]:
        async def run() -> Response[Any]:
            await staff.AddNote(deps(container, uow.conn)).execute(principal, report_id, data.text)
            return Response(msgspec.to_builtins(await _timeline(uow, report_id)), status_code=201)
        return await idempotent(request, uow, f"user:{principal.id}", run)

    @post("/reports/{report_id:uuid}/category", operation_id="feedbackChangeCategory", status_code=200,
          summary="Change the category (and level); routing runs again and may move the report")
    async def category(self, request: Req, principal: CurrentUser, container: AppContainer,
                       uow: UnitOfWork, report_id: FromPath[uuid.UUID],
                       data: JSONBody[CategoryChangeIn]) -> Response[StaffReportOut]:
        return await _step(request, principal, container, uow,
                           lambda d: staff.ChangeCategory(d).execute(principal, report_id, data.category_id, data.level,
                                                                     data.reason))

    @post("/reports/{report_id:uuid}/transfer", operation_id="feedbackTransfer", status_code=200,
          summary="Chuyển xử lý to another unit, with a reason")
    async def transfer(self, request: Req, principal: CurrentUser, container: AppContainer,
                       uow: UnitOfWork, report_id: FromPath[uuid.UUID],
                       data: JSONBody[TransferIn]) -> Response[StaffReportOut]:
        return await _step(request, principal, container, uow,
                           lambda d: staff.Transfer(d).execute(principal, report_id, data.unit_id, data.reason))

    @post("/reports/{report_id:uuid}/evidence", operation_id="feedbackEvidenceUpload", status_code=201,
          summary="Upload evidence for the reply (photo or PDF, multipart field 'file')",
          description="Shown to the reporter (and the public, for public reports) once a reply uses it.",
          request_max_body_size=UPLOAD_BODY_LIMIT)
    async def evidence(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                       report_id: FromPath[uuid.UUID],
                       data: Annotated[Upload, Body(media_type=RequestEncodingType.MULTI_PART)]) -> Response[FileOut]:
        content = await read_upload(data, upload_limit(container))
        attachment, created = await staff.AddEvidence(deps(container, uow.conn)).execute(principal, report_id,
                                                                                         content)
        return Response(file_out(attachment, "/api/v1/feedback"), status_code=201 if created else 200)

    @post("/reports/{report_id:uuid}/handle", operation_id="feedbackHandle", status_code=200,
          summary="Trả lời: public reply with at least one evidence file; marks the report handled")
    async def handle(self, request: Req, principal: CurrentUser, container: AppContainer,
                     uow: UnitOfWork, report_id: FromPath[uuid.UUID],
                     data: JSONBody[HandleIn]) -> Response[StaffReportOut]:
        return await _step(request, principal, container, uow,
                           lambda d: staff.Handle(d).execute(principal, report_id, data.reply, data.evidence_ids))

    @post("/reports/{report_id:uuid}/reject", operation_id="feedbackReject", status_code=200,
          summary="Từ chối with a reason (see reply-templates)")
    async def reject(self, request: Req, principal: CurrentUser, container: AppContainer,
                     uow: UnitOfWork, report_id: FromPath[uuid.UUID],
                     data: JSONBody[RejectIn]) -> Response[StaffReportOut]:
        return await _step(request, principal, container, uow,
                           lambda d: staff.Reject(d).execute(principal, report_id, data.reason, data.template))

    @post("/reports/{report_id:uuid}/duplicate", operation_id="feedbackMarkDuplicate", status_code=200,
          summary="Close as a duplicate of another report (its reporter then follows the original)")
    async def duplicate(self, request: Req, principal: CurrentUser, container: AppContainer,
                        uow: UnitOfWork, report_id: FromPath[uuid.UUID],
                        data: JSONBody[DuplicateIn]) -> Response[StaffReportOut]:
        return await _step(request, principal, container, uow,
                           lambda d: staff.MarkDuplicate(d).execute(principal, report_id, data.original_id))

    @post("/reports/{report_id:uuid}/visibility", operation_id="feedbackVisibility", status_code=200,
          summary="Moderation: hide the report and its photos from the public feed (or show them again)")
    async def visibility(self, request: Req, principal: CurrentUser, container: AppContainer,
                         uow: UnitOfWork, report_id: FromPath[uuid.UUID],
                         data: JSONBody[VisibilityIn]) -> Response[StaffReportOut]:
        return await _step(request, principal, container, uow,
                           lambda d: staff.SetVisibility(d).execute(principal, report_id, data.hidden, data.reason))
