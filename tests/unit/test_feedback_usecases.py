"""Feedback use cases against in-memory fakes of the ports (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.feedback.calendar import HolidayCalendar, WorkingCalendar
from domain.feedback.geo import BBox
from domain.feedback.model import (
    Attachment,
    Category,
    Datatype,
    Event,
    Level,
    Question,
    QuestionValue,
    Rating,
    Report,
    Sla,
    Status,
    UnitKind,
    UnitRef,
)
from domain.feedback.ports import Overdue, ProcessedImage
from domain.feedback.states import TRANSITIONS, Action, transition
from domain.feedback.usecases import admin, citizen, escalation, staff
from domain.feedback.usecases.common import Deps
from domain.identity.principal import Principal, PrincipalKind, StaffGrant, StaffRole
from domain.notifications.model import Notification
from domain.shared.ids import new_id


class NoHolidays(HolidayCalendar):
    def is_holiday(self, day: date) -> bool:
        return False

    def is_weekend_workday(self, day: date) -> bool:
        return False


class FakeClock:
    def __init__(self) -> None:
        self.t = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday 09:00 in Hanoi

    def now(self) -> datetime:
        return self.t


class FakeCategories:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Category] = {}

    async def get(self, category_id: uuid.UUID) -> Category | None:
        return self.rows.get(category_id)

    async def code_taken(self, code: str, except_id: uuid.UUID | None = None) -> bool:
        return any(c.code == code and c.id != except_id for c in self.rows.values())

    async def add(self, category: Category) -> None:
        self.rows[category.id] = category

    update = add


class FakeUnits:
    def __init__(self) -> None:
        self.units: dict[uuid.UUID, tuple[UnitRef, float, float]] = {}
        self.grants: set[tuple[uuid.UUID, uuid.UUID, str]] = set()

    def add(self, kind: UnitKind, lat: float, lon: float, parent: uuid.UUID | None = None) -> uuid.UUID:
        uid = new_id()
        self.units[uid] = (UnitRef(uid, kind, parent), lat, lon)
        return uid

    async def get(self, unit_id: uuid.UUID) -> UnitRef | None:
        found = self.units.get(unit_id)
        return found[0] if found else None

    def _nearest(self, kind: UnitKind, lat: float, lon: float, parent: uuid.UUID | None = None) -> UnitRef | None:
        rows = [(abs(la - lat) + abs(lo - lon), u) for u, la, lo in self.units.values()
                if u.kind is kind and (parent is None or u.parent_id == parent)]
        return min(rows, key=lambda r: r[0])[1] if rows else None

    async def locate(self, lat: float, lon: float) -> UnitRef | None:
        district = self._nearest(UnitKind.DISTRICT, lat, lon)
        return district and (self._nearest(UnitKind.WARD, lat, lon, district.id) or district)

    async def staff_roles(self, user_id: uuid.UUID, unit_id: uuid.UUID) -> frozenset[str]:
        return frozenset(r for u, un, r in self.grants if u == user_id and un == unit_id)

    async def supervisors(self, unit_id: uuid.UUID) -> list[uuid.UUID]:
        return [u for u, un, r in self.grants if un == unit_id and r == "supervisor"]


class FakeReports:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Report] = {}
        self.events: list[Event] = []
        self.followers: set[tuple[uuid.UUID, uuid.UUID]] = set()
        self.files: list[Attachment] = []
        self.ratings: dict[uuid.UUID, Rating] = {}
        self.escalations: set[tuple[uuid.UUID, str, datetime]] = set()
        self.seq = 0

    async def add(self, report: Report, first_event: Event | None = None) -> None:
        if first_event is not None:
            self.events.append(first_event)
        if not report.ref:
            self.seq += 1
            report.ref = f"PA-{report.created_at.year}-{self.seq:06d}"
        self.rows[report.id] = msgspec.structs.replace(report)

    async def get(self, report_id: uuid.UUID, *, for_update: bool = False) -> Report | None:
        found = self.rows.get(report_id)
        return msgspec.structs.replace(found) if found else None

    async def save(self, report: Report) -> None:
        await self.add(report)

    async def add_event(self, event: Event) -> None:
        self.events.append(event)

    async def add_follower(self, report_id: uuid.UUID, user_id: uuid.UUID, at: datetime) -> bool:
        new = (report_id, user_id) not in self.followers
        self.followers.add((report_id, user_id))
        return new

    async def remove_follower(self, report_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        found = (report_id, user_id) in self.followers
        self.followers.discard((report_id, user_id))
        return found

    async def follower_ids(self, report_id: uuid.UUID) -> list[uuid.UUID]:
        return [u for r, u in self.followers if r == report_id]

    async def add_attachment(self, attachment: Attachment) -> None:
        self.files.append(attachment)

    async def attachments(self, report_id: uuid.UUID) -> list[Attachment]:
        return [a for a in self.files if a.report_id == report_id]

    async def mark_attachments_used(self, ids: list[uuid.UUID]) -> None:
        self.files = [msgspec.structs.replace(a, used=True) if a.id in ids else a for a in self.files]

    async def add_rating(self, rating: Rating) -> bool:
        if rating.report_id in self.ratings:
            return False
        self.ratings[rating.report_id] = rating
        return True

    async def nearby(self, category_id: uuid.UUID, box: BBox, since: datetime, limit: int) -> list[Report]:
        return [r for r in self.rows.values() if r.category_id == category_id and r.created_at >= since
                and box[0] <= r.location.lat <= box[1] and box[2] <= r.location.lon <= box[3]][:limit]

    async def overdue(self, now: datetime, limit: int) -> list[Overdue]:
        out = []
        for r in self.rows.values():
            if r.next_deadline is None or r.next_deadline >= now:
                continue
            awaiting = r.status in (Status.PENDING, Status.TRANSFERRED)
            for kind, due in (("acknowledge", r.ack_due_at), ("handle", r.due_at)):
                if due < now and (awaiting or kind == "handle") and (r.id, kind, due) not in self.escalations:
                    out.append(Overdue(r, kind, due))
        return out[:limit]

    async def record_escalation(self, report_id: uuid.UUID, deadline: str, due_at: datetime, at: datetime) -> bool:
        key = (report_id, deadline, due_at)
        new = key not in self.escalations
        self.escalations.add(key)
        return new


class FakeNotifier:
    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def notify(self, notification: Notification) -> None:
        self.sent.append(notification)


class FakeImages:
    async def process(self, data: bytes) -> ProcessedImage:
        if not data.startswith(b"\xff\xd8\xff"):
            raise InvalidInput("feedback.unsupported_image", field="file", rule="image_type")
        return ProcessedImage("image/jpeg", b"clean" + data[3:], b"thumb", 10, 10)


class FakeBlobs:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    async def put(self, key: str, data: bytes) -> None:
        self.data[key] = data

    async def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    async def delete(self, key: str) -> None:
        self.data.pop(key, None)


class World:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.categories, self.units, self.reports = FakeCategories(), FakeUnits(), FakeReports()
        self.notifier, self.blobs = FakeNotifier(), FakeBlobs()
        self.deps = Deps(reports=self.reports, categories=self.categories, units=self.units,  # type: ignore[arg-type]
                         notifier=self.notifier, clock=self.clock, calendar=WorkingCalendar(NoHolidays()),
                         images=FakeImages(), blobs=self.blobs)
        self.district = self.units.add(UnitKind.DISTRICT, 21.03, 105.85)
        self.far_district = self.units.add(UnitKind.DISTRICT, 21.20, 105.40)
        self.ward = self.units.add(UnitKind.WARD, 21.031, 105.851, self.district)
        self.dept = self.units.add(UnitKind.DEPARTMENT, 0, 0)
        self.category = Category(id=new_id(), code="ROAD", name_vi="Đường", name_en="Road", sla=Sla(16, 40),
                                 questions=(Question(code="size", datatype=Datatype.SINGLE, required=True,
                                                     label_vi="Cỡ", label_en="Size",
                                                     values=(QuestionValue("s", "Nhỏ", "Small"),)),))
        self.urgent = Category(id=new_id(), code="FLOOD", name_vi="Ngập", name_en="Flood", sla=Sla(16, 40),
                               default_level=Level.URGENT, department_id=self.dept, route_to_department=True)
        self.categories.rows = {self.category.id: self.category, self.urgent.id: self.urgent}
        self.citizen = user()
        self.handler = self.staff(self.ward, StaffRole.HANDLER)
        self.supervisor = self.staff(self.ward, StaffRole.SUPERVISOR)

    def staff(self, unit: uuid.UUID, role: StaffRole) -> Principal:
        p = user(grants=(StaffGrant(unit, role),))
        self.units.grants.add((p.id, unit, role.value))
        return p

    async def submit(self, **kw: Any) -> Report:
        cmd = citizen.NewReport(**{"category_id": self.category.id, "description": "Ổ gà lớn", "lat": 21.031,
                                   "lon": 105.851, "answers": {"size": "s"}, **kw})
        return await citizen.SubmitReport(self.deps).execute(self.citizen, cmd)


def user(**kw: Any) -> Principal:
    return Principal(kind=PrincipalKind.USER, id=new_id(), level=2, **kw)


@pytest.fixture
def w() -> World:
    return World()


async def test_submit_routes_to_nearest_ward_with_deadlines(w: World) -> None:
    r = await w.submit()
    assert r.unit_id == w.ward
    assert r.ward_id == w.ward
    assert r.status is Status.PENDING
    assert r.ref == "PA-2026-000001"
    assert r.ack_due_at == datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Wed 09:00 + 8 wh = Thu 09:00
    assert r.due_at == datetime(2026, 11, 27, 2, 0, tzinfo=UTC)      # 16 wh = Fri 09:00
    assert [e.kind.value for e in w.reports.events] == ["submitted"]


async def test_urgent_category_routes_to_its_department_with_4_hours(w: World) -> None:
    r = await w.submit(category_id=w.urgent.id, answers={})
    assert r.unit_id == w.dept
    assert r.level is Level.URGENT
    assert r.due_at == datetime(2026, 11, 25, 7, 30, tzinfo=UTC)  # 09:00–12:00 + 13:30–14:30 Hanoi


@pytest.mark.parametrize(("kw", "field", "rule"), [
    ({"lat": 10.77}, "lat", "outside_hanoi"),
    ({"lon": 106.5}, "lon", "outside_hanoi"),
    ({"answers": {}}, "answers.size", "required"),
    ({"answers": {"size": "xl"}}, "answers.size", "enum"),
    ({"answers": {"size": "s", "colour": "red"}}, "answers.colour", "unknown_field"),
    ({"category_id": uuid.uuid4()}, "category_id", "unknown_category"),
])
async def test_submit_rejects_bad_input_and_writes_nothing(w: World, kw: dict[str, Any], field: str,
                                                           rule: str) -> None:
    with pytest.raises(InvalidInput) as err:
        await w.submit(**kw)
    assert (err.value.field, err.value.rule) == (field, rule)
    assert not w.reports.rows


async def test_full_flow_notifies_reporter_and_followers(w: World) -> None:
    r = await w.submit()
    follower = user()
    assert await citizen.FollowReport(w.deps).execute(follower, r.id)
    await staff.Acknowledge(w.deps).execute(w.handler, r.id)
    await staff.Assign(w.deps).execute(w.supervisor, r.id, w.handler.id)
    with pytest.raises(InvalidInput):
        await staff.Handle(w.deps).execute(w.handler, r.id, "Đã vá", [])
    photo = b"\xff\xd8\xff" + b"x" * 10
    evidence, created = await staff.AddEvidence(w.deps).execute(w.handler, r.id, photo)
    assert created
    assert (await staff.AddEvidence(w.deps).execute(w.handler, r.id, photo)) == (evidence, False)  # retry
    done = await staff.Handle(w.deps).execute(w.handler, r.id, "Đã vá", [evidence.id])
    assert done.status is Status.HANDLED
    assert done.is_public
    templates = [(n.template, n.user_id) for n in w.notifier.sent]
    assert ("feedback.acknowledged", w.citizen.id) in templates
    assert ("feedback.handled", follower.id) in templates
    assert not any(t == "feedback.assigned" for t, _ in templates)  # assignment is internal
    rating = await citizen.RateReport(w.deps).execute(w.citizen, r.id, 5, "Tốt")
    assert rating.score == 5
    with pytest.raises(Conflict):
        await citizen.RateReport(w.deps).execute(w.citizen, r.id, 4, "again")


async def test_other_unit_and_other_citizen_get_not_found(w: World) -> None:
    r = await w.submit()
    outsider = w.staff(w.far_district, StaffRole.SUPERVISOR)
    with pytest.raises(NotFound):
        await staff.Acknowledge(w.deps).execute(outsider, r.id)
    with pytest.raises(NotFound):
        await citizen.RateReport(w.deps).execute(user(), r.id, 5, "")


async def test_assign_only_to_handlers_and_handlers_only_self(w: World) -> None:
    r = await w.submit()
    other_handler = w.staff(w.ward, StaffRole.HANDLER)
    with pytest.raises(Forbidden):
        await staff.Assign(w.deps).execute(w.handler, r.id, other_handler.id)
    with pytest.raises(InvalidInput):
        await staff.Assign(w.deps).execute(w.supervisor, r.id, w.supervisor.id)
    assigned = await staff.Assign(w.deps).execute(w.handler, r.id, w.handler.id)
    assert assigned.status is Status.IN_PROGRESS
    assert assigned.acknowledged_at is not None
    # Taking a pending report on by assignment tells the reporter, without naming the assignee.
    assert [(e.kind.value, e.public) for e in w.reports.events[-2:]] == [("acknowledged", True), ("assigned", False)]
    assert [n.template for n in w.notifier.sent] == ["feedback.acknowledged"]


async def test_transfer_resets_acknowledgement_and_moves_queue(w: World) -> None:
    r = await w.submit()
    w.clock.t += timedelta(hours=3)
    moved = await staff.Transfer(w.deps).execute(w.handler, r.id, w.far_district, "Không thuộc địa bàn")
    assert moved.status is Status.TRANSFERRED
    assert moved.unit_id == w.far_district
    assert moved.ack_due_at == datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
    with pytest.raises(NotFound):  # the old unit has lost it
        await staff.Acknowledge(w.deps).execute(w.handler, r.id)
    new_staff = w.staff(w.far_district, StaffRole.HANDLER)
    rejected = await staff.Reject(w.deps).execute(new_staff, r.id, "Đã được xử lý trước đó", "not_found_on_site")
    assert rejected.status is Status.REJECTED
    with pytest.raises(Conflict):
        await staff.Acknowledge(w.deps).execute(new_staff, r.id)


async def test_change_category_reroutes(w: World) -> None:
    r = await w.submit()
    changed = await staff.ChangeCategory(w.deps).execute(w.handler, r.id, w.urgent.id, None, "Ngập chứ không phải ổ gà")
    assert changed.unit_id == w.dept
    assert changed.status is Status.TRANSFERRED
    assert changed.level is Level.URGENT


async def test_reopen_within_window_only(w: World) -> None:
    r = await w.submit()
    await staff.Acknowledge(w.deps).execute(w.handler, r.id)
    ev, _ = await staff.AddEvidence(w.deps).execute(w.handler, r.id, b"%PDF-1.4 minimal")
    assert ev.content_type == "application/pdf"
    await staff.Handle(w.deps).execute(w.handler, r.id, "Xong", [ev.id])
    w.clock.t += timedelta(days=2)
    reopened = await citizen.ReopenReport(w.deps).execute(w.citizen, r.id, "Vẫn còn ổ gà")
    assert reopened.status is Status.IN_PROGRESS
    assert reopened.reopen_count == 1
    ev2, _ = await staff.AddEvidence(w.deps).execute(w.handler, r.id, b"%PDF-1.4 again")
    await staff.Handle(w.deps).execute(w.handler, r.id, "Đã vá lại", [ev2.id])
    w.clock.t += timedelta(days=8)
    with pytest.raises(Conflict):
        await citizen.ReopenReport(w.deps).execute(w.citizen, r.id, "Lại hỏng")


async def test_photos_limited_and_checked(w: World) -> None:
    r = await w.submit()
    for i in range(5):
        await citizen.AddPhoto(w.deps).execute(w.citizen, r.id, b"\xff\xd8\xff" + bytes([i]) * 10)
    # Re-sending one of the five is a retry, not a sixth photo.
    assert not (await citizen.AddPhoto(w.deps).execute(w.citizen, r.id, b"\xff\xd8\xff" + bytes([0]) * 10))[1]
    with pytest.raises(Conflict):
        await citizen.AddPhoto(w.deps).execute(w.citizen, r.id, b"\xff\xd8\xff")
    r2 = await w.submit()
    with pytest.raises(InvalidInput):
        await citizen.AddPhoto(w.deps).execute(w.citizen, r2.id, b"GIF89a")
    with pytest.raises(NotFound):
        await citizen.AddPhoto(w.deps).execute(user(), r2.id, b"\xff\xd8\xff")


async def test_duplicates_and_mark_duplicate(w: World) -> None:
    first = await w.submit()
    cands = await citizen.FindDuplicates(w.deps).execute(w.category.id, 21.0314, 105.8512)
    assert [c.report.id for c in cands] == [first.id]
    assert cands[0].distance_m < 100
    assert await citizen.FindDuplicates(w.deps).execute(w.category.id, 21.04, 105.851) == []
    second_reporter = user()
    second = await citizen.SubmitReport(w.deps).execute(second_reporter, citizen.NewReport(
        category_id=w.category.id, description="Ổ gà", lat=21.031, lon=105.851, answers={"size": "s"}))
    dup = await staff.MarkDuplicate(w.deps).execute(w.handler, second.id, first.id)
    assert dup.status is Status.DUPLICATE
    assert second_reporter.id in await w.reports.follower_ids(first.id)
    with pytest.raises(InvalidInput):
        await staff.MarkDuplicate(w.deps).execute(w.handler, first.id, first.id)


async def test_escalation_once_per_report_and_deadline(w: World) -> None:
    r = await w.submit()
    job = escalation.EscalateOverdue(w.deps)
    assert await job.execute() == 0
    w.clock.t += timedelta(days=1, hours=1)  # Thursday 10:00: acknowledgement (Thu 09:00) is overdue
    assert await job.execute() == 1
    assert await job.execute() == 0
    sent = [n for n in w.notifier.sent if n.template == "feedback.overdue"]
    assert [n.user_id for n in sent] == [w.supervisor.id]
    assert sent[0].params["deadline"] == "acknowledge"
    await staff.Acknowledge(w.deps).execute(w.handler, r.id)
    w.clock.t += timedelta(days=3)  # the handling deadline (Fri 09:00) has passed as well
    assert await job.execute() == 1
    assert [n.params["deadline"] for n in w.notifier.sent if n.template == "feedback.overdue"] == [
        "acknowledge", "handle"]


async def test_admin_saves_categories(w: World) -> None:
    data = admin.CategoryInput(code="NEW", name_vi="Mới", name_en="New", sla=Sla(8, 24))
    with pytest.raises(Forbidden):
        await admin.SaveCategory(w.deps).execute(user(), data)
    boss = user(city_admin=True)
    created = await admin.SaveCategory(w.deps).execute(boss, data)
    with pytest.raises(Conflict):
        await admin.SaveCategory(w.deps).execute(boss, data)
    bad = admin.CategoryInput(code="X", name_vi="X", name_en="X", sla=Sla(8, 24), questions=(
        Question(code="q", datatype=Datatype.SINGLE, label_vi="q", label_en="q"),))
    with pytest.raises(InvalidInput):
        await admin.SaveCategory(w.deps).execute(boss, bad)
    assert created.id in w.categories.rows


def test_state_machine_table() -> None:
    assert transition(Action.ACKNOWLEDGE, Status.TRANSFERRED) is Status.IN_PROGRESS
    assert transition(Action.NOTE, Status.HANDLED) is Status.HANDLED
    for action, (sources, _) in TRANSITIONS.items():
        for status in set(Status) - sources:
            with pytest.raises(Conflict):
                transition(action, status)
