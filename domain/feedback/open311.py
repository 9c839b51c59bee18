"""Open311 GeoReport v2 on top of the feedback context: partner submissions and the mapping
between Open311's vocabulary and the domain's.

A partner-submitted report goes through the citizen's ``SubmitReport`` (routing, deadlines and
notifications are the same). Partners have no citizen account, so each partner key is represented
by one *partner reporter account* (a users row that can never log in, see the Postgres adapter);
the people behind a partner's request (email, name, phone) are kept apart, encrypted, and never
shown. The public never sees who reported.
"""

from __future__ import annotations

import math
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any, Protocol

import msgspec

from domain.errors import Forbidden, InvalidInput
from domain.feedback.model import Category, Datatype, Event, EventKind, Question, Report, Status
from domain.feedback.questions import validate_answers
from domain.feedback.usecases.citizen import NewReport, SubmitReport
from domain.feedback.usecases.common import Deps
from domain.identity.principal import Principal, PrincipalKind

MAX_WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
MAX_DESCRIPTION = 4000

# --- statuses --------------------------------------------------------------------------------------

# GeoReport v2 ``status`` filter values and the domain statuses behind them.
OPEN311_STATUSES: dict[str, tuple[Status, ...]] = {
    "open": (Status.PENDING, Status.TRANSFERRED, Status.IN_PROGRESS),
    "closed": (Status.HANDLED, Status.REJECTED, Status.DUPLICATE),
}

# Timeline events that change what a partner should show; notes, ratings, visibility and
# escalations are not status updates. Assignment is internal in the domain (it names a staff
# member), so FixMyStreet's "action_scheduled" is never derived from it; only public events count.
UPDATE_KINDS: tuple[EventKind, ...] = (
    EventKind.SUBMITTED, EventKind.ACKNOWLEDGED, EventKind.TRANSFERRED,
    EventKind.CATEGORY_CHANGED, EventKind.HANDLED, EventKind.REJECTED, EventKind.DUPLICATE, EventKind.REOPENED)

# Events whose text is the unit's public answer to the reporter (reply, rejection reason);
# other texts (transfer reasons, a reopening citizen's words) stay inside the app.
ANSWER_KINDS = frozenset({EventKind.HANDLED, EventKind.REJECTED, EventKind.DUPLICATE})

_FMS_BY_KIND: dict[EventKind, str] = {
    EventKind.SUBMITTED: "open",
    EventKind.ACKNOWLEDGED: "in_progress",
    EventKind.TRANSFERRED: "internal_referral",
    EventKind.HANDLED: "fixed",
    EventKind.DUPLICATE: "duplicate",
    EventKind.REOPENED: "open",
}


def fms_status(event: Event) -> str:
    """FixMyStreet's extended status for a timeline event (``servicerequestupdates``)."""
    if event.kind is EventKind.REJECTED:
        # Only the "outside our competence" reason means "not the council's responsibility".
        return ("not_councils_responsibility" if event.data.get("template") == "not_responsibility"
                else "no_further_action")
    if event.kind is EventKind.CATEGORY_CHANGED:
        return "internal_referral" if event.status is Status.TRANSFERRED else "in_progress"
    return _FMS_BY_KIND.get(event.kind, "open" if event.status in OPEN311_STATUSES["open"] else "closed")


def detailed_status(status: Status) -> str:
    return {Status.PENDING: "open", Status.TRANSFERRED: "internal_referral", Status.IN_PROGRESS: "in_progress",
            Status.HANDLED: "fixed", Status.REJECTED: "no_further_action", Status.DUPLICATE: "duplicate"}[status]


def parse_statuses(value: str) -> tuple[Status, ...]:
    """``open``, ``closed`` or both, comma separated."""
    out: list[Status] = []
    for part in filter(None, (p.strip() for p in value.split(","))):
        if part not in OPEN311_STATUSES:
            raise InvalidInput("open311.bad_status", field="status", rule="enum")
        out.extend(OPEN311_STATUSES[part])
    return tuple(dict.fromkeys(out))


# --- dates -----------------------------------------------------------------------------------------

MIN_YEAR, MAX_YEAR = 1900, 9000  # far wider than any real filter, far from datetime's limits


