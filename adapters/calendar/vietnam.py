"""Vietnamese public holidays from the ``holidays`` package, plus officially announced extra days off.

The package knows the statutory days (Tết, Hùng Kings, 30/4, 1/5, 2/9, ...) and the swaps it has
recorded (a Saturday worked to bridge a holiday); newer announcements are configuration
(``FEEDBACK_EXTRA_DAYS_OFF`` here, ``FEEDBACK_MAKEUP_WORKDAYS`` in the domain calendar).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import holidays


class VietnamHolidays:
    def __init__(self, extra_days_off: Iterable[date] = ()) -> None:
        self._extra = frozenset(extra_days_off)
        # Years are filled lazily by the package on first lookup of a date in that year.
        self._vn = holidays.country_holidays("VN")

    def is_holiday(self, day: date) -> bool:
        return day in self._extra or day in self._vn

    def is_weekend_workday(self, day: date) -> bool:
        # The package records the announced swaps (e.g. Saturday 22/8/2026 worked for Monday 31/8).
        _ = day in self._vn  # a lookup loads that year, swaps included
        return day in self._vn.weekend_workdays

    def name(self, day: date) -> str | None:
        return self._vn.get(day)
