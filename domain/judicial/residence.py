"""Residence history since age 14: the date-range rules a request must satisfy at submission.

The form asks for the places lived since the 14th birthday, month by month ("từ tháng/năm đến
tháng/năm"), so periods have month precision. The rules (docs/judicial.md repeats them):

1. ``from_month`` and ``to_month`` are valid ``YYYY-MM``; ``from_month`` ≤ ``to_month``.
2. No period starts before the month of birth or ends after the current month (Hanoi time).
3. Only the last period may be open-ended (``to_month`` omitted = until now).
4. Periods are given in chronological order.
5. No gap: a period starts in the month the previous one ended or in the next month (a move in
   the middle of a month ends one period and starts the next in the same month).
6. No overlap: a period never starts before the month the previous one ended.
7. Coverage: for someone aged 14 or more, the first period starts no later than the month of the
   14th birthday, and the last one runs until now (open-ended or ending in the current month).
8. At most 60 periods; every period has an address; a Vietnamese address names its province.

Each violation is an ``InvalidInput`` naming ``residence_history[i].<field>`` and the rule.
"""

from __future__ import annotations

import re
from datetime import date

from domain.errors import InvalidInput
from domain.judicial.model import ResidencePeriod

MAX_PERIODS = 60
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_index(value: str, field: str) -> int:
    m = _MONTH.match(value)
    if not m:
        raise InvalidInput("judicial.residence_month", field=field, rule="month_format")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def _err(i: int, field: str, rule: str) -> InvalidInput:
    return InvalidInput(f"judicial.residence_{rule}", field=f"residence_history[{i}].{field}", rule=rule)


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def validate_history(periods: tuple[ResidencePeriod, ...], date_of_birth: date, today: date) -> None:
    if len(periods) > MAX_PERIODS:
        raise InvalidInput("judicial.residence_too_many", field="residence_history", rule="max_items")
    birth = date_of_birth.year * 12 + date_of_birth.month - 1
    now = today.year * 12 + today.month - 1
    fourteen = birth + 14 * 12
    if not periods:
        if age_on(date_of_birth, today) >= 14:
            raise InvalidInput("judicial.residence_required", field="residence_history", rule="required")
        return
    prev_end: int | None = None
    last = len(periods) - 1
    for i, p in enumerate(periods):
        start = month_index(p.from_month, f"residence_history[{i}].from_month")
        end = now if p.to_month is None else month_index(p.to_month, f"residence_history[{i}].to_month")
        if not p.address.text.strip():
            raise _err(i, "address", "required")
        if p.address.country == "VN" and not p.address.province_code:
            raise _err(i, "address.province_code", "required")
        if p.to_month is None and i != last:
            raise _err(i, "to_month", "open_ended_not_last")
        if start > end:
            raise _err(i, "to_month", "before_start")
        if start < birth:
            raise _err(i, "from_month", "before_birth")
        if end > now:
            raise _err(i, "to_month", "in_future")
        if prev_end is not None:
            if start < prev_end:
                prev_start = month_index(periods[i - 1].from_month, "")
                raise _err(i, "from_month", "order" if start < prev_start else "overlap")
            if start > prev_end + 1:
                raise _err(i, "from_month", "gap")
        prev_end = end
    if now >= fourteen:
        if month_index(periods[0].from_month, "") > fourteen:
            raise _err(0, "from_month", "from_age_14")
        if prev_end != now:
            raise _err(last, "to_month", "until_now")


def provinces(periods: tuple[ResidencePeriod, ...]) -> frozenset[str]:
    return frozenset(p.address.province_code for p in periods if p.address.country == "VN")


def lived_abroad(periods: tuple[ResidencePeriod, ...]) -> bool:
    return any(p.address.country != "VN" for p in periods)
