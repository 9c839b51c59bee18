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
from litestar.params import FromQuery, QueryParameter

from api.feedback.common import BEARER
from api.feedback.wiring import reads
from api.identity.auth import CurrentUser
from api.platform.deps import READ_ONLY, UnitOfWork
from domain.feedback.statistics import FeedbackStatistics, Heatmap, Statistics, StatsRow

From = Annotated[dt.date, QueryParameter(name="from", description="First day (Hanoi time), inclusive")]
To = Annotated[dt.date, QueryParameter(name="to", description="Last day (Hanoi time), inclusive")]
CellSize = Annotated[int, QueryParameter(ge=100, le=5000, description="Cell side in metres (square cells)")]


# The response schemas keep their published names in the OpenAPI document.
class StatsOut(Statistics):
    pass


class HeatmapOut(Heatmap):
    pass


class FeedbackStatsController(Controller):
    path = "/feedback/stats"
    tags = ["feedback-stats"]
    security = BEARER

    @get("", operation_id="feedbackStats",
         summary="Received, handled, rejected, on-time %, average handling time, satisfaction % for a period",
         description="With unit_id: that unit (its staff or a city admin). Without: every unit and the city "
                     "total (city admins). Received counts reports created in the period; outcomes count "
                     "reports closed in it; satisfaction = ratings of 4–5 given in it.")
    async def stats(self, principal: CurrentUser, uow: UnitOfWork, start: From, end: To,
                    unit_id: FromQuery[uuid.UUID | None] = None) -> StatsOut:
        return StatsOut(**msgspec.structs.asdict(await FeedbackStatistics(reads(uow)).report(principal, start, end,
                                                                                             unit_id)))

    @get("/heatmap", operation_id="feedbackHeatmap", opt=READ_ONLY,
         summary="Heat-map data: reports created in a period per square grid cell",
         description="Counts per cell of `cell_m` metres (default 500), busiest first, at most 2,000 cells; "
                     "each cell by its centre. With unit_id: that unit's reports (its staff or a city admin). "
                     "Without: the whole city (city admins). Optionally one category. No report, reporter "
                     "or text is included: counts only.")
    async def heatmap(self, principal: CurrentUser, uow: UnitOfWork, start: From, end: To,
                      unit_id: FromQuery[uuid.UUID | None] = None, category_id: FromQuery[uuid.UUID | None] = None,
                      cell_m: CellSize = 500) -> HeatmapOut:
        found = await FeedbackStatistics(reads(uow)).heatmap(principal, start, end, unit_id, category_id, cell_m)
        return HeatmapOut(**msgspec.structs.asdict(found))

    @get("/export", operation_id="feedbackStatsCsv", summary="The same statistics as CSV (one row per unit)",
         media_type="text/csv")
    async def export(self, principal: CurrentUser, uow: UnitOfWork, start: From, end: To,
                     unit_id: FromQuery[uuid.UUID | None] = None) -> Response[str]:
        return csv_response(await FeedbackStatistics(reads(uow)).report(principal, start, end, unit_id))


def csv_response(out: Statistics) -> Response[str]:
    """The statistics as a CSV download (one row per unit, then the total): the API's and the staff console's."""
    # A UTF-8 byte order mark: without it Excel reads the file as the local code page and garbles Vietnamese.
    buf = io.StringIO("\ufeff")
    buf.seek(0, io.SEEK_END)
    fields = list(StatsRow.__struct_fields__)
    writer = csv.writer(buf)
    writer.writerow(fields)
    for row in [*out.units, out.total]:
        values = msgspec.to_builtins(row)
        # Leading =,+,-,@ would be formulas in spreadsheets (CSV injection): unit names are data.
        writer.writerow(["'" + v if isinstance(v, str) and v[:1] in "=+-@" else
                         ("" if v is None else v) for v in (values[f] for f in fields)])
    name = f"feedback-stats-{out.start}-{out.end}.csv"
    return Response(buf.getvalue(), media_type="text/csv",  # Litestar adds the charset
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
