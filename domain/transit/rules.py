"""Business rules of transit: prices by date, eligibility, validity periods, card numbers, trips.

Business dates are Hanoi dates (Asia/Ho_Chi_Minh); instants are UTC.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from domain.errors import Conflict, InvalidInput
from domain.shared.time import HANOI
from domain.transit.codes import NO_EXPIRY, Direction, ProductKind
from domain.transit.model import Category, DocumentKind, Pass, Price, Tap, Trip

MAX_PRICE_VND = 10_000_000


def hanoi_date(at: datetime) -> date:
    return at.astimezone(HANOI).date()


def start_of(day: date) -> datetime:
    """00:00 of a Hanoi business date, as a UTC instant."""
    return datetime.combine(day, time(0), HANOI).astimezone(UTC)


def end_of(day: date) -> datetime:
    """The last second of a Hanoi business date (23:59:59), as a UTC instant."""
    return start_of(day + timedelta(days=1)) - timedelta(seconds=1)


def epoch(at: datetime | None) -> int:
    return NO_EXPIRY if at is None else int(at.timestamp())


# -- prices ------------------------------------------------------------------------------------------

def price_on(prices: Iterable[Price], product_id: uuid.UUID, category: str, day: date) -> Price | None:
    for p in prices:
        if p.product_id == product_id and p.category == category and p.covers(day):
            return p
    return None


def check_new_price(existing: Iterable[Price], new: Price) -> None:
    """A price may not overlap another price of the same product and category."""
    if not 0 <= new.amount_vnd <= MAX_PRICE_VND:
        raise InvalidInput("transit.invalid_price", field="amount_vnd", rule="range")
    if new.valid_to is not None and new.valid_to <= new.valid_from:
        raise InvalidInput("transit.invalid_price", field="valid_to", rule="after_valid_from")
    for p in existing:
        if p.product_id != new.product_id or p.category != new.category or p.id == new.id:
            continue
        starts_before_end = p.valid_to is None or new.valid_from < p.valid_to
        ends_after_start = new.valid_to is None or p.valid_from < new.valid_to
        if starts_before_end and ends_after_start:
            raise Conflict("transit.price_overlap", field="valid_from", rule="no_overlap")


# -- eligibility -----------------------------------------------------------------------------------

def age_on(born: date, day: date) -> int:
    """Completed years on ``day`` (someone born on 29 Feb turns a year older on 1 Mar)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def sixth_birthday_eve(born: date) -> date:
    try:
        birthday = born.replace(year=born.year + 6)
    except ValueError:  # 29 Feb
        birthday = date(born.year + 6, 3, 1)
    return birthday - timedelta(days=1)


def check_eligibility(category: Category, born: date | None, documents: dict[DocumentKind, date | None],
                      day: date) -> None:
    """Raises ``InvalidInput('transit.not_eligible', rule=…)`` unless the holder belongs to the
    category on ``day``. ``documents``: staff-approved documents and their ``valid_until``."""
    if not category.active:
        raise InvalidInput("transit.not_eligible", field="category", rule="inactive")
    if category.min_age is not None or category.max_age is not None:
        if born is None:
            raise InvalidInput("transit.not_eligible", field="category", rule="date_of_birth_unknown")
        age = age_on(born, day)
        if category.min_age is not None and age < category.min_age:
            raise InvalidInput("transit.not_eligible", field="category", rule="min_age", min_age=category.min_age)
        if category.max_age is not None and age >= category.max_age:
            raise InvalidInput("transit.not_eligible", field="category", rule="max_age", max_age=category.max_age)
    if category.document is not None:
        if category.document not in documents:
            raise InvalidInput("transit.not_eligible", field="category", rule="document_required",
                               document=category.document.value)
        until = documents[category.document]
        if until is not None and until < day:
            raise InvalidInput("transit.not_eligible", field="category", rule="document_expired",
                               document=category.document.value)


# -- validity periods ---------------------------------------------------------------------------------

def validity(kind: ProductKind, start: date) -> tuple[date, date | None]:
    """First and last business date a pass of ``kind`` starting on ``start`` covers."""
    if kind in (ProductKind.SINGLE_RIDE, ProductKind.DAY):
        return start, start
    if kind is ProductKind.WEEK:
        return start, start + timedelta(days=6)
    if kind in (ProductKind.MONTHLY_ROUTE, ProductKind.MONTHLY_ALL):
        if start.day != 1:
            raise InvalidInput("transit.invalid_start", field="start_date", rule="first_of_month")
        following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        return start, following - timedelta(days=1)
    return start, None


def next_start(current: Pass) -> date:
    """Where a renewal of ``current`` begins: the business day after it ends."""
    if current.valid_until is None:
        raise InvalidInput("transit.not_renewable", field="pass_id", rule="no_expiry")
    return hanoi_date(current.valid_until) + timedelta(days=1)


# -- card numbers ---------------------------------------------------------------------------------------

def luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def card_number(serial: int) -> str:
    """12 digits: an 11-digit serial and its Luhn check digit, so a mistyped number is caught."""
    if not 0 < serial < 10**11:
        raise ValueError("card serial out of range")
    body = f"{serial:011d}"
    return body + luhn_digit(body)


def valid_card_number(number: str) -> bool:
    return len(number) == 12 and number.isdigit() and luhn_digit(number[:-1]) == number[-1]


# -- trips ---------------------------------------------------------------------------------------------------

def build_trips(taps: Iterable[Tap], max_trip: timedelta = timedelta(hours=4)) -> list[Trip]:
    """Accepted taps of passes in time order (uploads arrive late and out of order) paired into
    trips: an entry followed by an exit on the same network within ``max_trip`` is one trip; an
    entry without exit (buses, where riders only tap in, or a missed exit) is a trip of its own."""
    ordered = sorted((t for t in taps if t.accepted), key=lambda t: (t.occurred_at, t.id))
    trips: list[Trip] = []
    open_trip: dict[uuid.UUID, Trip] = {}
    for tap in ordered:
        current = open_trip.pop(tap.subject_id, None)
        if tap.direction is Direction.IN:
            if current is not None:
                trips.append(current)
            open_trip[tap.subject_id] = Trip(pass_id=tap.subject_id, network=tap.network, route=tap.route,
                                             boarded_at=tap.occurred_at, boarded_stop=tap.stop)
        elif current is not None and tap.occurred_at - current.boarded_at <= max_trip:
            trips.append(Trip(pass_id=current.pass_id, network=current.network, route=current.route,
                              boarded_at=current.boarded_at, boarded_stop=current.boarded_stop,
                              alighted_at=tap.occurred_at, alighted_stop=tap.stop))
        elif current is not None:
            trips.append(current)
    trips.extend(open_trip.values())
    trips.sort(key=lambda t: t.boarded_at, reverse=True)
    return trips
