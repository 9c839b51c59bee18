"""Time limits in working days on the Vietnamese calendar (feedback's, through ``WorkingDays``).

≤ 10 working days; ≤ 15 for people who lived in several provinces or abroad, for foreigners and
when an expungement must be established; ≤ 24 hours for urgent requests of prosecuting bodies.
The limit runs from the day the request is received (online: the submission): the deadline is
the end (24:00 Hanoi) of the N-th working day after that day. While a supplement is requested
the clock stops; the working days it stood still are added back when the citizen supplements.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from domain.judicial.model import DeadlineKind, Request
from domain.judicial.residence import lived_abroad, provinces
from domain.shared.time import HANOI


class WorkingDays(Protocol):
    """The working-day calendar. Served by feedback's ``WorkingCalendar`` (Vietnamese holidays from
    the ``holidays`` package plus configured make-up days): the wiring passes that same object;
    contexts import only each other's public pieces, so this context names just what it uses."""

    def is_working_day(self, day: date) -> bool: ...


WORKING_DAYS = {DeadlineKind.NORMAL: 10, DeadlineKind.EXTENDED: 15}
URGENT_HOURS = 24


def classify(request: Request, *, expungement_check: bool = False) -> tuple[DeadlineKind, tuple[str, ...]]:
    reasons: list[str] = []
    if len(provinces(request.residence_history)) > 1:
        reasons.append("several_provinces")
    if lived_abroad(request.residence_history):
        reasons.append("lived_abroad")
    if (request.applicant.nationality or "VN") != "VN":
        reasons.append("foreigner")
    if expungement_check:
        reasons.append("expungement_check")
    return (DeadlineKind.EXTENDED if reasons else DeadlineKind.NORMAL), tuple(reasons)


def add_working_days(calendar: WorkingDays, day: date, n: int) -> date:
    for _ in range(n):
        day += timedelta(days=1)
        while not calendar.is_working_day(day):
            day += timedelta(days=1)
    return day


def working_days_between(calendar: WorkingDays, start: datetime, end: datetime) -> int:
    """Working days from the day after ``start`` up to and including ``end``'s day (Hanoi)."""
    a, b = start.astimezone(HANOI).date(), end.astimezone(HANOI).date()
    n, day = 0, a
    while day < b:
        day += timedelta(days=1)
        n += calendar.is_working_day(day)
    return n


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), HANOI).astimezone(UTC)


def due_at(calendar: WorkingDays, received_at: datetime, kind: DeadlineKind) -> datetime:
    if kind is DeadlineKind.URGENT:
        return (received_at + timedelta(hours=URGENT_HOURS)).astimezone(UTC)
    return _end_of(add_working_days(calendar, received_at.astimezone(HANOI).date(), WORKING_DAYS[kind]))


def extend(calendar: WorkingDays, due: datetime, days: int) -> datetime:
    """``due`` moved by ``days`` working days (the pause of a supplement)."""
    if days <= 0:
        return due
    last_day = (due - timedelta(microseconds=1)).astimezone(HANOI).date()
    return _end_of(add_working_days(calendar, last_day, days))
