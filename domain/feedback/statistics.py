"""Statistics per unit and city-wide for a period, and heat-map data, for staff and city admins.

Who may see what: a unit's figures go to its staff (any role) and city admins; the city-wide view
(every unit and the total) to city admins only. A period is whole Hanoi days, at most a year.
"""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from domain.errors import InvalidInput
from domain.feedback.geo import cell_centre, grid_steps
from domain.feedback.reads import FeedbackReads, UnitName, UnitStats
from domain.identity.access import require_city_admin, require_unit_role
from domain.identity.principal import Principal
from domain.shared.time import HANOI

MAX_DAYS = 366
# Far outside any report's lifetime, and keeps date arithmetic (±1 day, UTC offsets) in range.
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
# A city-wide year at 100 m cells could be tens of thousands of cells; a map shows the busiest ones.
MAX_CELLS = 2000


class StatsRow(msgspec.Struct, kw_only=True):
    unit_id: uuid.UUID | None
    unit_code: str | None
    unit_name: str | None
    received: int
    handled: int
    rejected: int
    on_time: int
    on_time_pct: float | None
    avg_handling_hours: float | None
    ratings: int
    satisfaction_pct: float | None


class Statistics(msgspec.Struct, kw_only=True):
    start: dt.date
    end: dt.date
    total: StatsRow
    units: list[StatsRow]


class HeatCell(msgspec.Struct, kw_only=True):
    lat: float  # the cell's centre
    lon: float
    reports: int  # created in the period
    open: int  # of those, still waiting for an answer (pending, transferred, in progress)


class Heatmap(msgspec.Struct, kw_only=True):
    start: dt.date
    end: dt.date
    cell_m: int
    cells: list[HeatCell]  # busiest first
    truncated: bool  # more than MAX_CELLS cells had reports; only the busiest are listed


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _row(s: UnitStats, names: dict[uuid.UUID, UnitName]) -> StatsRow:
    name = names.get(s.unit_id) if s.unit_id else None
    return StatsRow(unit_id=s.unit_id, unit_code=name.code if name else None, unit_name=name.name_vi if name else None,
                    received=s.received, handled=s.handled, rejected=s.rejected, on_time=s.on_time,
                    on_time_pct=_pct(s.on_time, s.handled),
                    avg_handling_hours=round(s.avg_handling_hours, 2) if s.avg_handling_hours is not None else None,
                    ratings=s.ratings, satisfaction_pct=_pct(s.satisfied, s.ratings))


def _total(rows: list[UnitStats]) -> UnitStats:
    handled = sum(r.handled for r in rows)
    hours = sum((r.avg_handling_hours or 0) * r.handled for r in rows)
    return UnitStats(None, sum(r.received for r in rows), handled, sum(r.rejected for r in rows),
                     sum(r.on_time for r in rows), hours / handled if handled else None,
                     sum(r.ratings for r in rows), sum(r.satisfied for r in rows))


def allowed_period(principal: Principal, start: dt.date, end: dt.date,
                   unit_id: uuid.UUID | None) -> tuple[dt.datetime, dt.datetime]:
    """Who may see figures for ``unit_id`` (None: the whole city) over [start, end] in Hanoi days: the
    period as instants [lo, hi)."""
    if unit_id is None:
        require_city_admin(principal)
    elif not principal.city_admin:
        require_unit_role(principal, unit_id)
    for field, day in (("from", start), ("to", end)):
        if not EARLIEST <= day <= LATEST:
            raise InvalidInput("feedback.period_invalid", field=field, rule="period")
    if end < start or (end - start).days >= MAX_DAYS:
        raise InvalidInput("feedback.period_invalid", field="to", rule="period")
    return (dt.datetime.combine(start, dt.time(), HANOI),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), HANOI))


class FeedbackStatistics:
    def __init__(self, reads: FeedbackReads) -> None:
        self._reads = reads

    async def report(self, principal: Principal, start: dt.date, end: dt.date,
                     unit_id: uuid.UUID | None) -> Statistics:
        lo, hi = allowed_period(principal, start, end, unit_id)
        rows = await self._reads.stats(lo, hi, unit_id)
        names = await self._reads.unit_names([r.unit_id for r in rows if r.unit_id] + ([unit_id] if unit_id else []))
        return Statistics(start=start, end=end, total=_row(_total(rows), names), units=[_row(r, names) for r in rows])

    async def heatmap(self, principal: Principal, start: dt.date, end: dt.date, unit_id: uuid.UUID | None,
                      category_id: uuid.UUID | None, cell_m: int) -> Heatmap:
        lo, hi = allowed_period(principal, start, end, unit_id)
        steps = grid_steps(cell_m)
        rows = await self._reads.heatmap(lo, hi, steps, unit_id, category_id, MAX_CELLS + 1)
        cells = []
        for row, col, reports, still_open in rows[:MAX_CELLS]:
            lat, lon = cell_centre(row, col, steps)
            cells.append(HeatCell(lat=round(lat, 6), lon=round(lon, 6), reports=reports, open=still_open))
        return Heatmap(start=start, end=end, cell_m=cell_m, cells=cells, truncated=len(rows) > MAX_CELLS)
