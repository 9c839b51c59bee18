"""Citizen endpoints: submit a report, photos, duplicate suggestions, "me too", my reports,
timeline, rating and reopening. Every report id is scoped to its reporter (others get 404)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody, QueryParameter
from msgspec import Meta

from api.feedback.common import (
    BEARER,
    EventOut,
    FileOut,
    RatingOut,
    ReportOut,
    after,
    deps,
    event_out,
    file_out,
    page,
    report_out,
    send_file,
)
from api.feedback.wiring import reads
from api.identity.auth import SESSION_IN_QUERY, CurrentUser, deferred_session, settle_deferred_session
from api.platform.container import Container
from api.platform.deps import READ_ONLY, AppContainer, UnitOfWork
from api.platform.idempotency import idempotent
from api.platform.lean import LEAN
from api.platform.params import Limit
from api.platform.problems import ProblemError
from api.platform.quota import within_quota
from domain.errors import NotFound
from domain.feedback.access import is_reporter, may_read_file, may_read_privately
from domain.feedback.model import Attachment, ReportSummary
from domain.feedback.usecases import citizen
from domain.shared.paging import Page

Text = Annotated[str, Meta(min_length=1, max_length=4000)]
Lat = Annotated[float, QueryParameter(ge=-90, le=90)]
Lon = Annotated[float, QueryParameter(ge=-180, le=180)]
# Per-route body cap for uploads (the JSON cap is 1 MB): the largest file FEEDBACK_MAX_UPLOAD_BYTES may
# allow (10 MB) plus the multipart framing around it. The setting can lower the file limit, not raise it.
UPLOAD_BODY_LIMIT = 10 * 1024 * 1024 + 64 * 1024


class ReportIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    category_id: uuid.UUID
    description: Annotated[str, Meta(min_length=10, max_length=4000)]
    lat: Annotated[float, Meta(ge=-90, le=90)]
    lon: Annotated[float, Meta(ge=-180, le=180)]
    address: Annotated[str, Meta(max_length=500)] = ""
    ward_id: uuid.UUID | None = None
    answers: dict[Annotated[str, Meta(max_length=64)], Any] = msgspec.field(default_factory=dict)
    # Consent to show the handled report (never the reporter) in the public feed.
    publishable: bool = True


class RatingIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    score: Annotated[int, Meta(ge=1, le=5)]
    comment: Annotated[str, Meta(max_length=2000)] = ""


class ReopenIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Text


class DuplicateOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    ref: str
    status: str
    distance_m: float
    created_at: datetime
    # Only when the reporter agreed to publication; otherwise the category and place must do.
    description: str | None
    followers: int


class FollowOut(msgspec.Struct, kw_only=True):
    report_id: uuid.UUID
    following: bool


class Upload(msgspec.Struct):
    file: UploadFile


async def read_upload(data: Upload, limit: int) -> bytes:
    if not isinstance(getattr(data, "file", None), UploadFile):
        raise ProblemError(422, "feedback.file_required", errors=[("file", "required", {})])
    content = await data.file.read(limit + 1)
    if len(content) > limit:
        raise ProblemError(413, "feedback.file_too_large", limit=limit)
    return content


def upload_limit(container: Container) -> int:
    return container.settings.feedback_max_upload_bytes


class CitizenFeedbackController(Controller):
    path = "/feedback"
    tags = ["feedback"]
    security = BEARER

    @post("/reports", operation_id="feedbackReportCreate", summary="Submit a report (phản ánh)", status_code=201,
          description="Routed at once to the responsible unit by category and location. Add photos afterwards "
                      "with POST /feedback/reports/{id}/photos (until the unit acknowledges it). "
                      "Send an Idempotency-Key: a retry returns the first report.")
    async def create(self, request: Request[Any, Any, Any], principal: CurrentUser, container: AppContainer,
                     uow: UnitOfWork, data: JSONBody[ReportIn]) -> Response[ReportOut]:
        async def run() -> Response[Any]:
            report = await citizen.SubmitReport(deps(container, uow.conn)).execute(
                principal, msgspec.convert(msgspec.to_builtins(data), citizen.NewReport))
            out = await report_out(reads(uow), report, container.clock.now(), fresh=True)
            return Response(out, status_code=201,
                            headers={"Location": f"/api/v1/feedback/reports/{report.id}"})
        return await within_quota(container, "feedback_quota_reports", str(principal.id),
                                  lambda: idempotent(request, uow, f"user:{principal.id}", run))

    @post("/reports/{report_id:uuid}/photos", operation_id="feedbackPhotoUpload", status_code=201,
          summary="Add a photo to my report (multipart field 'file')",
          description="JPEG, PNG, WebP or HEIC, checked by content, at most 10 MB; stored re-encoded without "
                      "EXIF/GPS, with a thumbnail. At most 5 per report, while the report waits for "
                      "acknowledgement. Re-sending the same file returns the existing photo (200).",
          request_max_body_size=UPLOAD_BODY_LIMIT)
    async def add_photo(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                        report_id: FromPath[uuid.UUID],
                        data: Annotated[Upload, Body(media_type=RequestEncodingType.MULTI_PART)]) -> Response[FileOut]:
        content = await read_upload(data, upload_limit(container))

        async def add() -> tuple[Attachment, bool]:
            return await citizen.AddPhoto(deps(container, uow.conn)).execute(principal, report_id, content)
        # Before the image is decoded: a flood is refused without spending CPU and memory on it.
        attachment, created = await within_quota(container, "feedback_quota_photos", str(principal.id), add)
        return Response(file_out(attachment, "/api/v1/feedback"), status_code=201 if created else 200)

    @get("/reports/{report_id:uuid}/files/{file_id:uuid}", operation_id="feedbackFileGet",
         summary="A photo or evidence file of a report I may read (reporter, staff of its unit, city admin)",
         media_type="application/octet-stream")
    async def file(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                   report_id: FromPath[uuid.UUID],
                   file_id: FromPath[uuid.UUID], thumbnail: FromQuery[bool] = False) -> Response[bytes]:
        q = reads(uow)
        report = await deps(container, uow.conn).reports.get(report_id)
        allowed = report is not None and may_read_privately(principal, report)
        attachment = await q.attachment(report_id, file_id) if allowed else None
        if report is None or attachment is None or not may_read_file(principal, report, attachment):
            raise NotFound("feedback.file_not_found")
        return await send_file(container, attachment, thumbnail, public=False)

    @get("/duplicates", operation_id="feedbackDuplicates",
         summary="Similar reports nearby (same category, ~100 m, last 30 days) to follow instead")
    async def duplicates(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                         category_id: FromQuery[uuid.UUID], lat: Lat, lon: Lon) -> list[DuplicateOut]:
        found = await citizen.FindDuplicates(deps(container, uow.conn)).execute(category_id, lat, lon)
        q = reads(uow)
        return [DuplicateOut(id=c.report.id, ref=c.report.ref, status=c.report.status.value,
                             distance_m=round(c.distance_m, 1), created_at=c.report.created_at,
                             description=c.report.description[:280] if c.report.publishable else None,
                             followers=await q.follower_count(c.report.id)) for c in found]

    @post("/reports/{report_id:uuid}/follow", operation_id="feedbackFollow", status_code=200,
          summary="Me too: follow someone's open report and get its updates")
    async def follow(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                     report_id: FromPath[uuid.UUID]) -> FollowOut:
        await within_quota(container, "feedback_quota_follows", str(principal.id),
                           lambda: citizen.FollowReport(deps(container, uow.conn)).execute(principal, report_id))
        return FollowOut(report_id=report_id, following=True)

    @delete("/reports/{report_id:uuid}/follow", operation_id="feedbackUnfollow", status_code=204,
            summary="Stop following a report")
    async def unfollow(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                       report_id: FromPath[uuid.UUID]) -> None:
        await citizen.UnfollowReport(deps(container, uow.conn)).execute(principal, report_id)

    @get("/reports", operation_id="feedbackMyReports", summary="My reports, newest first (cursor paged)",
         opt={**READ_ONLY, **SESSION_IN_QUERY, **LEAN})
    async def mine(self, request: Request[Any, Any, Any], principal: CurrentUser, container: AppContainer,
                   uow: UnitOfWork, cursor: FromQuery[str | None] = None, limit: Limit = 20) -> Page[ReportSummary]:
        session_id = deferred_session(request)
        if session_id is None:  # checked on its own already (read replicas)
            return page(await reads(uow).my_reports(principal.id, container.clock.now(), after(cursor), limit + 1),
                        limit)
        # One round trip: the page, read only while the caller's session is live.
        items = await reads(uow).my_reports_in_session(principal.id, session_id, container.clock.now(),
                                                       after(cursor), limit + 1)
        return page(settle_deferred_session(request, items), limit)

    @get("/following", operation_id="feedbackFollowing", summary="Reports I follow (status only, cursor paged)",
         opt=READ_ONLY)
    async def following(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                        cursor: FromQuery[str | None] = None, limit: Limit = 20) -> Page[ReportSummary]:
        return page(await reads(uow).followed(principal.id, container.clock.now(), after(cursor),
                                                               limit + 1), limit)

    @get("/reports/{report_id:uuid}", operation_id="feedbackMyReport", summary="One of my reports")
    async def one(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                  report_id: FromPath[uuid.UUID]) -> ReportOut:
        report = await deps(container, uow.conn).reports.get(report_id)
        if report is None or not is_reporter(principal, report):
            raise NotFound("feedback.report_not_found")
        return await report_out(reads(uow), report, container.clock.now())

    @get("/reports/{report_id:uuid}/timeline", operation_id="feedbackMyTimeline",
         summary="Status timeline of my report (internal notes are never included)")
    async def timeline(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                       report_id: FromPath[uuid.UUID]) -> list[EventOut]:
        report = await deps(container, uow.conn).reports.get(report_id)
        if report is None or not is_reporter(principal, report):
            raise NotFound("feedback.report_not_found")
        events = await reads(uow).events(report_id, public_only=True)
        return [event_out(e, staff=False) for e in events]

    @post("/reports/{report_id:uuid}/rating", operation_id="feedbackRate", status_code=201,
          summary="Rate the answer (1–5, once, after the report was handled)")
    async def rate(self, request: Request[Any, Any, Any], principal: CurrentUser, container: AppContainer,
                   uow: UnitOfWork, report_id: FromPath[uuid.UUID], data: JSONBody[RatingIn]) -> Response[RatingOut]:
        async def run() -> Response[Any]:
            rating = await citizen.RateReport(deps(container, uow.conn)).execute(principal, report_id, data.score,
                                                                                 data.comment)
            return Response({"score": rating.score, "comment": rating.comment}, status_code=201)
        return await within_quota(container, "feedback_quota_ratings", str(principal.id),
                                  lambda: idempotent(request, uow, f"user:{principal.id}", run))

    @post("/reports/{report_id:uuid}/reopen", operation_id="feedbackReopen", status_code=200,
          summary="Not fixed: reopen my handled report (within the reopen window)")
    async def reopen(self, request: Request[Any, Any, Any], principal: CurrentUser, container: AppContainer,
                     uow: UnitOfWork, report_id: FromPath[uuid.UUID], data: JSONBody[ReopenIn]) -> Response[ReportOut]:
        async def run() -> Response[Any]:
            report = await citizen.ReopenReport(deps(container, uow.conn)).execute(principal, report_id, data.reason)
            out = await report_out(reads(uow), report, container.clock.now())
            return Response(msgspec.to_builtins(out))
        return await idempotent(request, uow, f"user:{principal.id}", run)
