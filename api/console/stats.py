"""Feedback statistics in the console: one unit or the whole city over a period, as a table, SVG
charts and the CSV download — the figures and the file of ``/api/v1/feedback/stats`` (same use case,
same CSV writer). A unit's figures go to its staff and city admins; the city to city admins only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Response, get

from adapters.postgres.units.directory import PgUnitDirectory
from adapters.postgres.uow import PgUnitOfWork
from api.console.charts import Series, bar_chart
from api.console.common import Req
from api.console.inputs import bad_choice, parse_date
from api.console.render import language, render
from api.console.session import ConsoleUser
from api.console.texts import register, text
from api.feedback.stats import csv_response
from api.feedback.wiring import reads
from api.platform.deps import READ_ONLY, AppContainer, UnitOfWork
from domain.feedback.statistics import FeedbackStatistics, Statistics
from domain.identity.principal import Principal
from domain.shared.time import HANOI
from domain.units.model import Unit, UnitKind

CITY = "city"
DEFAULT_DAYS = 30
CHART_ROWS = 15  # the busiest units in the city-wide charts; the table lists every unit


class Period:
    def __init__(self, unit_id: uuid.UUID | None, start: dt.date, end: dt.date) -> None:
        self.unit_id, self.start, self.end = unit_id, start, end

    @property
    def query(self) -> str:
        return urlencode(
            {
                "unit": str(self.unit_id) if self.unit_id else CITY,
                "from": self.start.isoformat(),
                "to": self.end.isoformat(),
            }
        )


def period_of(params: Any, staff: Principal, today: dt.date) -> Period:
    """The page's choice, or by default the staff member's first unit (a city admin: the city), last 30 days."""
    raw = (params.get("unit") or "").strip()
    if raw == CITY:
        unit_id = None
    elif raw:
        try:
            unit_id = uuid.UUID(raw)
        except ValueError:
            raise bad_choice("unit") from None
    else:
        unit_id = None if staff.city_admin or not staff.unit_ids else sorted(staff.unit_ids)[0]
    end = parse_date(params, "to") or today
    start = parse_date(params, "from") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    return Period(unit_id, start, end)


async def every_unit(uow: PgUnitOfWork) -> list[Unit]:
    """The whole directory, the city first, then departments, districts and wards (each by code)."""
    directory = PgUnitDirectory(uow.conn)
    kinds = (UnitKind.CITY, UnitKind.DEPARTMENT, UnitKind.DISTRICT, UnitKind.WARD)
    return [u for k in kinds for u in await directory.list(k, None)]


async def unit_choices(uow: PgUnitOfWork, staff: Principal) -> list[Unit]:
    """What the unit selector offers: a city admin every unit; staff their own units."""
    if staff.city_admin:
        return await every_unit(uow)
    return await PgUnitDirectory(uow.conn).get_many(sorted(staff.unit_ids))


def charts(stats: Statistics, lang: str) -> list[Any]:
    rows = (
        sorted(stats.units, key=lambda r: r.received, reverse=True)[:CHART_ROWS]
        if len(stats.units) > 1
        else [stats.total]
        if not stats.units
        else stats.units
    )
    labels = [r.unit_name or r.unit_code or text("stats.total", lang) for r in rows]

    def t(key: str) -> str:
        return text(key, lang)

    return [
        bar_chart(
            "volume",
            t("stats.chart.volume"),
            labels,
            [
                Series(t("stats.received"), [r.received for r in rows]),
                Series(t("stats.handled"), [r.handled for r in rows]),
                Series(t("stats.rejected"), [r.rejected for r in rows]),
            ],
        ),
        bar_chart(
            "quality",
            t("stats.chart.quality"),
            labels,
            [
                Series(t("stats.on_time_pct"), [r.on_time_pct for r in rows]),
                Series(t("stats.satisfaction_pct"), [r.satisfaction_pct for r in rows]),
            ],
            unit="%",
            maximum=100.0,
        ),
    ]


class StatsPages(Controller):
    path = "/stats"
    include_in_schema = False

    @get("/", name="console.stats", opt=READ_ONLY)
    async def page(self, request: Req, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork) -> Response[str]:
        p = period_of(request.query_params, staff, container.clock.now().astimezone(HANOI).date())
        stats = await FeedbackStatistics(reads(uow)).report(staff, p.start, p.end, p.unit_id)
        return render(
            request,
            "stats/index.html",
            p=p,
            stats=stats,
            charts=charts(stats, language(request)),
            units=await unit_choices(uow, staff),
        )

    @get("/export.csv", name="console.stats.csv", opt=READ_ONLY)
    async def export(self, request: Req, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork) -> Response[str]:
        p = period_of(request.query_params, staff, container.clock.now().astimezone(HANOI).date())
        return csv_response(await FeedbackStatistics(reads(uow)).report(staff, p.start, p.end, p.unit_id))


register(
    {
        "stats.nav": {"vi": "Thống kê", "en": "Statistics"},
        "stats.title": {"vi": "Thống kê phản ánh hiện trường", "en": "Feedback statistics"},
        "stats.unit": {"vi": "Đơn vị", "en": "Unit"},
        "stats.city": {"vi": "Toàn thành phố (mọi đơn vị)", "en": "Whole city (every unit)"},
        "stats.from": {"vi": "Từ ngày", "en": "From"},
        "stats.to": {"vi": "Đến ngày", "en": "To"},
        "stats.show": {"vi": "Xem", "en": "Show"},
        "stats.csv": {"vi": "Tải CSV", "en": "Download CSV"},
        "stats.total": {"vi": "Tổng cộng", "en": "Total"},
        "stats.received": {"vi": "Tiếp nhận", "en": "Received"},
        "stats.handled": {"vi": "Đã xử lý", "en": "Handled"},
        "stats.rejected": {"vi": "Từ chối", "en": "Rejected"},
        "stats.on_time": {"vi": "Đúng hạn", "en": "On time"},
        "stats.on_time_pct": {"vi": "% đúng hạn", "en": "% on time"},
        "stats.avg_hours": {"vi": "Thời gian xử lý TB (giờ)", "en": "Avg. handling (hours)"},
        "stats.ratings": {"vi": "Lượt đánh giá", "en": "Ratings"},
        "stats.satisfaction_pct": {"vi": "% hài lòng", "en": "% satisfied"},
        "stats.chart.volume": {
            "vi": "Số phản ánh tiếp nhận, đã xử lý, từ chối",
            "en": "Reports received, handled, rejected",
        },
        "stats.chart.quality": {"vi": "Tỷ lệ đúng hạn và hài lòng", "en": "On-time and satisfaction rates"},
        "stats.chart.top": {
            "vi": "Biểu đồ: {n} đơn vị tiếp nhận nhiều nhất; bảng: mọi đơn vị.",
            "en": "Charts: the {n} units with most reports; table: every unit.",
        },
        "stats.note": {
            "vi": "Tiếp nhận: phản ánh tạo trong kỳ. Kết quả: phản ánh đóng trong kỳ. "
            "Hài lòng: đánh giá 4–5 sao trong kỳ.",
            "en": "Received: reports created in the period. Outcomes: reports closed in it. "
            "Satisfied: ratings of 4–5 given in it.",
        },
    }
)
