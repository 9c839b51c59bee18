"""The issuing authority as dated configuration.

The Department of Justice (Sở Tư pháp) issues certificates until 30 June 2026; from 1 July 2026
the amended Law on Judicial Records moves the task to the police (Công an thành phố). A request
belongs to the authority in force on its submission day (Hanoi) and stays with it to the end.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping
from datetime import date, datetime

import msgspec

from domain.shared.time import HANOI


class AuthorityPeriod(msgspec.Struct, frozen=True, kw_only=True):
    effective_from: date
    effective_to: date | None = None
    unit_id: uuid.UUID            # the unit whose staff process the requests
    code: str                     # unit code, e.g. S-TP, CA-TP
    name_vi: str
    name_en: str


class AuthoritySchedule:
    def __init__(self, periods: tuple[AuthorityPeriod, ...]) -> None:
        ordered = sorted(periods, key=lambda p: p.effective_from)
        for a, b in itertools.pairwise(ordered):
            if a.effective_to is None or a.effective_to >= b.effective_from:
                raise ValueError(f"authority periods overlap at {b.effective_from}")
        if not ordered:
            raise ValueError("at least one issuing authority is required")
        self.periods = tuple(ordered)

    def on(self, instant: datetime) -> AuthorityPeriod:
        day = instant.astimezone(HANOI).date()
        for p in self.periods:
            if p.effective_from <= day and (p.effective_to is None or day <= p.effective_to):
                return p
        raise LookupError(f"no issuing authority on {day}")

    def by_unit(self, unit_id: uuid.UUID) -> AuthorityPeriod | None:
        return next((p for p in reversed(self.periods) if p.unit_id == unit_id), None)

    @property
    def unit_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(p.unit_id for p in self.periods)


DOJ_CODE = "S-TP"
POLICE_CODE = "CA-TP"


def default_schedule(units_by_code: Mapping[str, uuid.UUID]) -> AuthoritySchedule:
    """The shipped configuration, given the ids of the two units in the ``units`` table."""
    return AuthoritySchedule((
        AuthorityPeriod(effective_from=date(2017, 1, 1), effective_to=date(2026, 6, 30),
                        unit_id=units_by_code[DOJ_CODE], code=DOJ_CODE, name_vi="Sở Tư pháp Thành phố Hà Nội",
                        name_en="Hanoi Department of Justice"),
        AuthorityPeriod(effective_from=date(2026, 7, 1), unit_id=units_by_code[POLICE_CODE], code=POLICE_CODE,
                        name_vi="Công an Thành phố Hà Nội", name_en="Hanoi City Police"),
    ))
