"""Judicial record certificate ("phiếu lý lịch tư pháp") requests and what they produce.

A request carries the fields of the official form (Mẫu 03 for oneself, Mẫu 04 through a proxy);
fields the population database (through the e-ID) already knows are pre-filled and marked in
``prefilled`` so the app shows them read-only. The certificate that comes out is described by
``CertificateContent``; the formats (VC-JWT, signed PDF) are built by adapters.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import msgspec


class CertificateType(StrEnum):
    NO1 = "1"   # convictions not expunged; may be requested through a proxy
    NO2 = "2"   # all convictions incl. expunged + bans; only the person, never by proxy


class Delivery(StrEnum):
    ELECTRONIC = "electronic"   # e-certificate only (always issued)
    POST = "post"               # plus a paper copy by post (postage owed by the citizen)
    COUNTER = "counter"         # plus a paper copy collected at the authority's counter


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RECEIVED = "received"                      # checked complete by staff
    VERIFYING = "verifying"                    # cross-checks with police/court records
    SUPPLEMENT_REQUESTED = "supplement_requested"
    SUPPLEMENTED = "supplemented"
    APPROVED = "approved"
    ISSUED = "issued"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


TERMINAL = frozenset({Status.ISSUED, Status.REJECTED, Status.WITHDRAWN})
# Statuses the authority's queue shows (a deadline is running or paused).
IN_PROCESS = frozenset({Status.SUBMITTED, Status.RECEIVED, Status.VERIFYING, Status.SUPPLEMENT_REQUESTED,
                        Status.SUPPLEMENTED, Status.APPROVED})


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class FeeCategory(StrEnum):
    STANDARD = "standard"
    # Reduced (50 %): students, people with revolutionary merit, martyrs' relatives.
    STUDENT = "student"
    REVOLUTIONARY_MERIT = "revolutionary_merit"
    MARTYR_RELATIVE = "martyr_relative"
    # Exempt: children, the elderly, people with disabilities, poor households, residents of
    # especially disadvantaged communes.
    CHILD = "child"
    ELDERLY = "elderly"
    DISABILITY = "disability"
    POOR_HOUSEHOLD = "poor_household"
    DISADVANTAGED_COMMUNE = "disadvantaged_commune"


REDUCED = frozenset({FeeCategory.STUDENT, FeeCategory.REVOLUTIONARY_MERIT, FeeCategory.MARTYR_RELATIVE})
EXEMPT = frozenset({FeeCategory.CHILD, FeeCategory.ELDERLY, FeeCategory.DISABILITY, FeeCategory.POOR_HOUSEHOLD,
                    FeeCategory.DISADVANTAGED_COMMUNE})
# Categories the date of birth proves; the others need a supporting document checked at receipt.
AGE_CATEGORIES = frozenset({FeeCategory.CHILD, FeeCategory.ELDERLY})


class DeadlineKind(StrEnum):
    NORMAL = "normal"       # ≤ 10 working days
    EXTENDED = "extended"   # ≤ 15: several provinces, abroad, foreigner, expungement to check
    URGENT = "urgent"       # ≤ 24 hours (urgent requests of prosecuting bodies)


class ProxyRelation(StrEnum):
    AUTHORISED = "authorised"   # written authorisation (notarised)
    PARENT = "parent"
    CHILD = "child"
    SPOUSE = "spouse"


class ActorKind(StrEnum):
    CITIZEN = "citizen"
    STAFF = "staff"
    SYSTEM = "system"


class Address(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    # Two-digit province code of the General Statistics Office ("01" = Hà Nội); "" abroad.
    province_code: str = ""
    country: str = "VN"   # ISO 3166-1 alpha-2


HANOI_PROVINCE = "01"


class IdDocument(msgspec.Struct, frozen=True, kw_only=True):
    kind: str = "cccd"   # cccd (citizen identity card) | passport | other
    number: str
    issued_on: date | None = None
    issued_by: str = ""


class Relative(msgspec.Struct, frozen=True, kw_only=True):
    full_name: str
    birth_year: int | None = None


class ResidencePeriod(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the residence history since age 14 (month precision, as on the form)."""

    from_month: str                  # "YYYY-MM"
    to_month: str | None = None      # None: until now (only the last line)
    address: Address
    occupation: str = ""
    workplace: str = ""


class Applicant(msgspec.Struct, frozen=True, kw_only=True):
    """The person the certificate is about (Mẫu 03 section "thông tin người yêu cầu").

    Everything is optional while the request is a draft; ``submission.require_complete`` names the
    first missing field at submit.
    """

    full_name: str | None = None
    other_names: str = ""
    sex: Sex | None = None
    date_of_birth: date | None = None
    place_of_birth: str | None = None
    nationality: str | None = None        # ISO 3166-1 alpha-2
    ethnicity: str | None = None
    permanent_residence: Address | None = None
    temporary_residence: Address | None = None
    id_document: IdDocument | None = None
    father: Relative | None = None
    mother: Relative | None = None
    spouse: Relative | None = None
    phone: str | None = None
    email: str | None = None


