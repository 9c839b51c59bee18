"""Statistics per unit and city-wide for a period, as JSON or CSV (staff of the unit / city admin)."""

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
from api.feedback_common import BEARER
from domain.errors import InvalidInput
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


async def _stats(principal: Principal, uow: PgUnitOfWork, start: dt.date, end: dt.date,
                 unit_id: uuid.UUID | None) -> StatsOut:
    if unit_id is None:
        require_city_admin(principal)
    elif not principal.city_admin:
        require_unit_role(principal, unit_id)
    for field, day in (("from", start), ("to", end)):
        if not EARLIEST <= day <= LATEST:
            raise InvalidInput("feedback.period_invalid", field=field, rule="period")
    if end < start or (end - start).days >= MAX_DAYS:
        raise InvalidInput("feedback.period_invalid", field="to", rule="period")
    lo = dt.datetime.combine(start, dt.time(), HANOI)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), HANOI)
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