def parse_datetime(value: str, field: str, tz: Any) -> datetime:
    """W3C/ISO 8601. A date alone means midnight in Hanoi; a time needs its zone (``Z`` or offset)."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput("open311.bad_date", field=field, rule="format", expected="datetime") from None
    if parsed.tzinfo is None:
        if "T" in text or " " in text:
            raise InvalidInput("open311.date_needs_zone", field=field, rule="format", expected="datetime")
        parsed = parsed.replace(tzinfo=tz)
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:  # 9999-12-31T23:59:59+14:00 parses, but ± a window overflows
        raise InvalidInput("open311.bad_date", field=field, rule="range", min=MIN_YEAR, max=MAX_YEAR)
    return parsed


def window(start: datetime | None, end: datetime | None, now: datetime,
           span: timedelta = MAX_WINDOW) -> tuple[datetime, datetime]:
    """The requested-datetime window: at most ``span`` long, the most recent ``span`` by default."""
    if start is not None and end is not None:
        if end < start:
            raise InvalidInput("open311.bad_window", field="end_date", rule="after_start")
        if end - start > span:
            raise InvalidInput("open311.window_too_long", field="end_date", rule="max_span", days=span.days)
        return start, end
    if start is not None:
        return start, start + span
    if end is not None:
        return end - span, end
    return now - span, now


# --- service definitions ----------------------------------------------------------------------------

def _attr_error(code: str, rule: str, **params: Any) -> InvalidInput:
    return InvalidInput("open311.bad_attribute", field=f"attribute[{code}]", rule=rule, **params)


def _number(code: str, text: str) -> int | float:
    try:
        number = float(text)
    except ValueError:
        raise _attr_error(code, "type", expected="number") from None
    if not math.isfinite(number):
        raise _attr_error(code, "type", expected="number")
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def parse_attributes(questions: tuple[Question, ...], raw: dict[str, list[str]]) -> dict[str, Any]:
    """``attribute[code]=value`` form fields → answers typed as the category's questions expect,
    then checked by the same rules the citizen app applies (required, enum, lengths)."""
    by_code = {q.code: q for q in questions}
    answers: dict[str, Any] = {}
    for code, values in raw.items():
        question = by_code.get(code)
        if question is None:
            raise _attr_error(code, "unknown_field")
        values = [v for v in values if v != ""]
        if not values:
            continue
        if question.datatype is Datatype.MULTI:
            answers[code] = values
            continue
        if len(values) > 1:
            raise _attr_error(code, "single_value")
        answers[code] = _number(code, values[0]) if question.datatype is Datatype.NUMBER else values[0]
    try:
        return validate_answers(questions, answers)
    except InvalidInput as exc:
        # The shared rules name citizen-app fields ("answers.x"); partners know "attribute[x]".
        field = exc.field or ""
        code = field.removeprefix("answers.")
        raise _attr_error(code, exc.rule or "invalid", **exc.params) from None


# --- ports -----------------------------------------------------------------------------------------

class Place(msgspec.Struct, frozen=True):
    """A ward (or district) a partner named instead of coordinates: its centroid locates the report."""

    unit_id: uuid.UUID
    ward: bool
    lat: float
    lon: float


class Contact(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Who is behind a partner's request, as the partner told us (personal data: stored encrypted)."""

    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    device_id: str = ""

    @property
    def empty(self) -> bool:
        return not (self.email or self.first_name or self.last_name or self.phone or self.device_id)


class PartnerLink(msgspec.Struct, frozen=True, kw_only=True):
    report_id: uuid.UUID
    key_id: uuid.UUID
    token: str
    account_id: str | None
    contact: Contact
    media_url: str | None
    created_at: datetime


class Catalog(Protocol):
    async def get_by_code(self, code: str) -> Category | None: ...


class Partners(Protocol):
    async def reporter_account(self, key_id: uuid.UUID) -> uuid.UUID:
        """The account that stands for this partner as reporter (created on first use)."""
        ...

    async def add_link(self, link: PartnerLink) -> None: ...

    async def place_by_code(self, code: str) -> Place | None: ...

    async def place_in_address(self, address: str) -> Place | None: ...


