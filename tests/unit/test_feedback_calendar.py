"""Working-hours deadlines in Asia/Ho_Chi_Minh with the real Vietnamese holiday calendar."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from adapters.calendar.vietnam import VietnamHolidays
from domain.feedback.calendar import WorkingCalendar, parse_dates, parse_periods
from domain.shared.time import HANOI


def hn(*args: int) -> datetime:
    return datetime(*args, tzinfo=HANOI)  # type: ignore[misc]


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar(VietnamHolidays())


def test_within_one_morning(cal: WorkingCalendar) -> None:
    assert cal.add_working_hours(hn(2026, 11, 25, 8, 0), 2) == hn(2026, 11, 25, 10, 0)


def test_lunch_break_is_skipped(cal: WorkingCalendar) -> None:
    assert cal.add_working_hours(hn(2026, 11, 25, 11, 0), 2) == hn(2026, 11, 25, 14, 30)


def test_before_opening_and_after_closing(cal: WorkingCalendar) -> None:
    assert cal.add_working_hours(hn(2026, 11, 25, 6, 0), 1) == hn(2026, 11, 25, 9, 0)
    assert cal.add_working_hours(hn(2026, 11, 25, 19, 0), 1) == hn(2026, 11, 26, 9, 0)


def test_acknowledgement_deadline_across_a_weekend(cal: WorkingCalendar) -> None:
    # Friday 16:00 + 8 working hours: 1.5 h on Friday, nothing on Sat/Sun, 6.5 h on Monday.
    due = cal.add_working_hours(hn(2026, 11, 27, 16, 0), 8)
    assert due == hn(2026, 11, 30, 16, 0)
    assert due.tzinfo is not None
    assert due.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_urgent_deadline_across_tet(cal: WorkingCalendar) -> None:
    # Tết Đinh Mùi: 4–10 February 2027 are public holidays (Thu..Wed, with the weekend inside).
    for day in range(4, 11):
        assert not cal.is_working_day(date(2027, 2, day))
    due = cal.add_working_hours(hn(2027, 2, 3, 15, 30), 4)
    assert due == hn(2027, 2, 11, 10, 0)


def test_normal_sla_spanning_tet_2026(cal: WorkingCalendar) -> None:
    # Tết Bính Ngọ: 16–20 February 2026 (Mon–Fri). 40 working hours from Friday 13 Feb 08:00:
    # 8 h that Friday, then the whole Tết week is off, then 32 h = four days from Mon 23 Feb.
    assert cal.add_working_hours(hn(2026, 2, 13, 8, 0), 40) == hn(2026, 2, 26, 17, 30)


def test_make_up_saturday_counts(cal: WorkingCalendar) -> None:
    plain = cal.add_working_hours(hn(2026, 11, 27, 17, 0), 1)
    assert plain == hn(2026, 11, 30, 8, 30)
    with_makeup = WorkingCalendar(VietnamHolidays(), makeup_days=[date(2026, 11, 28)])
    assert with_makeup.add_working_hours(hn(2026, 11, 27, 17, 0), 1) == hn(2026, 11, 28, 8, 30)


def test_announced_swap_from_the_package(cal: WorkingCalendar) -> None:
    # 2026: Saturday 22 August is worked so that Monday 31 August bridges to National Day (1–2 Sept).
    assert cal.is_working_day(date(2026, 8, 22))
    assert not cal.is_working_day(date(2026, 8, 31))
    assert cal.add_working_hours(hn(2026, 8, 21, 17, 0), 1) == hn(2026, 8, 22, 8, 30)
    assert cal.add_working_hours(hn(2026, 8, 28, 17, 0), 1) == hn(2026, 9, 3, 8, 30)


def test_extra_day_off_is_skipped() -> None:
    cal = WorkingCalendar(VietnamHolidays(extra_days_off=[date(2026, 11, 26)]))
    assert cal.add_working_hours(hn(2026, 11, 25, 17, 0), 1) == hn(2026, 11, 27, 8, 30)


def test_configurable_working_day() -> None:
    cal = WorkingCalendar(VietnamHolidays(), periods=parse_periods("07:30-11:30, 13:00-17:00"))
    assert cal.add_working_hours(hn(2026, 11, 25, 11, 0), 1) == hn(2026, 11, 25, 13, 30)


def test_working_hours_between(cal: WorkingCalendar) -> None:
    assert cal.working_hours_between(hn(2026, 11, 27, 16, 0), hn(2026, 11, 30, 16, 0)) == 8
    assert cal.working_hours_between(hn(2026, 11, 30, 16, 0), hn(2026, 11, 27, 16, 0)) == 0


@pytest.mark.parametrize("spec", ["", "08:00", "12:00-08:00", "08:00-12:00,11:00-13:00", "8h-12h"])
def test_bad_period_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies by cause
        parse_periods(spec)


def test_parse_dates() -> None:
    assert parse_dates("2026-08-22, 2027-01-02") == {date(2026, 8, 22), date(2027, 1, 2)}
    assert parse_dates("") == frozenset()
