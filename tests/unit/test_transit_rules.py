"""Transit business rules: ages, eligibility, validity periods, prices by date, card numbers, trips."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.errors import Conflict, InvalidInput
from domain.transit.codes import Direction, Network, ProductKind
from domain.transit.model import Category, DocumentKind, Medium, Price, Tap
from domain.transit.rules import (
    age_on,
    build_trips,
    card_number,
    check_eligibility,
    check_new_price,
    end_of,
    price_on,
    sixth_birthday_eve,
    start_of,
    valid_card_number,
    validity,
)

ELDERLY = Category(code="elderly", qr_code=4, name_vi="", name_en="", free=True, min_age=60)
CHILD = Category(code="child", qr_code=5, name_vi="", name_en="", free=True, max_age=6)
STUDENT = Category(code="student", qr_code=2, name_vi="", name_en="", document=DocumentKind.STUDENT_CARD)


def test_age_counts_completed_years_including_leap_birthdays() -> None:
    assert age_on(date(1966, 10, 1), date(2026, 10, 1)) == 60
    assert age_on(date(1966, 10, 2), date(2026, 10, 1)) == 59
    assert age_on(date(2000, 2, 29), date(2026, 2, 28)) == 25
    assert age_on(date(2000, 2, 29), date(2026, 3, 1)) == 26
    assert sixth_birthday_eve(date(2020, 2, 29)) == date(2026, 2, 28)
    assert sixth_birthday_eve(date(2021, 7, 4)) == date(2027, 7, 3)


def test_eligibility_rules() -> None:
    day = date(2026, 10, 1)
    check_eligibility(ELDERLY, date(1966, 10, 1), {}, day)
    with pytest.raises(InvalidInput) as young:
        check_eligibility(ELDERLY, date(1966, 10, 2), {}, day)
    assert young.value.rule == "min_age"
    with pytest.raises(InvalidInput) as unknown:
        check_eligibility(ELDERLY, None, {}, day)
    assert unknown.value.rule == "date_of_birth_unknown"
    check_eligibility(CHILD, date(2020, 10, 2), {}, day)
    with pytest.raises(InvalidInput):
        check_eligibility(CHILD, date(2020, 10, 1), {}, day)   # six today: no longer free
    with pytest.raises(InvalidInput) as missing:
        check_eligibility(STUDENT, date(2005, 1, 1), {}, day)
    assert missing.value.rule == "document_required"
    check_eligibility(STUDENT, None, {DocumentKind.STUDENT_CARD: date(2027, 6, 30)}, day)
    with pytest.raises(InvalidInput) as expired:
        check_eligibility(STUDENT, None, {DocumentKind.STUDENT_CARD: date(2026, 9, 30)}, day)
    assert expired.value.rule == "document_expired"


def test_validity_periods_in_hanoi_dates() -> None:
    assert validity(ProductKind.DAY, date(2026, 10, 5)) == (date(2026, 10, 5), date(2026, 10, 5))
    assert validity(ProductKind.WEEK, date(2026, 10, 5)) == (date(2026, 10, 5), date(2026, 10, 11))
    assert validity(ProductKind.MONTHLY_ALL, date(2026, 12, 1)) == (date(2026, 12, 1), date(2026, 12, 31))
    assert validity(ProductKind.MONTHLY_ROUTE, date(2028, 2, 1)) == (date(2028, 2, 1), date(2028, 2, 29))
    assert validity(ProductKind.FREE, date(2026, 10, 5)) == (date(2026, 10, 5), None)
    with pytest.raises(InvalidInput):
        validity(ProductKind.MONTHLY_ALL, date(2026, 10, 5))
    assert start_of(date(2026, 10, 1)) == datetime(2026, 9, 30, 17, 0, tzinfo=UTC)
    assert end_of(date(2026, 10, 1)) == datetime(2026, 10, 1, 16, 59, 59, tzinfo=UTC)


def test_prices_by_date_and_overlaps() -> None:
    pid = uuid.uuid4()
    old = Price(id=uuid.uuid4(), product_id=pid, category="standard", amount_vnd=7_000, valid_from=date(2025, 1, 1),
                valid_to=date(2026, 7, 1))
    new = Price(id=uuid.uuid4(), product_id=pid, category="standard", amount_vnd=8_000, valid_from=date(2026, 7, 1))
    check_new_price([old], new)
    assert price_on([old, new], pid, "standard", date(2026, 6, 30)) == old
    assert price_on([old, new], pid, "standard", date(2026, 7, 1)) == new
    assert price_on([old, new], pid, "student", date(2026, 7, 1)) is None
    with pytest.raises(Conflict):
        check_new_price([old, new], Price(id=uuid.uuid4(), product_id=pid, category="standard", amount_vnd=1,
                                          valid_from=date(2026, 6, 1), valid_to=date(2026, 6, 2)))
    with pytest.raises(InvalidInput):
        check_new_price([], Price(id=uuid.uuid4(), product_id=pid, category="standard", amount_vnd=-1,
                                  valid_from=date(2026, 6, 1)))


def test_card_numbers_carry_a_luhn_digit() -> None:
    number = card_number(42)
    assert number == "000000000422"  # 4 + 2·2 + 2 = 10
    assert valid_card_number(number)
    assert not valid_card_number("000000000426")
    assert not valid_card_number("00000000042")


def _tap(pid: uuid.UUID, minutes: int, direction: Direction, stop: str, accepted: bool = True) -> Tap:
    return Tap(id=uuid.uuid4(), validator_id=uuid.uuid4(), medium=Medium.PASS, subject_id=pid, direction=direction,
               network=Network.METRO, route=3, stop=stop,
               occurred_at=datetime(2026, 10, 1, 1, 0, tzinfo=UTC) + timedelta(minutes=minutes), accepted=accepted,
               reason=None if accepted else "passback")


def test_trips_pair_entries_and_exits_in_time_order() -> None:
    pid = uuid.uuid4()
    taps = [_tap(pid, 30, Direction.OUT, "B"), _tap(pid, 0, Direction.IN, "A"), _tap(pid, 1, Direction.IN, "A", False),
            _tap(pid, 600, Direction.IN, "C"), _tap(pid, 900, Direction.OUT, "D")]
    trips = build_trips(taps)
    assert [(t.boarded_stop, t.alighted_stop) for t in trips] == [("C", None), ("A", "B")]  # 5 h is no trip
