"""Request and response schemas of the judicial API (inputs reject unknown fields), the mapping
to the domain's commands, and the context's error texts (vi/en)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from api.platform import i18n
from domain.identity.principal import StaffRole
from domain.judicial.fee_payment import FeePayment
from domain.judicial.model import Certificate, CertificateStatus, Request, ShareCode, Status, Step, Verification
from domain.judicial.states import Action

Short = Annotated[str, Meta(max_length=200)]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Month = Annotated[str, Meta(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
Note = Annotated[str, Meta(max_length=2000)]
Reason = Annotated[str, Meta(min_length=1, max_length=2000)]


class AddressIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    text: Annotated[str, Meta(min_length=1, max_length=500)]
    province_code: Annotated[str, Meta(pattern=r"^(\d{2})?$")] = ""
    country: Annotated[str, Meta(pattern=r"^[A-Z]{2}$")] = "VN"


class IdDocumentIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: Literal["cccd", "passport", "other"] = "cccd"
    number: Annotated[str, Meta(pattern=r"^[A-Z0-9]{6,20}$")]
    issued_on: dt.date | None = None
    issued_by: Short = ""


class RelativeIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    full_name: Name
    birth_year: Annotated[int, Meta(ge=1900, le=2100)] | None = None


class ApplicantIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    full_name: Name | None = None
    other_names: Short = ""
    sex: Literal["male", "female"] | None = None
    date_of_birth: dt.date | None = None
    place_of_birth: Name | None = None
    nationality: Annotated[str, Meta(pattern=r"^[A-Z]{2}$")] | None = None
    ethnicity: Name | None = None
    permanent_residence: AddressIn | None = None
    temporary_residence: AddressIn | None = None
    id_document: IdDocumentIn | None = None
    father: RelativeIn | None = None
    mother: RelativeIn | None = None
    spouse: RelativeIn | None = None
    phone: Annotated[str, Meta(pattern=r"^\+?[0-9]{8,15}$")] | None = None
    email: Annotated[str, Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None


class PeriodIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    from_month: Month
    to_month: Month | None = None
    address: AddressIn
    occupation: Short = ""
    workplace: Short = ""


class DraftIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    certificate_type: Literal["1", "2"] = "1"
    proxy_relation: Literal["authorised", "parent", "child", "spouse"] | None = None
    purpose: Annotated[str, Meta(max_length=500)] = ""
    copies: Annotated[int, Meta(ge=1, le=20)] = 2
    delivery: Literal["electronic", "post", "counter"] = "electronic"
    postal_address: AddressIn | None = None
    fee_category: Literal["standard", "student", "revolutionary_merit", "martyr_relative", "child", "elderly",
                          "disability", "poor_household", "disadvantaged_commune"] = "standard"
    applicant: ApplicantIn = msgspec.field(default_factory=ApplicantIn)
    residence_history: Annotated[list[PeriodIn], Meta(max_length=60)] = msgspec.field(default_factory=list)


class SubmitIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # The amount the app showed from the quote: a different price now is refused (409).
    accepted_amount_due: Annotated[int, Meta(ge=0)] | None = None


class WithdrawIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Note = ""


class SupplementIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    note: Reason
    applicant: ApplicantIn = msgspec.field(default_factory=ApplicantIn)
    residence_history: Annotated[list[PeriodIn], Meta(max_length=60)] | None = None


class NoteIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    note: Note = ""


class RequiredNoteIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    note: Reason


class RejectIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Reason


class CertificateStatusIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    action: Literal["revoke", "suspend", "reinstate"]
    reason: Reason


class ShareIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    purpose: Annotated[str, Meta(min_length=3, max_length=300)]
    days: Annotated[int, Meta(ge=1, le=90)] = 30


class VerifyIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Annotated[str, Meta(min_length=9, max_length=15)]
    date_of_birth: dt.date
    verifier: Short = ""


def to_domain(value: msgspec.Struct, kind: type[Any]) -> Any:
    return msgspec.convert(msgspec.to_builtins(value), kind)


def request_out(r: Request, now: dt.datetime, steps: list[Step] | None = None, *,
                fee_payment: FeePayment | None = None) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(r)
    if fee_payment is not None:
        # What is still owed (e.g. postage) and its payment: the app shows the VietQR from
        # GET /api/v1/payments/intents/{intent_id} while the status is "pending".
        out["fee_payment"] = {"intent_id": str(fee_payment.intent_id), "amount": fee_payment.amount,
                              "status": fee_payment.status.value, "paid_at": fee_payment.paid_at}
    out.pop("version", None)
    out["overdue"] = r.overdue(now)
    out["by_proxy"] = r.by_proxy
    if steps is not None:
        out["steps"] = msgspec.to_builtins(steps)
    return out


class CertificateOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    request_id: uuid.UUID
    number: str
    certificate_type: str
    authority_code: str
    issued_at: dt.datetime
    valid_until: dt.datetime
    status: str
    vc_jwt: str
    pdf_url: str


def certificate_out(c: Certificate, status: CertificateStatus) -> CertificateOut:
    return CertificateOut(id=c.id, request_id=c.request_id, number=c.number,
                          certificate_type=c.certificate_type.value, authority_code=c.authority_code,
                          issued_at=c.issued_at, valid_until=c.valid_until, status=status.value, vc_jwt=c.vc_jwt,
                          pdf_url=f"/api/v1/judicial/certificates/{c.id}/pdf")


class ShareOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    certificate_id: uuid.UUID
    hint: str
    purpose: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked: bool
    code: str | None = None     # only in the response that created it


def share_out(s: ShareCode, code: str | None = None) -> ShareOut:
    return ShareOut(id=s.id, certificate_id=s.certificate_id, hint=s.hint, purpose=s.purpose,
                    created_at=s.created_at, expires_at=s.expires_at, revoked=s.revoked_at is not None, code=code)


class VerificationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    certificate_id: uuid.UUID
    share_code_id: uuid.UUID
    outcome: str
    certificate_status: str | None
    purpose: str
    verifier: str
    at: dt.datetime


def verification_out(v: Verification) -> VerificationOut:
    return VerificationOut(id=v.id, certificate_id=v.certificate_id, share_code_id=v.share_code_id,
                           outcome=v.outcome.value,
                           certificate_status=v.certificate_status.value if v.certificate_status else None,
                           purpose=v.purpose, verifier=v.verifier, at=v.at)


class VerifiedOut(msgspec.Struct, kw_only=True):
    """What a verifier gets: the credential and its live status."""

    status: str
    certificate_number: str
    certificate_type: str
    issued_at: dt.datetime
    valid_until: dt.datetime
    purpose: str
    share_expires_at: dt.datetime
    vc_jwt: str
    jwks_url: str


class PublicStatusOut(msgspec.Struct, kw_only=True):
    certificate_number: str
    certificate_type: str
    authority_code: str
    issued_at: dt.datetime
    valid_until: dt.datetime
    status: str


i18n.register({
    "judicial.request_not_found": {"vi": "Không tìm thấy yêu cầu", "en": "The request was not found"},
    "judicial.certificate_not_found": {"vi": "Không tìm thấy phiếu", "en": "The certificate was not found"},
    "judicial.document_not_found": {"vi": "Không tìm thấy tệp", "en": "The file was not found"},
    "judicial.share_code_not_found": {"vi": "Mã chia sẻ không đúng", "en": "Unknown share code"},
    "judicial.share_code_expired": {"vi": "Mã chia sẻ đã hết hạn", "en": "The share code has expired"},
    "judicial.share_code_revoked": {"vi": "Mã chia sẻ đã bị thu hồi", "en": "The share code was revoked"},
    "judicial.wrong_date_of_birth": {"vi": "Ngày sinh không khớp với mã chia sẻ",
                                     "en": "The date of birth does not match the share code"},
    "judicial.verify_rate_limited": {"vi": "Quá nhiều lần thử, vui lòng thử lại sau",
                                     "en": "Too many attempts, try again later"},
    "judicial.level2_required": {"vi": "Cần tài khoản định danh điện tử mức 2",
                                 "en": "A level-2 e-ID account is required"},
    "judicial.no2_by_proxy": {"vi": "Phiếu lý lịch tư pháp số 2 không được yêu cầu thông qua người ủy quyền",
                              "en": "Certificate No. 2 cannot be requested through a proxy"},
    "judicial.no2_not_shareable": {"vi": "Phiếu số 2 không được chia sẻ cho bên thứ ba",
                                   "en": "Certificate No. 2 is never shared with a third party"},
    "judicial.proxy_fixed": {"vi": "Không thể đổi giữa tự yêu cầu và ủy quyền",
                             "en": "A draft cannot switch between self and proxy"},
    "judicial.wrong_status": {"vi": "Không thể {action} khi yêu cầu đang ở trạng thái {status}",
                              "en": "Cannot {action} a request whose status is {status}"},
    "judicial.fee_changed": {"vi": "Lệ phí đã thay đổi: số tiền phải nộp là {amount_due} đồng",
                             "en": "The fee changed: the amount due is {amount_due} VND"},
    "judicial.fee_unpaid": {"vi": "Người yêu cầu chưa nộp {amount_due} đồng còn phải nộp",
                            "en": "The requester has not yet paid the {amount_due} VND still owed"},
    "judicial.role_required": {"vi": "Cần vai trò {role}", "en": "The {role} role is required"},
    "judicial.staff_only": {"vi": "Chỉ dành cho cán bộ cơ quan cấp phiếu",
                            "en": "Only for staff of the issuing authority"},
    "judicial.concurrent_update": {"vi": "Yêu cầu vừa được cập nhật, vui lòng tải lại",
                                   "en": "The request was just changed; reload it"},
    "judicial.certificate_status": {"vi": "Phiếu đang ở trạng thái {status}", "en": "The certificate is {status}"},
    "judicial.field_required": {"vi": "Thiếu thông tin bắt buộc", "en": "A required field is missing"},
    "judicial.prefilled_field": {"vi": "Thông tin lấy từ CSDL quốc gia về dân cư không được sửa",
                                 "en": "Fields from the population database cannot be changed"},
    "judicial.proxy_document_required": {"vi": "Cần tải lên văn bản ủy quyền",
                                         "en": "Upload the authorisation document"},
    "judicial.fee_document_required": {"vi": "Cần tải lên giấy tờ chứng minh đối tượng miễn, giảm",
                                       "en": "Upload the proof of the fee reduction or exemption"},
    "judicial.fee_category_age": {"vi": "Đối tượng miễn phí không khớp với ngày sinh",
                                  "en": "The fee category does not match the date of birth"},
    "judicial.birth_in_future": {"vi": "Ngày sinh không hợp lệ", "en": "The date of birth is in the future"},
    "judicial.copies": {"vi": "Số bản phải từ 1 đến 20", "en": "Copies must be between 1 and 20"},
    "judicial.document_kind": {"vi": "Loại giấy tờ không hợp lệ", "en": "Unknown document kind"},
    "judicial.document_type": {"vi": "Chỉ nhận PDF, JPEG hoặc PNG", "en": "Only PDF, JPEG or PNG files"},
    "judicial.document_too_large": {"vi": "Tệp quá lớn", "en": "The file is too large"},
    "judicial.share_days": {"vi": "Thời hạn từ 1 đến 90 ngày", "en": "Between 1 and 90 days"},
    "judicial.certificate_not_valid": {"vi": "Phiếu không còn hiệu lực", "en": "The certificate is not valid"},
    "judicial.queue_status": {"vi": "Trạng thái không hợp lệ", "en": "Invalid status"},
    "judicial.status_action": {"vi": "Thao tác không hợp lệ", "en": "Invalid action"},
    **{f"judicial.residence_{rule}": {"vi": f"Quá trình cư trú không hợp lệ: {vi}",
                                      "en": f"Invalid residence history: {en}"}
       for rule, (vi, en) in {
           "month": ("tháng không hợp lệ", "a month is invalid"),
           "required": ("cần khai quá trình cư trú", "the residence history is required"),
           "too_many": ("quá nhiều dòng", "too many entries"),
           "month_format": ("tháng phải có dạng YYYY-MM", "months are written YYYY-MM"),
           "before_start": ("tháng kết thúc trước tháng bắt đầu", "an entry ends before it starts"),
           "before_birth": ("có thời gian trước ngày sinh", "an entry starts before the date of birth"),
           "in_future": ("có thời gian trong tương lai", "an entry lies in the future"),
           "open_ended_not_last": ("chỉ dòng cuối cùng được để trống tháng kết thúc",
                                   "only the last entry may have no end month"),
           "order": ("các dòng phải theo thứ tự thời gian", "entries must be in time order"),
           "overlap": ("các khoảng thời gian chồng lên nhau", "two entries overlap"),
           "gap": ("có khoảng thời gian bị bỏ trống", "there is a gap between entries"),
           "from_age_14": ("phải khai từ khi đủ 14 tuổi", "it must start by the 14th birthday"),
           "until_now": ("phải khai đến hiện tại", "it must reach the present"),
       }.items()},
})

# What users read for a request's actions and statuses, a certificate's status and a staff role.
_REQUEST_STATUS: dict[str, i18n.Text] = {
    Status.DRAFT: {"vi": "bản nháp", "en": "a draft"},
    Status.SUBMITTED: {"vi": "đã nộp", "en": "submitted"},
    Status.RECEIVED: {"vi": "đã tiếp nhận", "en": "received"},
    Status.VERIFYING: {"vi": "đang xác minh", "en": "being verified"},
    Status.SUPPLEMENT_REQUESTED: {"vi": "chờ bổ sung hồ sơ", "en": "waiting for more documents"},
    Status.SUPPLEMENTED: {"vi": "đã bổ sung hồ sơ", "en": "supplemented"},
    Status.APPROVED: {"vi": "đã duyệt", "en": "approved"},
    Status.ISSUED: {"vi": "đã cấp phiếu", "en": "issued"},
    Status.REJECTED: {"vi": "bị từ chối", "en": "rejected"},
    Status.WITHDRAWN: {"vi": "đã rút", "en": "withdrawn"},
}
i18n.register_terms(
    "judicial.wrong_status", status=_REQUEST_STATUS,
    action={
        Action.EDIT: {"vi": "sửa yêu cầu", "en": "edit it"},
        Action.SUBMIT: {"vi": "nộp yêu cầu", "en": "submit it"},
        Action.WITHDRAW: {"vi": "rút yêu cầu", "en": "withdraw it"},
        Action.RECEIVE: {"vi": "tiếp nhận", "en": "receive it"},
        Action.VERIFY: {"vi": "xác minh", "en": "verify it"},
        Action.REQUEST_SUPPLEMENT: {"vi": "yêu cầu bổ sung hồ sơ", "en": "ask for more documents"},
        Action.SUPPLEMENT: {"vi": "bổ sung hồ sơ", "en": "add documents"},
        Action.APPROVE: {"vi": "duyệt", "en": "approve it"},
        Action.ISSUE: {"vi": "cấp phiếu", "en": "issue the certificate"},
        Action.REJECT: {"vi": "từ chối", "en": "reject it"},
        "attach": {"vi": "đính kèm giấy tờ", "en": "attach a document"},
    })
i18n.register_terms("judicial.certificate_status", status={
    CertificateStatus.VALID: {"vi": "còn hiệu lực", "en": "valid"},
    CertificateStatus.REVOKED: {"vi": "đã bị thu hồi", "en": "revoked"},
    CertificateStatus.SUSPENDED: {"vi": "đang bị tạm đình chỉ", "en": "suspended"},
    CertificateStatus.EXPIRED: {"vi": "đã hết hạn", "en": "expired"},
})
i18n.register_terms("judicial.role_required", role={
    StaffRole.HANDLER: {"vi": "cán bộ xử lý", "en": "handler"},
    StaffRole.SUPERVISOR: {"vi": "lãnh đạo phê duyệt", "en": "supervisor"},
    StaffRole.UNIT_ADMIN: {"vi": "quản trị đơn vị", "en": "unit administrator"},
})
