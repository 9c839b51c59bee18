"""Feedback pages: the unit's queue, a report with every handling step, the supervisor's overdue view.

Each page calls what ``api.feedback.staff`` calls: the read model (``reads(uow)``), the staff use cases
(``domain.feedback.usecases.staff``) with the logged-in ``Principal``, and the API's own input schemas
(``AssignIn``, ``TransferIn`` …) so a form is held to the same limits as a JSON body. A report of another
unit is 404 (``visible_report``), exactly like the API.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery

from adapters.postgres.feedback.repositories import PgCategories
from adapters.postgres.units.directory import PgUnitDirectory
from adapters.postgres.uow import PgUnitOfWork
from api.console import texts
from api.console.common import Req, fields, form_as, my_units, see_other
from api.console.render import language, render
from api.console.session import ConsoleUser
from api.feedback.citizen import UPLOAD_BODY_LIMIT, upload_limit
from api.feedback.common import after, deps, send_file
from api.feedback.staff import (
    AssignIn,
    CategoryChangeIn,
    DuplicateIn,
    HandleIn,
    NoteIn,
    RejectIn,
    TransferIn,
    visible_report,
)
from api.feedback.wiring import reads
from api.platform.container import Container
from api.platform.deps import READ_ONLY, AppContainer, UnitOfWork
from api.platform.problems import ProblemError
from domain.errors import NotFound
from domain.feedback.model import AttachmentKind, Level, Status
from domain.feedback.reads import QueueFilter
from domain.feedback.templates import REPLY_TEMPLATES
from domain.feedback.usecases import staff as steps
from domain.feedback.usecases.common import Deps
from domain.identity.access import require_unit_role
from domain.identity.principal import Principal, StaffRole
from domain.shared.paging import encode_cursor

BASE = "/console/feedback"
PAGE_SIZE = 50
MAP_ZOOM = 17
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _choice(kind: Any, value: str | None, field: str) -> Any:
    """A filter from a GET form: empty means "any"; anything else must be one of ``kind``."""
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise ProblemError(422, "validation_failed", errors=[(field, "enum", {})]) from None


def tile(lat: float, lon: float, zoom: int = MAP_ZOOM) -> tuple[int, int, int, int]:
    """The slippy-map tile holding the point and the point's pixel within it (OpenStreetMap's tiling)."""
    n = 2**zoom
    x = (lon + 180.0) / 360.0 * n
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return int(x), int(y), int((x % 1) * 256), int((y % 1) * 256)


async def _step(
    container: Container, uow: PgUnitOfWork, report_id: uuid.UUID, act: Callable[[Deps], Awaitable[Any]]
) -> Response[str]:
    await act(deps(container, uow.conn))
    return see_other(f"{BASE}/reports/{report_id}")


class FeedbackPages(Controller):
    path = "/feedback"
    include_in_schema = False

    @get("/", name="console.feedback.queue", opt=READ_ONLY)
    async def queue(
        self,
        request: Req,
        staff: ConsoleUser,
        container: AppContainer,
        uow: UnitOfWork,
        unit: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        level: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        assignee: FromQuery[str | None] = None,
        overdue: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[str]:
        units = await my_units(uow, staff)
        if not units:
            return render(request, "feedback/queue.html", units=[], unit=None)
        # Filters arrive from a GET form: an unset one is an empty string, not a missing parameter.
        unit_id = _choice(uuid.UUID, unit, "unit") or units[0].unit.id
        require_unit_role(staff, unit_id)  # the API's check: a unit of someone else's is refused
        mine = "me" if assignee == "me" else None
        f = QueueFilter(
            status=_choice(Status, status, "status"),
            level=_choice(Level, level, "level"),
            category_id=_choice(uuid.UUID, category, "category"),
            assignee_id=staff.id if mine else _choice(uuid.UUID, assignee, "assignee"),
            overdue={"yes": True, "no": False}.get(overdue or ""),
        )
        q = reads(uow)
        now = container.clock.now()
        rows = await q.queue(unit_id, f, now, after(cursor), PAGE_SIZE + 1)
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        next_query = ""
        if more:
            kept = {k: v for k, v in request.query_params.items() if k != "cursor"}
            kept["cursor"] = encode_cursor(str(rows[-1].id))
            next_query = "&".join(f"{k}={v}" for k, v in kept.items())
        return render(
            request,
            "feedback/queue.html",
            units=units,
            unit=next(u for u in units if u.unit.id == unit_id),
            rows=rows,
            counts=await q.queue_counts(unit_id, now),
            categories={c.id: c for c in await PgCategories(uow.conn).list()},
            handlers=await q.handlers(unit_id),
            statuses=list(Status),
            levels=list(Level),
            chosen={
                "status": status or "",
                "level": level or "",
                "category": category or "",
                "assignee": assignee or "",
                "overdue": overdue or "",
            },
            next_query=next_query,
            transferred=bool(request.query_params.get("transferred")),
        )

    @get("/overdue", name="console.feedback.overdue", opt=READ_ONLY)
    async def overdue(
        self, request: Req, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork
    ) -> Response[str]:
        """The supervisor's view: every overdue open report of each unit they supervise (escalations land here)."""
        q = reads(uow)
        now = container.clock.now()
        sections = []
        for mine in await my_units(uow, staff):
            if StaffRole.SUPERVISOR in mine.roles or StaffRole.UNIT_ADMIN in mine.roles:
                rows = await q.queue(mine.unit.id, QueueFilter(overdue=True), now, None, PAGE_SIZE + 1)
                sections.append((mine, rows[:PAGE_SIZE], len(rows) > PAGE_SIZE))
        return render(
            request,
            "feedback/overdue.html",
            sections=sections,
            categories={c.id: c for c in await PgCategories(uow.conn).list()},
        )

    @get("/reports/{report_id:uuid}", name="console.feedback.report", opt=READ_ONLY)
    async def report(
        self, request: Req, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork, report_id: FromPath[uuid.UUID]
    ) -> Response[str]:
        r = await visible_report(staff, container, uow, report_id)
        q = reads(uow)
        files = await q.attachments(r.id)
        unit = (await q.unit_names([r.unit_id]))[r.unit_id]
        handlers = await q.handlers(r.unit_id)
        lang = language(request)
        x, y, px, py = tile(r.location.lat, r.location.lon)
        return render(
            request,
            "feedback/report.html",
            r=r,
            unit=unit,
            now=container.clock.now(),
            photos=[a for a in files if a.kind is AttachmentKind.PHOTO],
            evidence=[a for a in files if a.kind is AttachmentKind.EVIDENCE],
            events=await q.events(r.id, public_only=False),
            rating=await q.rating(r.id),
            categories=await PgCategories(uow.conn).list(),
            handlers=handlers,
            names={str(h.user_id): h.full_name for h in handlers},
            units=await PgUnitDirectory(uow.conn).list(None, None),
            levels=list(Level),
            manager=staff.has_role(r.unit_id, StaffRole.SUPERVISOR, StaffRole.UNIT_ADMIN),
            handler=staff.has_role(r.unit_id, StaffRole.HANDLER),
            reply_templates=[t for t in REPLY_TEMPLATES if t.kind == "reply"],
            reject_templates=[t for t in REPLY_TEMPLATES if t.kind == "reject"],
            map_tile=(MAP_ZOOM, x, y, px, py),
            lang_name=lang,
        )

    @get("/reports/{report_id:uuid}/files/{file_id:uuid}", name="console.feedback.file", opt=READ_ONLY)
    async def file(
        self,
        staff: ConsoleUser,
        container: AppContainer,
        uow: UnitOfWork,
        report_id: FromPath[uuid.UUID],
        file_id: FromPath[uuid.UUID],
        thumbnail: FromQuery[bool] = False,
    ) -> Response[bytes]:
        await visible_report(staff, container, uow, report_id)
        a = await reads(uow).attachment(report_id, file_id)
        if a is None:
            raise NotFound("feedback.file_not_found")
        return await send_file(container, a, thumbnail, public=False)

    # --- handling steps: each a form posting to the report's URL + /<step>, answered with a redirect to it ---

    @post("/reports/{report_id:uuid}/acknowledge", name="console.feedback.acknowledge")
    async def acknowledge(
        self, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork, report_id: FromPath[uuid.UUID]
    ) -> Response[str]:
        return await _step(container, uow, report_id, lambda d: steps.Acknowledge(d).execute(staff, report_id))

    @post("/reports/{report_id:uuid}/assign", name="console.feedback.assign")
    async def assign(
        self, request: Req, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork, report_id: FromPath[uuid.UUID]
    ) -> Response[str]:
        form = fields(await request.form(), "assignee_id")
        if form.get("assignee_id") == "me":
            form["assignee_id"] = str(staff.id)
        data = form_as(AssignIn, form)
        return await _step(
            container, uow, report_id, lambda d: steps.Assign(d).execute(staff, report_id, data.assignee_id)
        )

    @post("/reports/{report_id:uuid}/notes", name="console.feedback.note")
    async def note(
        self, request: Req, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork, report_id: FromPath[uuid.UUID]
    ) -> Response[str]:
        data = form_as(NoteIn, fields(await request.form(), "text"))
        return await _step(container, uow, report_id, lambda d: steps.AddNote(d).execute(staff, report_id, data.text))

    @post("/reports/{report_id:uuid}/category", name="console.feedback.category")
    async def category(
        self, request: Req, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork, report_id: FromPath[uuid.UUID]
    ) -> Response[str]:
        data = form_as(CategoryChangeIn, fields(await request.form(), "category_id", "level", "reason"))
        return await _step(
            container,
            uow,
            report_id,
            lambda d: steps.ChangeCategory(d).execute(staff, report_id, data.category_id, data.level, data.reason),
        )

    @post("/reports/{report_id:uuid}/transfer", name="console.feedback.transfer")
    async def transfer(
        self, request: Req, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork, report_id: FromPath[uuid.UUID]
    ) -> Response[str]:
        data = form_as(TransferIn, fields(await request.form(), "unit_id", "reason"))
        await steps.Transfer(deps(container, uow.conn)).execute(staff, report_id, data.unit_id, data.reason)
        # The report now belongs to another unit, whose page this staff member may no longer open.
        return see_other(f"{BASE}/?transferred={report_id}")

    @post("/reports/{report_id:uuid}/handle", name="console.feedback.handle", request_max_body_size=UPLOAD_BODY_LIMIT)
    async def handle(
        self, request: Req, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork, report_id: FromPath[uuid.UUID]
    ) -> Response[str]:
        """Trả lời: the reply with its evidence in one form (a new photo or PDF, and/or evidence uploaded before)."""
        form = await request.form()
        evidence = [str(v) for v in form.getall("evidence_id", [])]
        upload = form.get("file")
        d = deps(container, uow.conn)
        if isinstance(upload, UploadFile) and upload.filename:
            limit = upload_limit(container)
            content = await upload.read(limit + 1)
            if len(content) > limit:
                raise ProblemError(413, "feedback.file_too_large", limit=limit)
            attachment, _ = await steps.AddEvidence(d).execute(staff, report_id, content)
            evidence.append(str(attachment.id))
        data = form_as(HandleIn, {**fields(form, "reply"), "evidence_ids": evidence})
        await steps.Handle(d).execute(staff, report_id, data.reply, data.evidence_ids)
        return see_other(f"{BASE}/reports/{report_id}")

    @post("/reports/{report_id:uuid}/reject", name="console.feedback.reject")
    async def reject(
        self, request: Req, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork, report_id: FromPath[uuid.UUID]
    ) -> Response[str]:
        form = fields(await request.form(), "template", "reason")
        if "reason" not in form and form.get("template"):
            # A template alone is a complete reason: its text in the staff member's language.
            chosen = next((t for t in REPLY_TEMPLATES if t.code == form["template"] and t.kind == "reject"), None)
            if chosen is not None:
                form["reason"] = chosen.text_vi if language(request) == "vi" else chosen.text_en
        data = form_as(RejectIn, form)
        return await _step(
            container, uow, report_id, lambda d: steps.Reject(d).execute(staff, report_id, data.reason, data.template)
        )

    @post("/reports/{report_id:uuid}/duplicate", name="console.feedback.duplicate")
    async def duplicate(
        self, request: Req, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork, report_id: FromPath[uuid.UUID]
    ) -> Response[str]:
        # Staff paste the original's id or its console link; the id is taken from either.
        found = _UUID.search(str((await request.form()).get("original", "")))
        data = form_as(DuplicateIn, {"original_id": found.group(0)} if found else {})
        return await _step(
            container, uow, report_id, lambda d: steps.MarkDuplicate(d).execute(staff, report_id, data.original_id)
        )


