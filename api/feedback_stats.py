"""Statistics per unit and city-wide for a period, as JSON or CSV, and heat-map data (reports per grid
cell) — for staff of the unit or a city admin."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import Annotated

import msgspec
from litestar import Controller, Response, get
from litestar.params import Parameter

from adapters.postgres.feedback_queries import PgFeedbackQueries, UnitStats
from adapters.postgres.uow import PgUnitOfWork
from api.auth import require_city_admin, require_unit_role
from api.deps import READ_ONLY
from api.feedback_common import BEARER
from domain.errors import InvalidInput
from domain.feedback.geo import cell_centre, grid_steps
from domain.identity.principal import Principal
from domain.shared.time import HANOI

MAX_DAYS = 366
# Far outside any report's lifetime, and keeps date arithmetic (±1 day, UTC offsets) in range.
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
From = Annotated[dt.date, Parameter(query="from", description="First day (Hanoi time), inclusive")]
To = Annotated[dt.date, Parameter(query="to", description="Last day (Hanoi time), inclusive")]


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


class StatsOut(msgspec.Struct, kw_only=True):
    start: dt.date
    end: dt.date
    total: StatsRow
    units: list[StatsRow]


# A city-wide year at 100 m cells could be tens of thousands of cells; a map shows the busiest ones.
MAX_CELLS = 2000
CellSize = Annotated[int, Parameter(ge=100, le=5000, description="Cell side in metres (square cells)")]


class HeatCell(msgspec.Struct, kw_only=True):
    lat: float  # the cell's centre
    lon: float
    reports: int  # created in the period
    open: int  # of those, still waiting for an answer (pending, transferred, in progress)


class HeatmapOut(msgspec.Struct, kw_only=True):
    start: dt.date
    end: dt.date
    cell_m: int
    cells: list[HeatCell]  # busiest first
    truncated: bool  # more than MAX_CELLS cells had reports; only the busiest are listed


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _row(s: UnitStats, names: dict[uuid.UUID, tuple[str, str]]) -> StatsRow:
    code, name = names.get(s.unit_id, (None, None)) if s.unit_id else (None, None)
    return StatsRow(unit_id=s.unit_id, unit_code=code, unit_name=name, received=s.received, handled=s.handled,
                    rejected=s.rejected, on_time=s.on_time, on_time_pct=_pct(s.on_time, s.handled),
                    avg_handling_hours=round(s.avg_handling_hours, 2) if s.avg_handling_hours is not None else None,
                    ratings=s.ratings, satisfaction_pct=_pct(s.satisfied, s.ratings))


def _total(rows: list[UnitStats]) -> UnitStats:
    handled = sum(r.handled for r in rows)
    hours = sum((r.avg_handling_hours or 0) * r.handled for r in rows)
    return UnitStats(None, sum(r.received for r in rows), handled, sum(r.rejected for r in rows),
                     sum(r.on_time for r in rows), hours / handled if handled else None,
                     sum(r.ratings for r in rows), sum(r.satisfied for r in rows))


def _allowed_period(principal: Principal, start: dt.date, end: dt.date,
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


async def _stats(principal: Principal, uow: PgUnitOfWork, start: dt.date, end: dt.date,
                 unit_id: uuid.UUID | None) -> StatsOut:
    lo, hi = _allowed_period(principal, start, end, unit_id)
    rows = await PgFeedbackQueries(uow.conn).stats(lo, hi, unit_id)
    ids = [r.unit_id for r in rows if r.unit_id] + ([unit_id] if unit_id else [])
    names = {r["id"]: (r["code"], r["name_vi"]) for r in await uow.conn.fetch(
        "SELECT id, code, name_vi FROM units WHERE id = ANY($1::uuid[])", ids)}
    return StatsOut(start=start, end=end, total=_row(_total(rows), names), units=[_row(r, names) for r in rows])


class FeedbackStatsController(Controller):
    path = "/feedback/stats"
    tags = ["feedback-stats"]
    security = BEARER

    @get("", operation_id="feedbackStats",
         summary="Received, handled, rejected, on-time %, average handling time, satisfaction % for a period",
         description="With unit_id: that unit (its staff or a city admin). Without: every unit and the city "
                     "total (city admins). Received counts reports created in the period; outcomes count "
                     "reports closed in it; satisfaction = ratings of 4–5 given in it.")
    async def stats(self, principal: Principal, uow: PgUnitOfWork, start: From, end: To,
                    unit_id: uuid.UUID | None = None) -> StatsOut:
        return await _stats(principal, uow, start, end, unit_id)

    @get("/heatmap", operation_id="feedbackHeatmap", opt=READ_ONLY,
         summary="Heat-map data: reports created in a period per square grid cell",
         description="Counts per cell of `cell_m` metres (default 500), busiest first, at most 2,000 cells; "
                     "each cell by its centre. With unit_id: that unit's reports (its staff or a city admin). "
                     "Without: the whole city (city admins). Optionally one category. No report, reporter "
                     "or text is included: counts only.")
    async def heatmap(self, principal: Principal, uow: PgUnitOfWork, start: From, end: To,
                      unit_id: uuid.UUID | None = None, category_id: uuid.UUID | None = None,
                      cell_m: CellSize = 500) -> HeatmapOut:
        lo, hi = _allowed_period(principal, start, end, unit_id)
        steps = grid_steps(cell_m)
        rows = await PgFeedbackQueries(uow.conn).heatmap(lo, hi, steps, unit_id, category_id, MAX_CELLS + 1)
        cells = []
        for row, col, reports, still_open in rows[:MAX_CELLS]:
            lat, lon = cell_centre(row, col, steps)
            cells.append(HeatCell(lat=round(lat, 6), lon=round(lon, 6), reports=reports, open=still_open))
        return HeatmapOut(start=start, end=end, cell_m=cell_m, cells=cells, truncated=len(rows) > MAX_CELLS)

    @get("/export", operation_id="feedbackStatsCsv", summary="The same statistics as CSV (one row per unit)",
         media_type="text/csv")
    async def export(self, principal: Principal, uow: PgUnitOfWork, start: From, end: To,
                     unit_id: uuid.UUID | None = None) -> Response[str]:
        out = await _stats(principal, uow, start, end, unit_id)
        buf = io.StringIO()
        fields = list(StatsRow.__struct_fields__)
        writer = csv.writer(buf)
        writer.writerow(fields)
        for row in [*out.units, out.total]:
            values = msgspec.to_builtins(row)
            # Leading =,+,-,@ would be formulas in spreadsheets (CSV injection): unit names are data.
            writer.writerow(["'" + v if isinstance(v, str) and v[:1] in "=+-@" else
                             ("" if v is None else v) for v in (values[f] for f in fields)])
        name = f"feedback-stats-{start}-{end}.csv"
        return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
