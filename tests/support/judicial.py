"""Judicial test helpers: in-memory fakes of the context's ports, a ready applicant and history,
and a ``World`` that wires the use cases for unit tests."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, date, datetime
from typing import Any

import msgspec

from adapters.calendar.vietnam import VietnamHolidays
from domain.errors import Conflict
from domain.feedback.calendar import WorkingCalendar
from domain.identity.principal import Principal, PrincipalKind, StaffGrant, StaffRole
from domain.judicial.authority import AuthorityPeriod, AuthoritySchedule
from domain.judicial.model import (
    Address,
    Applicant,
    Certificate,
    CertificateContent,
    CertificateType,
    CrossCheckOutcome,
    CrossCheckResult,
    IdDocument,
    QueueItem,
    Relative,
    Request,
    ResidencePeriod,
    Sex,
    ShareCode,
    StatusPurpose,
    StatusRef,
    Step,
    Verification,
    queue_item,
)
from domain.judicial.ports import QueueFilter
from domain.judicial.usecases.common import Deps, Settings
from domain.notifications.model import Notification
from domain.shared.ids import new_id
from domain.shared.paging import Page, decode_cursor, encode_cursor

DOJ = uuid.UUID("00000000-0000-7000-8000-00000000d011")
POLICE = uuid.UUID("00000000-0000-7000-8000-0000000ca011")

AUTHORITIES = AuthoritySchedule((
    AuthorityPeriod(effective_from=date(2017, 1, 1), effective_to=date(2026, 6, 30), unit_id=DOJ, code="S-TP",
                    name_vi="Sở Tư pháp Thành phố Hà Nội", name_en="Hanoi Department of Justice"),
    AuthorityPeriod(effective_from=date(2026, 7, 1), unit_id=POLICE, code="CA-TP",
                    name_vi="Công an Thành phố Hà Nội", name_en="Hanoi City Police"),
))

HANOI_ADDR = Address(text="Số 12 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội", province_code="01")


def applicant(**kw: Any) -> Applicant:
    base = Applicant(full_name="Nguyễn Thị Hương", sex=Sex.FEMALE, date_of_birth=date(1995, 3, 14),
                     place_of_birth="Hà Nội", nationality="VN", ethnicity="Kinh", permanent_residence=HANOI_ADDR,
                     id_document=IdDocument(number="001195012345", issued_on=date(2021, 4, 1),
                                            issued_by="Cục CSQLHC về TTXH"),
                     father=Relative(full_name="Nguyễn Văn Hải", birth_year=1965),
                     mother=Relative(full_name="Trần Thị Lan", birth_year=1968), phone="0912345678")
    return msgspec.structs.replace(base, **kw)


def history(*, until_now: bool = True) -> tuple[ResidencePeriod, ...]:
    """Since March 2009 (14th birthday of 14/03/1995): Hà Nội, a spell in Đà Nẵng, Hà Nội again."""
    return (
        ResidencePeriod(from_month="2009-03", to_month="2013-08", address=HANOI_ADDR, occupation="Học sinh"),
        ResidencePeriod(from_month="2013-09", to_month="2017-06",
                        address=Address(text="Đà Nẵng", province_code="48"), occupation="Sinh viên"),
        ResidencePeriod(from_month="2017-06", to_month=None if until_now else "2020-01", address=HANOI_ADDR,
                        occupation="Kế toán", workplace="Công ty ABC"),
    )


def citizen(level: int = 2) -> Principal:
    return Principal(kind=PrincipalKind.USER, id=new_id(), level=level)


def staff(unit: uuid.UUID = DOJ, *roles: StaffRole) -> Principal:
    grants = tuple(StaffGrant(unit, r) for r in (roles or (StaffRole.HANDLER, StaffRole.SUPERVISOR)))
    return Principal(kind=PrincipalKind.USER, id=new_id(), level=2, grants=grants)


class FakeClock:
    def __init__(self, t: datetime | None = None) -> None:
        self.t = t or datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 09:00 in Hanoi

    def now(self) -> datetime:
        return self.t


class FakeRequests:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Request] = {}
        self.step_rows: list[Step] = []
        self.seq = 0
        self.notifier: FakeNotifier | None = None  # set by World: what ``save`` hands a notification to

    async def add(self, request: Request, first_step: Step) -> Request:
        self.seq += 1
        request = msgspec.structs.replace(request, ref=f"LLTP-{request.created_at.year}-{self.seq:06d}")
        self.rows[request.id] = request
        self.step_rows.append(first_step)
        return request

    async def get(self, request_id: uuid.UUID, *, for_update: bool = False) -> Request | None:
        return self.rows.get(request_id)

    async def save(self, request: Request, step: Step | None = None,
                   notification: Notification | None = None) -> None:
        if request.version != self.rows[request.id].version + 1:
            raise Conflict("judicial.concurrent_update")
        self.rows[request.id] = request
        if step is not None:
            self.step_rows.append(step)
        if notification is not None:  # as the PostgreSQL store does: the notifier's rows, same unit of work
            assert step is not None
            assert self.notifier is not None
            await self.notifier.notify(notification)

    async def delete_draft(self, request_id: uuid.UUID) -> None:
        if request_id in self.rows and self.rows[request_id].status.value == "draft":
            del self.rows[request_id]

    async def steps(self, request_id: uuid.UUID) -> list[Step]:
        return [s for s in self.step_rows if s.request_id == request_id]

    async def mine(self, requester_id: uuid.UUID, cursor: str | None, limit: int) -> Page[Request]:
        rows = sorted((r for r in self.rows.values() if r.requester_id == requester_id), key=lambda r: r.id,
                      reverse=True)
        if cursor:
            after = uuid.UUID(decode_cursor(cursor, 1)[0])
            rows = [r for r in rows if r.id < after]
        page = rows[:limit]
        return Page(items=page, next_cursor=encode_cursor(str(page[-1].id)) if len(rows) > limit else None)

    async def queue(self, f: QueueFilter, now: datetime, cursor: str | None, limit: int) -> Page[Request]:
        from domain.judicial.model import IN_PROCESS
        statuses = f.statuses or IN_PROCESS
        rows = [r for r in self.rows.values() if r.authority_unit_id in f.authority_unit_ids
                and r.status in statuses and (f.certificate_type is None or r.certificate_type is f.certificate_type)
                and (not f.overdue_only or r.overdue(now))]
        rows.sort(key=lambda r: (r.due_at or now, r.id))
        return Page(items=rows[:limit])

    async def queue_items(self, f: QueueFilter, now: datetime, cursor: str | None, limit: int) -> Page[QueueItem]:
        page = await self.queue(f, now, cursor, limit)
        return Page(items=[queue_item(r, now) for r in page.items], next_cursor=page.next_cursor)


class FakeCertificates:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Certificate] = {}

    async def add(self, certificate: Certificate) -> None:
        self.rows[certificate.id] = certificate

    async def get(self, certificate_id: uuid.UUID, *, for_update: bool = False) -> Certificate | None:
        return self.rows.get(certificate_id)

    async def by_request(self, request_id: uuid.UUID) -> Certificate | None:
        return next((c for c in self.rows.values() if c.request_id == request_id), None)

    async def by_verify_token(self, token: str) -> Certificate | None:
        return next((c for c in self.rows.values() if c.verify_token == token), None)

    async def mine(self, holder_id: uuid.UUID) -> list[Certificate]:
        return [c for c in self.rows.values() if c.holder_id == holder_id]

    async def save_status(self, certificate: Certificate) -> None:
        self.rows[certificate.id] = certificate


class FakeStatusLists:
    SIZE = 131_072

    def __init__(self) -> None:
        self.lists: dict[tuple[str, StatusPurpose], uuid.UUID] = {}
        self.used: set[tuple[uuid.UUID, int]] = set()
        self.bits: dict[tuple[uuid.UUID, int], bool] = {}

    async def allocate(self, authority_code: str, purpose: StatusPurpose) -> StatusRef:
        list_id = self.lists.setdefault((authority_code, purpose), new_id())
        while True:
            index = secrets.randbelow(self.SIZE)
            if (list_id, index) not in self.used:
                self.used.add((list_id, index))
                return StatusRef(list_id=list_id, purpose=purpose, index=index)

    async def set(self, ref: StatusRef, value: bool) -> None:
        self.bits[(ref.list_id, ref.index)] = value


class FakeShareCodes:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, ShareCode] = {}

    async def add(self, share: ShareCode) -> None:
        self.rows[share.id] = share

    async def by_hash(self, code_hash: bytes, *, for_update: bool = False) -> ShareCode | None:
        return next((s for s in self.rows.values() if s.code_hash == code_hash), None)

    async def get(self, share_id: uuid.UUID, *, for_update: bool = False) -> ShareCode | None:
        return self.rows.get(share_id)

    async def save(self, share: ShareCode) -> None:
        self.rows[share.id] = share

    async def for_holder(self, holder_id: uuid.UUID) -> list[ShareCode]:
        return [s for s in self.rows.values() if s.holder_id == holder_id]


class FakeVerifications:
    def __init__(self) -> None:
        self.rows: list[Verification] = []

    async def add(self, verification: Verification) -> None:
        self.rows.append(verification)

    async def for_holder(self, holder_id: uuid.UUID, certificate_id: uuid.UUID | None = None,
                         limit: int = 100) -> list[Verification]:
        return [v for v in reversed(self.rows) if v.holder_id == holder_id
                and (certificate_id is None or v.certificate_id == certificate_id)][:limit]


class FakeCrossCheck:
    def __init__(self) -> None:
        self.answer = CrossCheckOutcome.CLEAR
        self.result: CrossCheckResult | None = None
        self.calls: list[tuple[Applicant, CertificateType]] = []
        self.clock: FakeClock | None = None

    async def check(self, applicant: Applicant, certificate_type: CertificateType) -> CrossCheckResult:
        self.calls.append((applicant, certificate_type))
        if self.result is not None:
            return self.result
        return CrossCheckResult(outcome=self.answer, sources=("police",),
                                checked_at=self.clock.now() if self.clock else datetime.now(UTC))


class FakePopulation:
    def __init__(self) -> None:
        self.profiles: dict[uuid.UUID, Applicant] = {}

    async def profile(self, user_id: uuid.UUID) -> Applicant | None:
        return self.profiles.get(user_id)


class FakeSigner:
    def __init__(self) -> None:
        self.signed: list[tuple[CertificateContent, tuple[StatusRef, ...]]] = []

    def sign(self, content: CertificateContent, status: tuple[StatusRef, ...]) -> str:
        self.signed.append((content, status))
        return f"header.{content.number}.sig"


class FakeRenderer:
    async def render(self, content: CertificateContent) -> bytes:
        return b"%PDF-1.7 " + content.number.encode()


class FakeBlobs:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    async def put(self, key: str, data: bytes) -> None:
        self.data[key] = data

    async def get(self, key: str) -> bytes | None:
        return self.data.get(key)


class FakeNotifier:
    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def notify(self, notification: Notification) -> None:
        self.sent.append(notification)


class FakeAttempts:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    async def hit(self, key: str, limit: int, window_seconds: int) -> int:
        self.counts[key] = self.counts.get(key, 0) + 1
        return 0 if self.counts[key] <= limit else window_seconds


class World:
    """All the fakes and the ``Deps`` over them."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.requests = FakeRequests()
        self.certificates = FakeCertificates()
        self.status_lists = FakeStatusLists()
        self.share_codes = FakeShareCodes()
        self.verifications = FakeVerifications()
        self.cross_check = FakeCrossCheck()
        self.cross_check.clock = self.clock
        self.population = FakePopulation()
        self.signer = FakeSigner()
        self.blobs = FakeBlobs()
        self.notifier = FakeNotifier()
        self.requests.notifier = self.notifier
        self.attempts = FakeAttempts()
        self.deps = Deps(requests=self.requests, certificates=self.certificates, status_lists=self.status_lists,
                         share_codes=self.share_codes, verifications=self.verifications,
                         cross_check=self.cross_check, population=self.population, signer=self.signer,
                         renderer=FakeRenderer(), blobs=self.blobs, notifier=self.notifier, clock=self.clock,
                         calendar=WorkingCalendar(VietnamHolidays()), authorities=AUTHORITIES,
                         attempts=self.attempts, settings=Settings(verify_base_url="https://x.test/verify"))
