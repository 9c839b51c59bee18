"""Judicial record certificates in the console: the issuing authority's queue, one request (the
pre-filled form, residence history, cross-check, fee, steps), each workflow step, the issued PDF.

Every page calls the same use cases as ``/api/v1/staff/judicial`` (``domain.judicial.usecases.staff``):
another authority's request is 404 there, so it is 404 here; a step needing a supervisor is 403.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Response, get, post
from litestar.params import FromPath

from api.console.common import Req, fields, see_other
from api.console.inputs import bad_choice, parse_date
from api.console.render import render
from api.console.session import ConsoleUser
from api.console.texts import register
from api.judicial.wiring import judicial_deps
from api.platform.deps import READ_ONLY, AppContainer, UnitOfWork
from domain.identity.principal import Principal, StaffRole
from domain.judicial.model import IN_PROCESS, CertificateType, DocumentRef, Request, Status
from domain.judicial.states import TRANSITIONS, Action
from domain.judicial.usecases import staff as uc
from domain.judicial.usecases.common import FeePaymentOf
from domain.shared.paging import MAX_LIMIT

PAGE_SIZE = 25
# The steps staff take from the console, in the order the buttons appear (the API's paths), with the workflow
# action and use case behind each and the form field it passes on ("" for none). Whether a note or reason is
# required is the use case's rule (422 naming the field); the template marks those fields required too.
STEPS: dict[str, tuple[Action, Any, str]] = {
    "receive": (Action.RECEIVE, uc.Receive, "note"),
    "verify": (Action.VERIFY, uc.StartVerification, "note"),
    "supplement-request": (Action.REQUEST_SUPPLEMENT, uc.RequestSupplement, "note"),
    "approve": (Action.APPROVE, uc.Approve, "note"),
    "issue": (Action.ISSUE, uc.Issue, ""),
    "reject": (Action.REJECT, uc.Reject, "reason"),
}
SUPERVISOR_STEPS = frozenset({"approve", "issue", "reject"})
QUEUE_STATUSES = [s for s in Status if s in IN_PROCESS or s in (Status.ISSUED, Status.REJECTED, Status.WITHDRAWN)]


def queue_query(params: Any) -> uc.QueueQuery:
    """The queue's filters from the page's query string (an HTML form sends empty fields as "")."""
    try:
        statuses = frozenset(Status(x) for x in params.getall("status", []) if x)
    except ValueError:
        raise bad_choice("status") from None
    kind = (params.get("certificate_type") or "").strip()
    if kind not in ("", "1", "2"):
        raise bad_choice("certificate_type")
    return uc.QueueQuery(
        statuses=statuses,
        certificate_type=CertificateType(kind) if kind else None,
        overdue_only=params.get("overdue") in ("1", "true", "on"),
        submitted_from=parse_date(params, "submitted_from"),
        submitted_to=parse_date(params, "submitted_to"),
    )


def available_steps(r: Request, staff: Principal) -> list[str]:
    """The steps the workflow allows from the request's status and the staff member's roles may take (the use
    case checks both again; this only decides which buttons to show)."""
    boss = r.authority_unit_id is not None and staff.has_role(r.authority_unit_id, StaffRole.SUPERVISOR)
    return [
        name
        for name, (action, _, _) in STEPS.items()
        if r.status in TRANSITIONS[action][0] and (boss or name not in SUPERVISOR_STEPS)
    ]


class JudicialPages(Controller):
    path = "/judicial"
    include_in_schema = False

    @get("/", name="console.judicial.queue", opt=READ_ONLY)
    async def queue(self, request: Req, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork) -> Response[str]:
        params = request.query_params
        q = queue_query(params)
        d = await judicial_deps(container, uow.conn)
        page = await uc.Queue(d).execute(staff, q, params.get("cursor") or None, min(PAGE_SIZE, MAX_LIMIT))
        return render(
            request,
            "judicial/queue.html",
            page=page,
            q=q,
            now=container.clock.now(),
            statuses=QUEUE_STATUSES,
            filters=_filters_query(params),
        )

    @get("/{request_id:uuid}", name="console.judicial.request", opt=READ_ONLY)
    async def one(
        self,
        request: Req,
        staff: ConsoleUser,
        container: AppContainer,
        uow: UnitOfWork,
        request_id: FromPath[uuid.UUID],
    ) -> Response[str]:
        d = await judicial_deps(container, uow.conn)
        r, steps = await uc.StaffView(d).execute(staff, request_id)
        certificate = await uc.IssuedCertificate(d).execute(staff, r.id) if r.status is Status.ISSUED else None
        authority = d.authorities.by_unit(r.authority_unit_id) if r.authority_unit_id else None
        return render(
            request,
            "judicial/request.html",
            r=r,
            steps=steps,
            now=container.clock.now(),
            fee_payment=await FeePaymentOf(d).execute(r),
            certificate=certificate,
            authority=authority,
            actions=available_steps(r, staff),
            documents=documents(r),
            done=_done(request.query_params.get("done")),
        )

    @post("/{request_id:uuid}/{step:str}", name="console.judicial.step", status_code=303)
    async def step(
        self,
        request: Req,
        staff: ConsoleUser,
        container: AppContainer,
        uow: UnitOfWork,
        request_id: FromPath[uuid.UUID],
        step: FromPath[str],
    ) -> Response[str]:
        if step not in STEPS:
            raise bad_choice("step")
        _, use_case, field = STEPS[step]
        # fields(): trimmed, and a NUL (which PostgreSQL cannot store) refused with 422 like the API's JSON.
        args = (fields(await request.form(), field).get(field, ""),) if field else ()
        await use_case(await judicial_deps(container, uow.conn)).execute(staff, request_id, *args)
        return see_other(f"/console/judicial/{request_id}?done={step}")

    @get("/{request_id:uuid}/document", name="console.judicial.document")
    async def document(
        self,
        request: Req,
        staff: ConsoleUser,
        container: AppContainer,
        uow: UnitOfWork,
        request_id: FromPath[uuid.UUID],
    ) -> Response[bytes]:
        """An uploaded file of the request (proxy authorisation, proof of a fee category), to check it."""
        key = request.query_params.get("key") or ""
        d = await judicial_deps(container, uow.conn)
        content_type, data = await uc.RequestDocument(d).execute(staff, request_id, key)
        return Response(
            data,
            media_type=content_type,
            headers={"Content-Disposition": "attachment", "Cache-Control": "private, no-store"},
        )

    @get("/{request_id:uuid}/certificate.pdf", name="console.judicial.pdf")
    async def pdf(
        self, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork, request_id: FromPath[uuid.UUID]
    ) -> Response[bytes]:
        cert, data = await uc.IssuedCertificatePdf(await judicial_deps(container, uow.conn)).execute(staff, request_id)
        return Response(
            data,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{cert.number}.pdf"',
                "Cache-Control": "private, no-store",
            },
        )


def _filters_query(params: Any) -> str:
    """The current filters as a query string (for the next page link), without the cursor."""
    return urlencode([(k, v) for k, v in params.multi_items() if k != "cursor" and v])


register(
    {
        "judicial.nav": {"vi": "Lý lịch tư pháp", "en": "Judicial records"},
        "judicial.queue.title": {"vi": "Hồ sơ cấp phiếu lý lịch tư pháp", "en": "Judicial record certificate requests"},
        "judicial.queue.empty": {"vi": "Không có hồ sơ nào phù hợp.", "en": "No request matches."},
        "judicial.queue.next": {"vi": "Trang sau", "en": "Next page"},
        "judicial.filter.status": {"vi": "Trạng thái", "en": "Status"},
        "judicial.filter.in_process": {"vi": "Đang xử lý (mặc định)", "en": "In process (default)"},
        "judicial.filter.type": {"vi": "Loại phiếu", "en": "Certificate type"},
        "judicial.filter.any": {"vi": "Tất cả", "en": "Any"},
        "judicial.filter.overdue": {"vi": "Chỉ hồ sơ quá hạn", "en": "Overdue only"},
        "judicial.filter.from": {"vi": "Nộp từ ngày", "en": "Submitted from"},
        "judicial.filter.to": {"vi": "đến ngày", "en": "to"},
        "judicial.filter.apply": {"vi": "Lọc", "en": "Filter"},
        "judicial.col.ref": {"vi": "Mã hồ sơ", "en": "Reference"},
        "judicial.col.applicant": {"vi": "Người được cấp phiếu", "en": "Applicant"},
        "judicial.col.type": {"vi": "Loại", "en": "Type"},
        "judicial.col.status": {"vi": "Trạng thái", "en": "Status"},
        "judicial.col.submitted": {"vi": "Ngày nộp", "en": "Submitted"},
        "judicial.col.due": {"vi": "Hạn trả kết quả", "en": "Due"},
        "judicial.type.1": {"vi": "Phiếu số 1", "en": "Certificate No. 1"},
        "judicial.type.2": {"vi": "Phiếu số 2", "en": "Certificate No. 2"},
        "judicial.overdue": {"vi": "Quá hạn", "en": "Overdue"},
        "judicial.paused": {"vi": "Tạm dừng (chờ bổ sung)", "en": "Paused (awaiting supplement)"},
        "judicial.proxy": {"vi": "Ủy quyền", "en": "By proxy"},
        "judicial.status.submitted": {"vi": "Mới nộp", "en": "Submitted"},
        "judicial.status.received": {"vi": "Đã tiếp nhận", "en": "Received"},
        "judicial.status.verifying": {"vi": "Đang xác minh", "en": "Verifying"},
        "judicial.status.supplement_requested": {"vi": "Chờ bổ sung", "en": "Supplement requested"},
        "judicial.status.supplemented": {"vi": "Đã bổ sung", "en": "Supplemented"},
        "judicial.status.approved": {"vi": "Đã duyệt", "en": "Approved"},
        "judicial.status.issued": {"vi": "Đã cấp phiếu", "en": "Issued"},
        "judicial.status.rejected": {"vi": "Từ chối", "en": "Rejected"},
        "judicial.status.withdrawn": {"vi": "Đã rút", "en": "Withdrawn"},
        "judicial.status.draft": {"vi": "Nháp", "en": "Draft"},
        "judicial.request.title": {"vi": "Hồ sơ {ref}", "en": "Request {ref}"},
        "judicial.request.form": {"vi": "Tờ khai (Mẫu {form})", "en": "Request form (Form {form})"},
        "judicial.request.prefilled": {"vi": "Lấy từ CSDL quốc gia về dân cư", "en": "From the population database"},
        "judicial.request.history": {"vi": "Quá trình cư trú từ đủ 14 tuổi", "en": "Residence history since age 14"},
        "judicial.request.until_now": {"vi": "nay", "en": "now"},
        "judicial.request.check": {"vi": "Kết quả tra cứu, xác minh", "en": "Cross-check results"},
        "judicial.request.not_checked": {
            "vi": "Chưa tra cứu: bước Xác minh tra cứu hồ sơ công an, tòa án.",
            "en": "Not checked yet: the Verify step asks the police and court records.",
        },
        "judicial.check.clear": {"vi": "Không có án tích", "en": "No criminal record"},
        "judicial.check.records": {"vi": "Có án tích hoặc cấm đảm nhiệm chức vụ", "en": "Convictions or bans found"},
        "judicial.check.expungement_check": {
            "vi": "Cần xác minh xóa án tích (thời hạn 15 ngày làm việc)",
            "en": "Expungement to establish (15 working days)",
        },
        "judicial.check.sources": {"vi": "Nguồn", "en": "Sources"},
        "judicial.check.expunged": {"vi": "đã được xóa án tích", "en": "expunged"},
        "judicial.check.bans": {
            "vi": "Cấm đảm nhiệm chức vụ, thành lập, quản lý doanh nghiệp",
            "en": "Bans on holding office or managing a business",
        },
        "judicial.request.fee": {"vi": "Lệ phí", "en": "Fee"},
        "judicial.fee.fee": {"vi": "Lệ phí theo quy định", "en": "Statutory fee"},
        "judicial.fee.support": {"vi": "Thành phố hỗ trợ", "en": "City support"},
        "judicial.fee.postage": {"vi": "Cước bưu chính", "en": "Postage"},
        "judicial.fee.due": {"vi": "Người dân phải nộp", "en": "Citizen pays"},
        "judicial.fee.payment": {"vi": "Thanh toán", "en": "Payment"},
        "judicial.request.steps": {"vi": "Quá trình xử lý", "en": "Processing history"},
        "judicial.actor.citizen": {"vi": "Người dân", "en": "Citizen"},
        "judicial.actor.staff": {"vi": "Cán bộ", "en": "Staff"},
        "judicial.actor.system": {"vi": "Hệ thống", "en": "System"},
        "judicial.request.actions": {"vi": "Xử lý hồ sơ", "en": "Process the request"},
        "judicial.request.no_actions": {
            "vi": "Không còn bước nào bạn có thể thực hiện.",
            "en": "There is no step left that you may take.",
        },
        "judicial.step.receive": {"vi": "Tiếp nhận (hồ sơ đầy đủ)", "en": "Receive (complete)"},
        "judicial.step.verify": {"vi": "Xác minh (tra cứu công an, tòa án)", "en": "Verify (police and court records)"},
        "judicial.step.supplement-request": {"vi": "Yêu cầu bổ sung", "en": "Request a supplement"},
        "judicial.step.approve": {"vi": "Phê duyệt", "en": "Approve"},
        "judicial.step.issue": {"vi": "Cấp phiếu điện tử", "en": "Issue the e-certificate"},
        "judicial.step.reject": {"vi": "Từ chối", "en": "Reject"},
        "judicial.field.note": {"vi": "Ghi chú", "en": "Note"},
        "judicial.field.note_required": {
            "vi": "Nội dung cần bổ sung (bắt buộc)",
            "en": "What to supplement (required)",
        },
        "judicial.field.reason": {"vi": "Lý do từ chối (bắt buộc)", "en": "Reason for rejection (required)"},
        "judicial.done": {"vi": "Đã thực hiện: {step}.", "en": "Done: {step}."},
        "judicial.documents": {"vi": "Giấy tờ kèm theo", "en": "Attached documents"},
        "judicial.document.proxy": {
            "vi": "Văn bản ủy quyền / giấy tờ chứng minh quan hệ",
            "en": "Authorisation / proof of the relation",
        },
        "judicial.document.fee": {"vi": "Giấy tờ miễn, giảm lệ phí", "en": "Proof for a fee reduction or exemption"},
        "judicial.certificate": {"vi": "Phiếu đã cấp", "en": "Issued certificate"},
        "judicial.certificate.pdf": {
            "vi": "Tải phiếu (PDF có chữ ký số)",
            "en": "Download the certificate (signed PDF)",
        },
        "judicial.certificate.valid_until": {"vi": "Giá trị sử dụng đến", "en": "Valid until"},
        "judicial.rejection": {"vi": "Lý do từ chối", "en": "Reason for rejection"},
        "judicial.supplement_note": {"vi": "Nội dung yêu cầu bổ sung", "en": "Supplement requested"},
        "judicial.authority": {"vi": "Cơ quan cấp phiếu", "en": "Issuing authority"},
        "judicial.purpose": {"vi": "Mục đích sử dụng", "en": "Purpose"},
        "judicial.copies": {"vi": "Số bản", "en": "Copies"},
        "judicial.delivery": {"vi": "Hình thức nhận", "en": "Delivery"},
        "judicial.field.full_name": {"vi": "Họ và tên", "en": "Full name"},
        "judicial.field.other_names": {"vi": "Tên gọi khác", "en": "Other names"},
        "judicial.field.sex": {"vi": "Giới tính", "en": "Sex"},
        "judicial.field.date_of_birth": {"vi": "Ngày sinh", "en": "Date of birth"},
        "judicial.field.place_of_birth": {"vi": "Nơi sinh", "en": "Place of birth"},
        "judicial.field.nationality": {"vi": "Quốc tịch", "en": "Nationality"},
        "judicial.field.ethnicity": {"vi": "Dân tộc", "en": "Ethnicity"},
        "judicial.field.permanent_residence": {"vi": "Nơi thường trú", "en": "Permanent residence"},
        "judicial.field.temporary_residence": {"vi": "Nơi tạm trú", "en": "Temporary residence"},
        "judicial.field.id_document": {"vi": "Giấy tờ tùy thân", "en": "ID document"},
        "judicial.field.father": {"vi": "Họ tên cha", "en": "Father"},
        "judicial.field.mother": {"vi": "Họ tên mẹ", "en": "Mother"},
        "judicial.field.spouse": {"vi": "Họ tên vợ/chồng", "en": "Spouse"},
        "judicial.field.phone": {"vi": "Điện thoại", "en": "Phone"},
        "judicial.field.email": {"vi": "Thư điện tử", "en": "Email"},
        "judicial.history.from": {"vi": "Từ tháng", "en": "From"},
        "judicial.history.to": {"vi": "Đến tháng", "en": "To"},
        "judicial.history.address": {"vi": "Nơi cư trú", "en": "Address"},
        "judicial.history.occupation": {"vi": "Nghề nghiệp", "en": "Occupation"},
        "judicial.history.workplace": {"vi": "Nơi làm việc", "en": "Workplace"},
        "judicial.sex.male": {"vi": "Nam", "en": "Male"},
        "judicial.sex.female": {"vi": "Nữ", "en": "Female"},
        "judicial.deadline.normal": {"vi": "10 ngày làm việc", "en": "10 working days"},
        "judicial.deadline.extended": {"vi": "15 ngày làm việc", "en": "15 working days"},
        "judicial.deadline.urgent": {"vi": "24 giờ", "en": "24 hours"},
    }
)


def documents(r: Request) -> list[tuple[str, DocumentRef]]:
    """The request's uploaded files with what each is for (the proxy's authorisation, fee proofs)."""
    proxy = [("proxy", r.proxy.document)] if r.proxy and r.proxy.document else []
    return proxy + [("fee", d) for d in r.fee_documents]


def _done(step: str | None) -> str:
    """The step just taken (after the redirect), for the confirmation line; anything else is ignored."""
    return step if step in STEPS else ""