def _manages(staff: Principal) -> bool:
    return any(g.role in (StaffRole.SUPERVISOR, StaffRole.UNIT_ADMIN) for g in staff.grants)


FEEDBACK_PAGES = [FeedbackPages]
FEEDBACK_NAV: list[tuple[str, str, Callable[[Principal], bool]]] = [
    (f"{BASE}/", "feedback.nav.queue", lambda staff: staff.is_staff),
    (f"{BASE}/overdue", "feedback.nav.overdue", _manages),
]

_STATUS = {
    Status.PENDING: ("Chờ xử lý", "Pending"),
    Status.TRANSFERRED: ("Chuyển xử lý", "Transferred"),
    Status.IN_PROGRESS: ("Đang xử lý", "In progress"),
    Status.HANDLED: ("Đã xử lý", "Handled"),
    Status.REJECTED: ("Từ chối", "Rejected"),
    Status.DUPLICATE: ("Trùng", "Duplicate"),
}
_LEVEL = {Level.NORMAL: ("Thường", "Normal"), Level.URGENT: ("Khẩn", "Urgent"), Level.COMPLEX: ("Phức tạp", "Complex")}
texts.register(
    {
        **{f"feedback.status.{s.value}": {"vi": vi, "en": en} for s, (vi, en) in _STATUS.items()},
        **{f"feedback.level.{lv.value}": {"vi": vi, "en": en} for lv, (vi, en) in _LEVEL.items()},
        "feedback.nav.queue": {"vi": "Phản ánh", "en": "Feedback"},
        "feedback.nav.overdue": {"vi": "Quá hạn", "en": "Overdue"},
        "feedback.queue.title": {"vi": "Phản ánh của đơn vị", "en": "The unit's reports"},
        "feedback.queue.unit": {"vi": "Đơn vị", "en": "Unit"},
        "feedback.queue.no_units": {
            "vi": "Bạn chưa có vai trò xử lý phản ánh ở đơn vị nào.",
            "en": "You hold no role that handles reports in any unit.",
        },
        "feedback.queue.filters": {"vi": "Bộ lọc", "en": "Filters"},
        "feedback.queue.status": {"vi": "Trạng thái", "en": "Status"},
        "feedback.queue.open": {"vi": "Đang mở (mặc định)", "en": "Open (default)"},
        "feedback.queue.level": {"vi": "Mức độ", "en": "Level"},
        "feedback.queue.category": {"vi": "Lĩnh vực", "en": "Category"},
        "feedback.queue.assignee": {"vi": "Người xử lý", "en": "Assignee"},
        "feedback.queue.me": {"vi": "Tôi", "en": "Me"},
        "feedback.queue.overdue": {"vi": "Quá hạn", "en": "Overdue"},
        "feedback.queue.any": {"vi": "Tất cả", "en": "Any"},
        "feedback.queue.yes": {"vi": "Có", "en": "Yes"},
        "feedback.queue.no": {"vi": "Không", "en": "No"},
        "feedback.queue.apply": {"vi": "Lọc", "en": "Filter"},
        "feedback.queue.counts": {"vi": "Đang mở: {open}", "en": "Open: {open}"},
        "feedback.queue.overdue_count": {"vi": "Quá hạn: {n}", "en": "Overdue: {n}"},
        "feedback.queue.empty": {"vi": "Không có phản ánh nào khớp bộ lọc.", "en": "No report matches the filters."},
        "feedback.queue.next": {"vi": "Trang sau", "en": "Next page"},
        "feedback.queue.transferred": {
            "vi": "Đã chuyển phản ánh sang đơn vị khác.",
            "en": "The report was transferred to another unit.",
        },
        "feedback.col.ref": {"vi": "Mã", "en": "Reference"},
        "feedback.col.address": {"vi": "Địa điểm", "en": "Place"},
        "feedback.col.created": {"vi": "Ngày gửi", "en": "Received"},
        "feedback.col.due": {"vi": "Hạn xử lý", "en": "Due"},
        "feedback.col.overdue": {"vi": "QUÁ HẠN", "en": "OVERDUE"},
        "feedback.col.unassigned": {"vi": "Chưa phân công", "en": "Unassigned"},
        "feedback.overdue.title": {"vi": "Phản ánh quá hạn", "en": "Overdue reports"},
        "feedback.overdue.none": {"vi": "Không có phản ánh quá hạn.", "en": "No overdue report."},
        "feedback.overdue.not_supervisor": {
            "vi": "Trang này dành cho lãnh đạo đơn vị.",
            "en": "This page is for the unit's supervisors.",
        },
        "feedback.overdue.more": {
            "vi": "Còn nữa — xem trong hàng đợi với bộ lọc Quá hạn.",
            "en": "More — see the queue filtered by Overdue.",
        },
        "feedback.report.title": {"vi": "Phản ánh {ref}", "en": "Report {ref}"},
        "feedback.report.description": {"vi": "Nội dung", "en": "Description"},
        "feedback.report.place": {"vi": "Vị trí", "en": "Place"},
        "feedback.report.coordinates": {"vi": "Tọa độ", "en": "Coordinates"},
        "feedback.report.osm_link": {
            "vi": "Mở trên OpenStreetMap (cần Internet)",
            "en": "Open in OpenStreetMap (needs Internet)",
        },
        "feedback.report.map_alt": {"vi": "Bản đồ quanh vị trí phản ánh", "en": "Map around the reported place"},
        "feedback.report.photos": {"vi": "Ảnh của người phản ánh", "en": "The reporter's photos"},
        "feedback.report.no_photos": {"vi": "Không có ảnh.", "en": "No photos."},
        "feedback.report.evidence": {"vi": "Minh chứng xử lý", "en": "Evidence"},
        "feedback.report.unit": {"vi": "Đơn vị xử lý", "en": "Handling unit"},
        "feedback.report.ack_due": {"vi": "Hạn tiếp nhận", "en": "Acknowledge by"},
        "feedback.report.reply": {"vi": "Trả lời", "en": "Reply"},
        "feedback.report.rating": {"vi": "Đánh giá của người dân: {score}/5", "en": "Citizen's rating: {score}/5"},
        "feedback.report.answers": {"vi": "Thông tin bổ sung", "en": "Details"},
        "feedback.report.timeline": {"vi": "Diễn biến", "en": "Timeline"},
        "feedback.report.internal": {"vi": "nội bộ", "en": "internal"},
        "feedback.report.actions": {"vi": "Xử lý", "en": "Handling"},
        "feedback.report.closed": {"vi": "Phản ánh đã đóng.", "en": "The report is closed."},
        "feedback.action.acknowledge": {"vi": "Tiếp nhận", "en": "Acknowledge"},
        "feedback.action.assign": {"vi": "Phân công", "en": "Assign"},
        "feedback.action.assignee": {"vi": "Giao cho", "en": "Assign to"},
        "feedback.action.take": {"vi": "Tôi nhận xử lý", "en": "I take it"},
        "feedback.action.note": {"vi": "Ghi chú nội bộ", "en": "Internal note"},
        "feedback.action.note_text": {
            "vi": "Nội dung ghi chú (không hiển thị cho người dân)",
            "en": "Note (never shown to the citizen)",
        },
        "feedback.action.add_note": {"vi": "Thêm ghi chú", "en": "Add note"},
        "feedback.action.category": {"vi": "Đổi lĩnh vực", "en": "Change category"},
        "feedback.action.keep_level": {"vi": "Giữ mức độ của lĩnh vực", "en": "The category's level"},
        "feedback.action.reason": {"vi": "Lý do", "en": "Reason"},
        "feedback.action.transfer": {"vi": "Chuyển xử lý", "en": "Transfer"},
        "feedback.action.to_unit": {"vi": "Đơn vị nhận", "en": "Receiving unit"},
        "feedback.action.reply": {"vi": "Trả lời kết quả xử lý", "en": "Reply: mark handled"},
        "feedback.action.reply_text": {
            "vi": "Nội dung trả lời (công khai cho người dân)",
            "en": "Reply (public to the citizen)",
        },
        "feedback.action.reply_template": {
            "vi": "Mẫu trả lời (chép vào ô nội dung rồi sửa)",
            "en": "Reply templates (copy into the reply and edit)",
        },
        "feedback.action.evidence_file": {
            "vi": "Ảnh hoặc tài liệu minh chứng (JPEG, PNG, WebP, HEIC, PDF)",
            "en": "Evidence photo or document (JPEG, PNG, WebP, HEIC, PDF)",
        },
        "feedback.action.evidence_existing": {"vi": "Minh chứng đã tải lên", "en": "Evidence uploaded before"},
        "feedback.action.send_reply": {"vi": "Gửi trả lời", "en": "Send reply"},
        "feedback.action.reject": {"vi": "Từ chối", "en": "Reject"},
        "feedback.action.reject_template": {"vi": "Lý do theo mẫu", "en": "Reason template"},
        "feedback.action.reject_reason": {
            "vi": "Lý do (để trống: dùng nội dung mẫu)",
            "en": "Reason (empty: the template's text)",
        },
        "feedback.action.none": {"vi": "— Không dùng mẫu —", "en": "— No template —"},
        "feedback.action.duplicate": {"vi": "Đánh dấu trùng", "en": "Mark duplicate"},
        "feedback.action.original": {
            "vi": "Mã định danh hoặc đường dẫn của phản ánh gốc",
            "en": "The original report's id or link",
        },
        "feedback.event.submitted": {"vi": "Người dân gửi phản ánh", "en": "Submitted by the citizen"},
        "feedback.event.acknowledged": {"vi": "Tiếp nhận", "en": "Acknowledged"},
        "feedback.event.assigned": {"vi": "Phân công", "en": "Assigned"},
        "feedback.event.note": {"vi": "Ghi chú", "en": "Note"},
        "feedback.event.category_changed": {"vi": "Đổi lĩnh vực", "en": "Category changed"},
        "feedback.event.transferred": {"vi": "Chuyển xử lý", "en": "Transferred"},
        "feedback.event.handled": {"vi": "Trả lời kết quả", "en": "Handled"},
        "feedback.event.rejected": {"vi": "Từ chối", "en": "Rejected"},
        "feedback.event.duplicate": {"vi": "Trùng phản ánh khác", "en": "Marked duplicate"},
        "feedback.event.reopened": {"vi": "Người dân mở lại", "en": "Reopened by the citizen"},
        "feedback.event.rated": {"vi": "Người dân đánh giá", "en": "Rated by the citizen"},
        "feedback.event.visibility": {"vi": "Đổi hiển thị công khai", "en": "Visibility changed"},
        "feedback.event.escalated": {"vi": "Báo quá hạn lên lãnh đạo", "en": "Escalated as overdue"},
    }
)
