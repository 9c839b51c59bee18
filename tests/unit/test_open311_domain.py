"""Open311 mapping and the partner submission use case against in-memory fakes; XML rendering."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from api.feedback.open311.render import iso, split_name, to_xml
from api.platform.problems import ProblemError
from domain.errors import Forbidden, InvalidInput
from domain.feedback.model import (
    ActorKind,
    Category,
    Datatype,
    Event,
    EventKind,
    Question,
    QuestionValue,
    Status,
)
from domain.feedback.open311 import (
    Contact,
    PartnerLink,
    Place,
    ServiceRequestIn,
    SubmitServiceRequest,
    fms_status,
    parse_attributes,
    parse_datetime,
    parse_statuses,
    window,
)
from domain.identity.principal import Principal, PrincipalKind
from domain.shared.ids import new_id
from domain.shared.time import HANOI
from tests.unit.test_feedback_usecases import World, user

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
QUESTIONS = (
    Question(code="depth", datatype=Datatype.NUMBER, required=True, label_vi="Sâu", label_en="Depth"),
    Question(code="when", datatype=Datatype.DATETIME, label_vi="Lúc", label_en="When"),
    Question(code="kinds", datatype=Datatype.MULTI, label_vi="Loại", label_en="Kinds",
             values=(QuestionValue("a", "A", "A"), QuestionValue("b", "B", "B"))),
)


def event(kind: EventKind, status: Status, **data: str) -> Event:
    return Event(id=new_id(), report_id=new_id(), kind=kind, status=status, actor_kind=ActorKind.STAFF,
                 actor_id=None, public=True, data=data, created_at=NOW)


@pytest.mark.parametrize(("kind", "status", "data", "expected"), [
    (EventKind.SUBMITTED, Status.PENDING, {}, "open"),
    (EventKind.ACKNOWLEDGED, Status.IN_PROGRESS, {}, "in_progress"),
    (EventKind.TRANSFERRED, Status.TRANSFERRED, {}, "internal_referral"),
    (EventKind.CATEGORY_CHANGED, Status.TRANSFERRED, {}, "internal_referral"),
    (EventKind.CATEGORY_CHANGED, Status.IN_PROGRESS, {}, "in_progress"),
    (EventKind.HANDLED, Status.HANDLED, {}, "fixed"),
    (EventKind.DUPLICATE, Status.DUPLICATE, {}, "duplicate"),
    (EventKind.REJECTED, Status.REJECTED, {"template": "not_responsibility"}, "not_councils_responsibility"),
    (EventKind.REJECTED, Status.REJECTED, {"template": "insufficient_info"}, "no_further_action"),
    (EventKind.REJECTED, Status.REJECTED, {}, "no_further_action"),
    (EventKind.REOPENED, Status.IN_PROGRESS, {}, "open"),
])
def test_fixmystreet_statuses(kind: EventKind, status: Status, data: dict[str, str], expected: str) -> None:
    assert fms_status(event(kind, status, **data)) == expected


def test_status_filter() -> None:
    assert parse_statuses("open") == (Status.PENDING, Status.TRANSFERRED, Status.IN_PROGRESS)
    assert set(parse_statuses("open, closed")) == set(Status)
    assert parse_statuses("") == ()
    with pytest.raises(InvalidInput) as exc:
        parse_statuses("open,pending")
    assert exc.value.field == "status"


def test_dates_and_windows() -> None:
    assert parse_datetime("2026-11-01T00:00:00Z", "start_date", HANOI) == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_datetime("2026-11-01", "start_date", HANOI) == datetime(2026, 11, 1, tzinfo=HANOI)
    for bad in ("2026-11-01T00:00:00", "01/11/2026", "soon"):
        with pytest.raises(InvalidInput):
            parse_datetime(bad, "start_date", HANOI)
    assert window(None, None, NOW) == (NOW - timedelta(days=90), NOW)
    start = NOW - timedelta(days=10)
    assert window(start, None, NOW) == (start, start + timedelta(days=90))
    assert window(None, NOW, NOW) == (NOW - timedelta(days=90), NOW)
    assert window(start, NOW, NOW) == (start, NOW)
    with pytest.raises(InvalidInput) as too_long:
        window(NOW - timedelta(days=91), NOW, NOW)
    assert too_long.value.rule == "max_span"
    with pytest.raises(InvalidInput):
        window(NOW, start, NOW)


def test_attributes_are_typed_then_checked_by_the_shared_rules() -> None:
    answers = parse_attributes(QUESTIONS, {"depth": ["35"], "kinds": ["a", "b"], "when": ["2026-11-20T22:30:00+07:00"]})
    assert answers == {"depth": 35, "kinds": ["a", "b"], "when": "2026-11-20T22:30:00+07:00"}
    assert parse_attributes(QUESTIONS, {"depth": ["2.5"]}) == {"depth": 2.5}
    for raw, field, rule in [({}, "attribute[depth]", "required"),
                             ({"depth": ["deep"]}, "attribute[depth]", "type"),
                             ({"depth": ["nan"]}, "attribute[depth]", "type"),
                             ({"depth": ["1", "2"]}, "attribute[depth]", "single_value"),
                             ({"depth": ["1"], "kinds": ["c"]}, "attribute[kinds]", "enum"),
                             ({"depth": ["1"], "when": ["yesterday"]}, "attribute[when]", "format"),
                             ({"depth": ["1"], "colour": ["red"]}, "attribute[colour]", "unknown_field")]:
        with pytest.raises(InvalidInput) as exc:
            parse_attributes(QUESTIONS, raw)
        assert (exc.value.field, exc.value.rule) == (field, rule)


class FakeCatalog:
    def __init__(self, *categories: Category) -> None:
        self.by_code = {c.code: c for c in categories}

    async def get_by_code(self, code: str) -> Category | None:
        return self.by_code.get(code)


class FakePartners:
    def __init__(self, places: dict[str, Place]) -> None:
        self.accounts: dict[uuid.UUID, uuid.UUID] = {}
        self.links: list[PartnerLink] = []
        self.places = places

    async def reporter_account(self, key_id: uuid.UUID) -> uuid.UUID:
        return self.accounts.setdefault(key_id, new_id())

    async def add_link(self, link: PartnerLink) -> None:
        self.links.append(link)

    async def place_by_code(self, code: str) -> Place | None:
        return self.places.get(code)

    async def place_in_address(self, address: str) -> Place | None:
        return next((p for name, p in self.places.items() if name in address), None)


@pytest.fixture
def setup() -> tuple[World, SubmitServiceRequest, FakePartners]:
    w = World()
    ward = Place(w.ward, True, 21.031, 105.851)
    partners = FakePartners({"W1": ward, "Phúc Xá": ward})
    return w, SubmitServiceRequest(w.deps, FakeCatalog(w.category), partners), partners


PARTNER = Principal(kind=PrincipalKind.PARTNER, id=new_id())


async def test_partner_request_goes_through_the_citizen_use_case(setup: tuple[World, SubmitServiceRequest,
                                                                              FakePartners]) -> None:
    w, use_case, partners = setup
    contact = Contact(email="a@b.vn", phone="0912345678")
    done = await use_case.execute(PARTNER, ServiceRequestIn(
        service_code="ROAD", lat=21.031, lon=105.851, attributes={"size": ["s"]}, description="Ổ gà",
        media_url="https://x.example/1.jpg", account_id="u-1", contact=contact))
    report = done.report
    assert report.unit_id == w.ward
    assert report.answers == {"size": "s"}
    assert report.reporter_id == partners.accounts[PARTNER.id]  # the partner's account, not a citizen
    assert report.ack_due_at > report.created_at
    (link,) = partners.links
    assert (link.report_id, link.key_id, link.token, link.contact) == (report.id, PARTNER.id, done.token, contact)
    again = await use_case.execute(PARTNER, ServiceRequestIn(service_code="ROAD", address_id="W1",
                                                             attributes={"size": ["s"]}))
    assert again.report.reporter_id == report.reporter_id
    assert again.report.ward_id == w.ward
    by_text = await use_case.execute(PARTNER, ServiceRequestIn(service_code="ROAD", address_string="12 Phúc Xá",
                                                               attributes={"size": ["s"]}))
    assert by_text.report.address == "12 Phúc Xá"


@pytest.mark.parametrize(("cmd", "field"), [
    ({"service_code": "NOPE", "lat": 21.031, "lon": 105.851}, "service_code"),
    ({"service_code": "ROAD"}, "lat"),
    ({"service_code": "ROAD", "lat": 21.031}, "long"),
    ({"service_code": "ROAD", "address_id": "W9"}, "address_id"),
    ({"service_code": "ROAD", "address_string": "nowhere"}, "address_string"),
    ({"service_code": "ROAD", "lat": 10.7, "lon": 106.7, "attributes": {"size": ["s"]}}, "lat"),
    ({"service_code": "ROAD", "lat": 21.031, "lon": 105.851}, "attribute[size]"),
])
async def test_bad_requests_write_nothing(setup: tuple[World, SubmitServiceRequest, FakePartners],
                                          cmd: dict[str, object], field: str) -> None:
    w, use_case, partners = setup
    with pytest.raises(InvalidInput) as exc:
        await use_case.execute(PARTNER, ServiceRequestIn(**cmd))  # type: ignore[arg-type]
    assert exc.value.field == field
    assert not partners.links
    assert not w.reports.rows


async def test_only_partners_may_submit(setup: tuple[World, SubmitServiceRequest, FakePartners]) -> None:
    _, use_case, _ = setup
    with pytest.raises(Forbidden):
        await use_case.execute(user(), ServiceRequestIn(service_code="ROAD", lat=21.031, lon=105.851))


def test_xml_is_escaped_and_well_formed() -> None:
    body = to_xml("service_requests", "request", [{"description": "<b>&\"x\"</b>\x01 Hà Nội", "lat": 21.5,
                                                   "media_url": None, "ok": True, "notes": [{"status": "open"}]}])
    root = ET.fromstring(body)  # noqa: S314 - parsing our own output
    assert root.findtext("request/description") == "<b>&\"x\"</b> Hà Nội"
    assert root.findtext("request/lat") == "21.5"
    assert root.findtext("request/media_url") == ""  # present and empty
    assert root.findtext("request/ok") == "true"
    assert root.findtext("request/notes/note/status") == "open"


def test_names_and_dates() -> None:
    assert split_name("services.xml") == ("services", "xml")
    assert split_name("PA-2026-000001.json") == ("PA-2026-000001", "json")
    for bad in ("services", "services.csv", ".json"):
        with pytest.raises(ProblemError) as exc:
            split_name(bad)
        assert exc.value.status == 400
    assert iso(datetime(2026, 11, 25, 2, 0, tzinfo=UTC)) == "2026-11-25T09:00:00+07:00"
    assert iso(None) is None