# Applicant fields the population database can fill (through VNeID), in form order.
PREFILLABLE = ("full_name", "sex", "date_of_birth", "place_of_birth", "nationality", "ethnicity",
               "permanent_residence", "temporary_residence", "id_document", "father", "mother", "spouse",
               "phone", "email")


class DocumentRef(msgspec.Struct, frozen=True, kw_only=True):
    """An uploaded file (authorisation, proof of a fee category) kept in the blob store."""

    key: str
    content_type: str
    size: int
    sha256: str


class Proxy(msgspec.Struct, frozen=True, kw_only=True):
    """Mẫu 04: someone asks on the applicant's behalf (certificate No. 1 only)."""

    relation: ProxyRelation
    document: DocumentRef | None = None   # authorisation or proof of the family relation


class FeeLine(msgspec.Struct, frozen=True, kw_only=True):
    code: str        # base | reduction | exemption | extra_copies | city_support | postage
    amount: int      # VND, signed: reductions and support are negative
    source: str = ""  # the rule it comes from (circular, resolution)


class FeeBreakdown(msgspec.Struct, frozen=True, kw_only=True):
    """What the request costs, priced by the rules in force on ``priced_on`` (Hanoi date)."""

    priced_on: date
    category: FeeCategory
    copies: int
    lines: tuple[FeeLine, ...]
    fee: int            # the statutory fee after reduction/exemption, extra copies included
    city_support: int   # paid by the city (shown even when the citizen pays nothing)
    postage: int
    amount_due: int     # what the citizen still owes: fee - city_support + postage


class Conviction(msgspec.Struct, frozen=True, kw_only=True):
    """One conviction as the police/court records return it."""

    judgment: str                 # judgment number and date, court
    offence: str
    sentence: str
    expunged: bool = False
    expunged_on: date | None = None


class Ban(msgspec.Struct, frozen=True, kw_only=True):
    """Ban on holding office / founding or managing a business (No. 2 only)."""

    text: str
    decision: str = ""


class CrossCheckOutcome(StrEnum):
    CLEAR = "clear"                      # no record
    RECORDS = "records"                  # convictions and/or bans found
    EXPUNGEMENT_CHECK = "expungement_check"  # records whose expungement must be established (15 days)


class CrossCheckResult(msgspec.Struct, frozen=True, kw_only=True):
    outcome: CrossCheckOutcome
    convictions: tuple[Conviction, ...] = ()
    bans: tuple[Ban, ...] = ()
    sources: tuple[str, ...] = ()         # which registries answered (police, court, ...)
    checked_at: datetime