# --- submitting -------------------------------------------------------------------------------------

class ServiceRequestIn(msgspec.Struct, frozen=True, kw_only=True):
    service_code: str
    lat: float | None = None
    lon: float | None = None
    address_string: str = ""
    address_id: str = ""
    attributes: dict[str, list[str]] = msgspec.field(default_factory=dict)
    description: str = ""
    media_url: str | None = None
    account_id: str | None = None
    contact: Contact = msgspec.field(default_factory=Contact)


class Submitted(msgspec.Struct, frozen=True):
    report: Report
    category: Category
    token: str


class SubmitServiceRequest:
    """POST requests: a partner files a report that is routed and tracked like a citizen's."""

    def __init__(self, deps: Deps, catalog: Catalog, partners: Partners) -> None:
        self.deps = deps
        self.catalog = catalog
        self.partners = partners

    async def _locate(self, cmd: ServiceRequestIn) -> tuple[float, float, uuid.UUID | None]:
        if cmd.lat is not None and cmd.lon is not None:
            return cmd.lat, cmd.lon, None
        if cmd.lat is not None or cmd.lon is not None:
            raise InvalidInput("open311.location_required", field="long" if cmd.lon is None else "lat",
                               rule="required")
        place: Place | None = None
        if cmd.address_id:
            place = await self.partners.place_by_code(cmd.address_id)
            if place is None:
                raise InvalidInput("open311.unknown_address_id", field="address_id", rule="unknown_place")
        elif cmd.address_string:
            place = await self.partners.place_in_address(cmd.address_string)
            if place is None:
                raise InvalidInput("open311.address_not_located", field="address_string", rule="not_located")
        if place is None:
            raise InvalidInput("open311.location_required", field="lat", rule="required")
        return place.lat, place.lon, place.unit_id if place.ward else None

    async def execute(self, partner: Principal, cmd: ServiceRequestIn) -> Submitted:
        if partner.kind is not PrincipalKind.PARTNER:
            raise Forbidden("open311.partner_required")
        category = await self.catalog.get_by_code(cmd.service_code)
        if category is None or not category.active:
            raise InvalidInput("open311.unknown_service", field="service_code", rule="unknown_service")
        lat, lon, ward_id = await self._locate(cmd)
        answers = parse_attributes(category.questions, cmd.attributes)
        reporter = await self.partners.reporter_account(partner.id)
        # The partner's reporter account submits: the use case keys the report to it.
        report = await SubmitReport(self.deps).execute(
            Principal(kind=PrincipalKind.PARTNER, id=reporter),
            NewReport(category_id=category.id, description=cmd.description, lat=lat, lon=lon,
                      address=cmd.address_string, ward_id=ward_id, answers=answers))
        token = secrets.token_urlsafe(18)
        await self.partners.add_link(PartnerLink(
            report_id=report.id, key_id=partner.id, token=token, account_id=cmd.account_id, contact=cmd.contact,
            media_url=cmd.media_url, created_at=report.created_at))
        return Submitted(report, category, token)


# --- reading ----------------------------------------------------------------------------------------

class RequestQuery(msgspec.Struct, frozen=True, kw_only=True):
    """GET requests. ``refs`` (service_request_id) overrides every other filter."""

    refs: tuple[str, ...] = ()
    category_ids: tuple[uuid.UUID, ...] = ()
    statuses: tuple[Status, ...] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    # The calling partner also sees its own requests that are not published.
    viewer_key_id: uuid.UUID | None = None
    offset: int = 0
    limit: int = MAX_RESULTS


class RequestView(msgspec.Struct, frozen=True, kw_only=True):
    """One report as Open311 may show it, with what the joins add."""

    report: Report
    service_code: str
    service_name_vi: str
    service_name_en: str
    agency_vi: str
    agency_en: str
    address_id: str | None
    own: bool
    media_url: str | None
    photo_id: uuid.UUID | None

    @property
    def full(self) -> bool:
        """Description, answer and media only for public reports or the partner's own."""
        return self.report.is_public or self.own


class UpdateView(msgspec.Struct, frozen=True, kw_only=True):
    event: Event
    report: Report
    own: bool
