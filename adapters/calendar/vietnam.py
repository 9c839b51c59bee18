"""Vietnamese public holidays from the ``holidays`` package, plus officially announced extra days off.

The package knows the statutory days (Tết, Hùng Kings, 30/4, 1/5, 2/9, ...) and the compensatory
days it can derive; the government also announces swaps each year (a Saturday worked to bridge a
holiday), so extra days off and make-up working days are configuration (``FEEDBACK_EXTRA_DAYS_OFF``
here, ``FEEDBACK_MAKEUP_WORKDAYS`` in the domain calendar).
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

    def name(self, day: date) -> str | None:
        return self._vn.get(day)
