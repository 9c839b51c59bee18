"""Working-hours arithmetic for Decision 1207 deadlines, in Asia/Ho_Chi_Minh.

A working day is Monday–Friday (plus configured make-up Saturdays/Sundays) that is not a public
holiday; within it only the configured periods count (default 08:00–12:00 and 13:30–17:30).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from domain.shared.time import HANOI

# Two years of days without a single working hour means the calendar is misconfigured.
_MAX_DAYS = 730
# Days whose working periods are kept (``WorkingCalendar._day``): years of deadlines around today.
_CACHED_DAYS = 4096
_ONE_DAY = timedelta(days=1)


class HolidayCalendar(Protocol):
    """Public holidays (and extra official days off) — served by an adapter over ``holidays``."""

    def is_holiday(self, day: date) -> bool: ...

    def is_weekend_workday(self, day: date) -> bool:
        """A Saturday/Sunday officially worked to bridge a holiday (announced swaps)."""
        ...


Period = tuple[time, time]


def parse_periods(spec: str) -> tuple[Period, ...]:
    """``"08:00-12:00,13:30-17:30"`` → ordered, non-overlapping periods; ValueError otherwise."""
    periods: list[Period] = []
    for part in spec.split(","):
        start_s, sep, end_s = part.strip().partition("-")
        if not sep:
            raise ValueError(f"expected HH:MM-HH:MM, got {part.strip()!r}")
        start, end = time.fromisoformat(start_s.strip()), time.fromisoformat(end_s.strip())
        if end <= start or (periods and start < periods[-1][1]):
            raise ValueError("periods must be increasing and non-overlapping")
        periods.append((start, end))
    if not periods:
        raise ValueError("at least one working period is required")
    return tuple(periods)


def parse_dates(spec: str) -> frozenset[date]:
    return frozenset(date.fromisoformat(p.strip()) for p in spec.split(",") if p.strip())


class WorkingCalendar:
    def __init__(self, holidays: HolidayCalendar, periods: tuple[Period, ...] | None = None,
                 makeup_days: Iterable[date] = ()) -> None:
        self._holidays = holidays
        self._periods = periods or parse_periods("08:00-12:00,13:30-17:30")
        self._makeup = frozenset(makeup_days)
        # Each day's working periods as instants, worked out once per day: a deadline walks the same few
        # days on every request, and a holiday lookup (the ``holidays`` package, Python) cost ~2 µs a day.
        self._segments: dict[date, tuple[tuple[datetime, datetime], ...]] = {}

    def is_working_day(self, day: date) -> bool:
        if day in self._makeup or self._holidays.is_weekend_workday(day):
            return True
        return day.weekday() < 5 and not self._holidays.is_holiday(day)

    def _day(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The working periods of ``day`` in Hanoi (none on a day off), as instants in UTC: arithmetic and
        comparisons between datetimes of one fixed ``tzinfo`` skip the time zone's offset lookups."""
        got = self._segments.get(day)
        if got is None:
            got = tuple((datetime.combine(day, a, HANOI).astimezone(UTC),
                         datetime.combine(day, b, HANOI).astimezone(UTC))
                        for a, b in self._periods) if self.is_working_day(day) else ()
            if len(self._segments) >= _CACHED_DAYS:  # a long-running process moves on through the years
                self._segments.clear()
            self._segments[day] = got
        return got

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The instant ``hours`` working hours after ``start`` (aware datetime, returned in UTC)."""
        remaining = timedelta(hours=hours)
        at = start.astimezone(UTC)
        day = start.astimezone(HANOI).date()
        for _ in range(_MAX_DAYS):
            for seg_start, seg_end in self._day(day):
                if seg_end <= at:
                    continue
                if seg_start < at:
                    seg_start = at
                if remaining <= seg_end - seg_start:
                    return seg_start + remaining
                remaining -= seg_end - seg_start
            day += _ONE_DAY
        raise ValueError("the working calendar has no working hours")

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Working hours elapsed from ``start`` to ``end`` (0 when end <= start)."""
        if end <= start:
            return 0.0
        total = timedelta()
        a, b = start.astimezone(HANOI), end.astimezone(HANOI)
        day = a.date()
        while day <= b.date():
            if self.is_working_day(day):
                for p_start, p_end in self._periods:
                    lo = max(datetime.combine(day, p_start, HANOI), a)
                    hi = min(datetime.combine(day, p_end, HANOI), b)
                    if hi > lo:
                        total += hi - lo
            day += timedelta(days=1)
        return total.total_seconds() / 3600
