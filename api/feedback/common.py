"""Shared pieces of the feedback controllers: response schemas, views per audience, deps, paging,
file serving, and the feedback error texts (vi/en)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, TypeVar

import msgspec
from litestar import Response

from api.feedback.wiring import FeedbackServices, feedback_deps
from api.platform import i18n
from api.platform.container import Container
from domain.errors import NotFound
from domain.feedback.model import Attachment, AttachmentKind, Event, Report, Status
from domain.feedback.reads import FeedbackReads, UnitName
from domain.feedback.states import Action
from domain.feedback.usecases.common import Deps
from domain.shared.paging import Page, decode_id_cursor, encode_cursor

T = TypeVar("T")

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
API = "/api/v1"


def services(container: Container) -> FeedbackServices:
    return container.get(FeedbackServices)


def deps(container: Container, conn: Any) -> Deps:
    return feedback_deps(services(container), conn, container.clock)


class FileOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: str
    content_type: str
    size: int
    url: str
    thumbnail_url: str | None
    created_at: dt.datetime


class RatingOut(msgspec.Struct, kw_only=True):
    score: int
    comment: str


class ReportOut(msgspec.Struct, kw_only=True, omit_defaults=False):
    """A report as its reporter (and staff) see it; ``public`` views drop the personal parts."""

    id: uuid.UUID
    ref: str
    status: str
    overdue: bool
    category_id: uuid.UUID
    level: str
    description: str
    lat: float
    lon: float
    address: str
    ward_id: uuid.UUID | None
    unit_id: uuid.UUID
    unit_name_vi: str  # the handling unit's names (GET /api/v1/units/{unit_id} has the rest)
    unit_name_en: str
    created_at: dt.datetime
    updated_at: dt.datetime
    acknowledge_due_at: dt.datetime
    due_at: dt.datetime
    acknowledged_at: dt.datetime | None
    handled_at: dt.datetime | None
    reply: str | None
    duplicate_of: uuid.UUID | None
    is_public: bool
    publishable: bool
    reopen_count: int
    answers: dict[str, Any]
    photos: list[FileOut]
    evidence: list[FileOut]
    rating: RatingOut | None = None


class StaffReportOut(ReportOut, kw_only=True):
    reporter_id: uuid.UUID
    assignee_id: uuid.UUID | None
    hidden: bool
    followers: int


class PublicReportOut(msgspec.Struct, kw_only=True):
    """Never carries the reporter, their answers or the exact creation details beyond the day."""

    id: uuid.UUID
    ref: str
    status: str
    category_id: uuid.UUID
    level: str
    description: str
    lat: float
    lon: float
    address: str
    ward_id: uuid.UUID | None
    unit_id: uuid.UUID
    unit_name_vi: str
    unit_name_en: str
    created_at: dt.datetime
    handled_at: dt.datetime | None
    reply: str | None
    photos: list[FileOut]
    evidence: list[FileOut]


class EventOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: uuid.UUID
    kind: str
    status: str
    actor: str
    text: str
    data: dict[str, Any]
    created_at: dt.datetime
    internal: bool = False
    actor_id: uuid.UUID | None = None


def file_out(a: Attachment, base: str) -> FileOut:
    url = f"{base}/reports/{a.report_id}/files/{a.id}"
    return FileOut(id=a.id, kind=a.kind.value, content_type=a.content_type, size=a.size, url=url,
                   thumbnail_url=f"{url}?thumbnail=true" if a.thumb_key else None, created_at=a.created_at)


def _split(files: list[Attachment], base: str, *, used_evidence_only: bool) -> tuple[list[FileOut], list[FileOut]]:
    photos = [file_out(a, base) for a in files if a.kind is AttachmentKind.PHOTO]
    evidence = [file_out(a, base) for a in files
                if a.kind is AttachmentKind.EVIDENCE and (a.used or not used_evidence_only)]
    return photos, evidence


async def report_out(q: FeedbackReads, r: Report, now: dt.datetime, *, staff: bool = False,
                     fresh: bool = False) -> ReportOut:
    """``fresh``: the report was just created in this request, so it has no files or rating yet."""
    # Citizens see evidence once it backs a reply; staff also see uploads not yet used.
    files = [] if fresh else await q.attachments(r.id)
    photos, evidence = _split(files, f"{API}/feedback", used_evidence_only=not staff)
    rating = None if fresh else await q.rating(r.id)
    unit = (await q.unit_names([r.unit_id]))[r.unit_id]
    common: dict[str, Any] = dict(unit_name_vi=unit.name_vi, unit_name_en=unit.name_en,
        id=r.id, ref=r.ref, status=r.status.value, overdue=r.overdue(now), category_id=r.category_id,
        level=r.level.value, description=r.description, lat=r.location.lat, lon=r.location.lon, address=r.address,
        ward_id=r.ward_id, unit_id=r.unit_id, created_at=r.created_at, updated_at=r.updated_at,
        acknowledge_due_at=r.ack_due_at, due_at=r.due_at, acknowledged_at=r.acknowledged_at,
        handled_at=r.handled_at, reply=r.reply, duplicate_of=r.duplicate_of, is_public=r.is_public,
        publishable=r.publishable, reopen_count=r.reopen_count, answers=r.answers, photos=photos,
        evidence=evidence, rating=RatingOut(score=rating[0], comment=rating[1]) if rating else None)
    if not staff:
        return ReportOut(**common)
    return StaffReportOut(**common, reporter_id=r.reporter_id, assignee_id=r.assignee_id, hidden=r.hidden,
                          followers=await q.follower_count(r.id))


def public_out(r: Report, files: list[Attachment], unit: UnitName) -> PublicReportOut:
    photos, evidence = _split(files, f"{API}/public/feedback", used_evidence_only=True)
    return PublicReportOut(id=r.id, ref=r.ref, status=r.status.value, category_id=r.category_id, level=r.level.value,
                           description=r.description, lat=r.location.lat, lon=r.location.lon, address=r.address,
                           ward_id=r.ward_id, unit_id=r.unit_id, unit_name_vi=unit.name_vi, unit_name_en=unit.name_en,
                           created_at=r.created_at, handled_at=r.handled_at,
                           reply=r.reply, photos=photos, evidence=evidence)


def event_out(e: Event, *, staff: bool) -> EventOut:
    return EventOut(id=e.id, kind=e.kind.value, status=e.status.value, actor=e.actor_kind.value, text=e.text,
                    data=e.data if staff else {k: v for k, v in e.data.items() if k != "assignee_id"},
                    created_at=e.created_at, internal=not e.public,
                    actor_id=e.actor_id if staff else None)


def after(cursor: str | None) -> uuid.UUID | None:
    if not cursor:
        return None
    return decode_id_cursor(cursor)


def page(items: list[T], limit: int) -> Page[T]:
    """``items`` were fetched with ``limit + 1``: the extra one only tells that a next page exists."""
    more = len(items) > limit
    items = items[:limit]
    return Page(items=items, next_cursor=encode_cursor(str(items[-1].id)) if more else None)  # type: ignore[attr-defined]


async def send_file(container: Container, a: Attachment, thumbnail: bool, *, public: bool) -> Response[bytes]:
    key = a.thumb_key if thumbnail and a.thumb_key else a.blob_key
    data = await services(container).blobs.get(key)
    if data is None:
        raise NotFound("feedback.file_not_found")
    ctype = "image/jpeg" if thumbnail and a.thumb_key else a.content_type
    cache = "public, max-age=86400" if public else "private, max-age=300"
    return Response(data, media_type=ctype, headers={
        "Cache-Control": cache, "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="{a.id}.{"pdf" if ctype == "application/pdf" else "jpg"}"'})


i18n.register({
    "feedback.report_not_found": {"vi": "Không tìm thấy phản ánh", "en": "The report was not found"},
    "feedback.file_not_found": {"vi": "Không tìm thấy tệp", "en": "The file was not found"},
    "feedback.category_not_found": {"vi": "Không tìm thấy lĩnh vực", "en": "The category was not found"},
    "feedback.illegal_transition": {"vi": "Không thể {action} khi phản ánh ở trạng thái “{status}”",
                                    "en": "Cannot {action} while the report is {status}"},
    "feedback.outside_hanoi": {"vi": "Vị trí nằm ngoài địa bàn Hà Nội", "en": "The location is outside Hanoi"},
    "feedback.unknown_category": {"vi": "Lĩnh vực không tồn tại hoặc đã ngừng", "en": "Unknown or inactive category"},
    "feedback.unknown_ward": {"vi": "Phường/xã không tồn tại", "en": "Unknown ward"},
    "feedback.unknown_unit": {"vi": "Đơn vị không tồn tại", "en": "Unknown unit"},
    "feedback.no_unit": {"vi": "Không xác định được đơn vị xử lý", "en": "No responsible unit could be found"},
    "feedback.invalid_answer": {"vi": "Câu trả lời không hợp lệ", "en": "An answer is invalid"},
    "feedback.invalid_question": {"vi": "Câu hỏi bổ sung không hợp lệ", "en": "An extra question is invalid"},
    "feedback.too_many_photos": {"vi": "Mỗi phản ánh có tối đa {limit} ảnh",
                                 "en": "A report can have at most {limit} photos"},
    "feedback.file_too_large": {"vi": "Tệp vượt quá {limit} byte", "en": "The file exceeds {limit} bytes"},
    "feedback.unsupported_image": {"vi": "Chỉ nhận ảnh JPEG, PNG, WebP hoặc HEIC (hoặc PDF cho minh chứng)",
                                   "en": "Only JPEG, PNG, WebP or HEIC images (or PDF for evidence) are accepted"},
    "feedback.image_too_large": {"vi": "Ảnh có quá nhiều điểm ảnh", "en": "The image has too many pixels"},
    "feedback.own_report": {"vi": "Bạn không thể theo dõi phản ánh của chính mình",
                            "en": "You cannot follow your own report"},
    "feedback.already_rated": {"vi": "Phản ánh đã được đánh giá", "en": "The report was already rated"},
    "feedback.reopen_window_closed": {"vi": "Chỉ được mở lại trong {days} ngày sau khi xử lý",
                                      "en": "A report can only be reopened within {days} days of handling"},
    "feedback.assign_forbidden": {"vi": "Chỉ lãnh đạo đơn vị được phân công cho người khác",
                                  "en": "Only supervisors may assign reports to someone else"},
    "feedback.not_a_handler": {"vi": "Người được giao không phải cán bộ xử lý của đơn vị",
                               "en": "The assignee is not a handler of this unit"},
    "feedback.same_unit": {"vi": "Phản ánh đã thuộc đơn vị này", "en": "The report is already with this unit"},
    "feedback.evidence_required": {"vi": "Cần ít nhất một ảnh hoặc tài liệu minh chứng",
                                   "en": "At least one evidence photo or document is required"},
    "feedback.unknown_evidence": {"vi": "Minh chứng không thuộc phản ánh này",
                                  "en": "The evidence does not belong to this report"},
    "feedback.invalid_original": {"vi": "Phản ánh gốc không hợp lệ", "en": "The original report is not valid"},
    "feedback.department_required": {"vi": "Cần chọn sở/ngành khi chuyển theo lĩnh vực",
                                     "en": "A department is required when routing by category"},
    "feedback.category_code_taken": {"vi": "Mã lĩnh vực đã tồn tại", "en": "The category code is already used"},
    "feedback.city_admin_only": {"vi": "Chỉ quản trị viên thành phố", "en": "City administrators only"},
    "feedback.feed_scope": {"vi": "Cần lat và lon, hoặc ward_id", "en": "Give lat and lon, or ward_id"},
    "feedback.unknown_template": {"vi": "Mẫu trả lời không tồn tại", "en": "Unknown response template"},
    "feedback.file_required": {"vi": "Thiếu tệp (trường 'file')", "en": "The 'file' part is missing"},
    "feedback.period_invalid": {"vi": "Khoảng thời gian không hợp lệ (tối đa 366 ngày)",
                                "en": "Invalid period (at most 366 days)"},
})
i18n.RULES.update({
    "outside_hanoi": {"vi": "nằm ngoài Hà Nội", "en": "is outside Hanoi"},
    "unknown_category": {"vi": "không phải lĩnh vực đang hoạt động", "en": "is not an active category"},
    "unknown_ward": {"vi": "không phải phường/xã", "en": "is not a ward"},
    "unknown_unit": {"vi": "không phải đơn vị hợp lệ", "en": "is not a valid unit"},
    "no_unit": {"vi": "không có đơn vị xử lý", "en": "has no responsible unit"},
    "image_type": {"vi": "không phải ảnh JPEG/PNG/WebP/HEIC", "en": "is not a JPEG/PNG/WebP/HEIC image"},
    "image_pixels": {"vi": "có quá nhiều điểm ảnh", "en": "has too many pixels"},
    "max_size": {"vi": "vượt quá {limit} byte", "en": "exceeds {limit} bytes"},
    "not_a_handler": {"vi": "không phải cán bộ xử lý của đơn vị", "en": "is not a handler of the unit"},
    "evidence_required": {"vi": "cần ít nhất một minh chứng", "en": "needs at least one evidence file"},
    "unknown_evidence": {"vi": "không thuộc phản ánh này", "en": "does not belong to this report"},
    "invalid_original": {"vi": "không phải phản ánh gốc hợp lệ", "en": "is not a valid original report"},
    "unique": {"vi": "bị trùng", "en": "must be unique"},
    "not_allowed": {"vi": "không được phép ở đây", "en": "is not allowed here"},
    "period": {"vi": "không hợp lệ", "en": "is not a valid period"},
})

# What users read for the report's actions and statuses in texts (never the enum values themselves).
i18n.register_terms(
    "feedback.illegal_transition",
    action={
        Action.ACKNOWLEDGE: {"vi": "tiếp nhận", "en": "acknowledge it"},
        Action.ASSIGN: {"vi": "phân công", "en": "assign it"},
        Action.NOTE: {"vi": "ghi chú", "en": "add a note"},
        Action.CHANGE_CATEGORY: {"vi": "đổi lĩnh vực", "en": "change its category"},
        Action.TRANSFER: {"vi": "chuyển đơn vị xử lý", "en": "transfer it"},
        Action.HANDLE: {"vi": "trả lời kết quả xử lý", "en": "answer it as handled"},
        Action.REJECT: {"vi": "từ chối", "en": "reject it"},
        Action.MARK_DUPLICATE: {"vi": "đánh dấu trùng", "en": "mark it as a duplicate"},
        Action.REOPEN: {"vi": "mở lại", "en": "reopen it"},
        Action.RATE: {"vi": "đánh giá", "en": "rate it"},
        Action.ADD_PHOTO: {"vi": "thêm ảnh", "en": "add a photo"},
        Action.FOLLOW: {"vi": "theo dõi", "en": "follow it"},
        Action.SET_VISIBILITY: {"vi": "đổi chế độ hiển thị", "en": "change its visibility"},
    },
    status={
        Status.PENDING: {"vi": "chờ xử lý", "en": "pending"},
        Status.TRANSFERRED: {"vi": "chuyển xử lý", "en": "transferred"},
        Status.IN_PROGRESS: {"vi": "đang xử lý", "en": "in progress"},
        Status.HANDLED: {"vi": "đã xử lý", "en": "handled"},
        Status.REJECTED: {"vi": "bị từ chối", "en": "rejected"},
        Status.DUPLICATE: {"vi": "trùng phản ánh khác", "en": "a duplicate"},
    })