class Request(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    ref: str                              # LLTP-2026-000123 (assigned at creation)
    requester_id: uuid.UUID               # the account that files (and later holds) it
    certificate_type: CertificateType = CertificateType.NO1
    purpose: str = ""
    copies: int = 2
    delivery: Delivery = Delivery.ELECTRONIC
    postal_address: Address | None = None
    fee_category: FeeCategory = FeeCategory.STANDARD
    fee_documents: tuple[DocumentRef, ...] = ()
    applicant: Applicant = msgspec.field(default_factory=Applicant)
    prefilled: tuple[str, ...] = ()       # applicant fields taken from the population database
    residence_history: tuple[ResidencePeriod, ...] = ()
    proxy: Proxy | None = None
    status: Status = Status.DRAFT
    online: bool = True
    requester_level: int = 2              # e-ID level of the requester at submission
    authority_unit_id: uuid.UUID | None = None
    authority_code: str = ""
    fee: FeeBreakdown | None = None
    deadline_kind: DeadlineKind = DeadlineKind.NORMAL
    deadline_reasons: tuple[str, ...] = ()
    due_at: datetime | None = None
    paused_at: datetime | None = None      # while a supplement is requested the clock stops
    cross_check: CrossCheckResult | None = None
    rejection_reason: str = ""
    supplement_note: str = ""
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    closed_at: datetime | None = None
    version: int = 0

    @property
    def by_proxy(self) -> bool:
        return self.proxy is not None

    def overdue(self, now: datetime) -> bool:
        return is_overdue(self.status, self.due_at, self.paused_at, now)


def is_overdue(status: Status, due_at: datetime | None, paused_at: datetime | None, now: datetime) -> bool:
    """Past its deadline while the clock runs (in process, not paused for a supplement)."""
    return status in IN_PROCESS and due_at is not None and paused_at is None and now > due_at


class QueueItem(msgspec.Struct, frozen=True):
    """Read model of one line of the authority's queue: a request as staff see it in the list, with
    ``overdue`` (``is_overdue`` at the time of the read) and ``by_proxy`` — the fields of ``Request``
    (``version`` aside) in its order, so that it encodes exactly as the entity's view did. Built by the
    store straight from its rows (no entity and no dict in between); ``queue_item`` builds it from an
    entity (fakes, tests)."""

    id: uuid.UUID
    ref: str
    requester_id: uuid.UUID
    certificate_type: CertificateType
    purpose: str
    copies: int
    delivery: Delivery
    postal_address: Address | None
    fee_category: FeeCategory
    fee_documents: tuple[DocumentRef, ...]
    applicant: Applicant
    prefilled: tuple[str, ...]
    residence_history: tuple[ResidencePeriod, ...]
    proxy: Proxy | None
    status: Status
    online: bool
    requester_level: int
    authority_unit_id: uuid.UUID | None
    authority_code: str
    fee: FeeBreakdown | None
    deadline_kind: DeadlineKind
    deadline_reasons: tuple[str, ...]
    due_at: datetime | None
    paused_at: datetime | None
    cross_check: CrossCheckResult | None
    rejection_reason: str
    supplement_note: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    closed_at: datetime | None
    overdue: bool
    by_proxy: bool


def queue_item(r: Request, now: datetime) -> QueueItem:
    return QueueItem(**{f: getattr(r, f) for f in _QUEUE_FIELDS}, overdue=r.overdue(now), by_proxy=r.by_proxy)


_QUEUE_FIELDS = QueueItem.__struct_fields__[:-2]


class Step(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of the request's history: who moved it from which status to which, and when."""

    id: uuid.UUID
    request_id: uuid.UUID
    from_status: Status | None
    to_status: Status
    actor_kind: ActorKind
    actor_id: uuid.UUID | None
    at: datetime
    note: str = ""
    data: dict[str, Any] = msgspec.field(default_factory=dict)


class CertificateStatus(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    EXPIRED = "expired"


class StatusPurpose(StrEnum):
    REVOCATION = "revocation"
    SUSPENSION = "suspension"


class StatusRef(msgspec.Struct, frozen=True, kw_only=True):
    """A certificate's position in one Bitstring Status List."""

    list_id: uuid.UUID
    purpose: StatusPurpose
    index: int


class CertificateContent(msgspec.Struct, frozen=True, kw_only=True):
    """What the certificate says: the input of the VC and the PDF renderers."""

    certificate_id: uuid.UUID
    number: str
    certificate_type: CertificateType
    request_ref: str
    authority_code: str
    authority_name_vi: str
    authority_name_en: str
    full_name: str
    sex: Sex
    date_of_birth: date
    place_of_birth: str
    nationality: str
    id_document_kind: str
    id_document_number: str
    permanent_residence: str
    father_name: str
    mother_name: str
    purpose: str
    convictions: tuple[Conviction, ...]   # No. 1: only not expunged; No. 2: all
    bans: tuple[Ban, ...]                 # No. 2 only
    issued_at: datetime
    valid_until: datetime
    verify_url: str                       # what the PDF's QR code links to


class Certificate(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    request_id: uuid.UUID
    holder_id: uuid.UUID
    number: str
    certificate_type: CertificateType
    authority_unit_id: uuid.UUID
    authority_code: str
    date_of_birth: date                   # what a verifier must present with a share code
    issued_at: datetime
    valid_until: datetime
    vc_jwt: str
    pdf_key: str                          # blob key of the signed PDF
    verify_token: str                     # the token in the PDF's QR link
    status_refs: tuple[StatusRef, ...]
    revoked_at: datetime | None = None
    suspended_at: datetime | None = None
    status_reason: str = ""

    def status(self, now: datetime) -> CertificateStatus:
        if self.revoked_at is not None:
            return CertificateStatus.REVOKED
        if self.suspended_at is not None:
            return CertificateStatus.SUSPENDED
        if now >= self.valid_until:
            return CertificateStatus.EXPIRED
        return CertificateStatus.VALID


class ShareCode(msgspec.Struct, frozen=True, kw_only=True):
    """A holder's purpose-bound code an employer uses with the holder's date of birth."""

    id: uuid.UUID
    certificate_id: uuid.UUID
    holder_id: uuid.UUID
    code_hash: bytes                      # SHA-256 of the normalised code; the code is shown once
    hint: str                             # last 3 characters, to tell codes apart in the app
    purpose: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    failed_attempts: int = 0
    locked_until: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


class VerificationOutcome(StrEnum):
    SHOWN = "shown"                # code + date of birth matched; credential returned
    WRONG_DATE_OF_BIRTH = "wrong_date_of_birth"
    CODE_EXPIRED = "code_expired"
    CODE_REVOKED = "code_revoked"
    LOCKED = "locked"              # too many wrong dates of birth


class Verification(msgspec.Struct, frozen=True, kw_only=True):
    """One use of a share code, shown to the holder."""

    id: uuid.UUID
    share_code_id: uuid.UUID
    certificate_id: uuid.UUID
    holder_id: uuid.UUID
    outcome: VerificationOutcome
    certificate_status: CertificateStatus | None
    purpose: str
    verifier: str                 # what the verifier said it is (free text, optional)
    client: str                   # a keyed hash of the client IP, never the IP itself
    at: datetime

