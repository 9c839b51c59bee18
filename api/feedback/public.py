"""Public endpoints (no login): the category catalogue and the feed of handled public reports.

A report is public when it was handled, its reporter agreed to publication (``publishable``,
default true) and staff did not hide it. The reporter is never shown; photos and evidence are
served here only for public reports.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Response, get
from litestar.params import FromPath, FromQuery, QueryParameter

from adapters.postgres.feedback.repositories import PgCategories, PgReports
from api.feedback.common import PublicReportOut, after, page, public_out, send_file
from api.feedback.wiring import reads
from api.platform.deps import AppContainer, UnitOfWork
from api.platform.params import Limit
from domain.errors import InvalidInput, NotFound
from domain.feedback.access import may_read_file
from domain.feedback.geo import HANOI_LAT, HANOI_LON, BBox, check_in_hanoi
from domain.feedback.model import Category
from domain.shared.paging import Page

Radius = Annotated[int, QueryParameter(ge=10, le=5000)]
# Declared in the OpenAPI so clients (and Schemathesis) know a point outside Hanoi is refused.
# Optional, and within Hanoi when given (Litestar 3 style: the marker wraps the whole optional type).
Lat = Annotated[float | None, QueryParameter(ge=HANOI_LAT[0], le=HANOI_LAT[1])]
Lon = Annotated[float | None, QueryParameter(ge=HANOI_LON[0], le=HANOI_LON[1])]


class PublicFeedbackController(Controller):
    path = "/public/feedback"
    tags = ["feedback-public"]

    @get("/categories", operation_id="feedbackCategories", summary="Active report categories with their questions")
    async def categories(self, uow: UnitOfWork) -> list[Category]:
        return await PgCategories(uow.conn).list()

    @get("/reports", operation_id="feedbackPublicFeed",
         summary="Handled public reports near a point (lat, lon, radius_m) or in a ward (ward_id)")
    async def feed(self, uow: UnitOfWork, lat: Lat = None, lon: Lon = None,
                   radius_m: Radius = 1000, ward_id: FromQuery[uuid.UUID | None] = None,
                   cursor: FromQuery[str | None] = None,
                   limit: Limit = 20) -> Page[PublicReportOut]:
        q = reads(uow)
        if ward_id is not None:
            rows = await q.public_in_ward(ward_id, after(cursor), limit + 1)
        elif lat is not None and lon is not None:
            check_in_hanoi(lat, lon)
            rows = await q.public_near(BBox.around(lat, lon, radius_m), after(cursor), limit + 1)
        else:
            raise InvalidInput("feedback.feed_scope", field="lat", rule="required")
        files = await q.attachments_of([r.id for r in rows[:limit]])
        units = await q.unit_names(list({r.unit_id for r in rows}))
        return page([public_out(r, files.get(r.id, []), units[r.unit_id]) for r in rows], limit)

    @get("/reports/{report_id:uuid}", operation_id="feedbackPublicReport", summary="A public report")
    async def one(self, uow: UnitOfWork, report_id: FromPath[uuid.UUID]) -> PublicReportOut:
        report = await PgReports(uow.conn).get(report_id)
        if report is None or not report.is_public:
            raise NotFound("feedback.report_not_found")
        q = reads(uow)
        unit = (await q.unit_names([report.unit_id]))[report.unit_id]
        return public_out(report, await q.attachments(report.id), unit)

    @get("/reports/{report_id:uuid}/files/{file_id:uuid}", operation_id="feedbackPublicFile",
         summary="A photo or evidence file of a public report", media_type="application/octet-stream")
    async def file(self, container: AppContainer, uow: UnitOfWork, report_id: FromPath[uuid.UUID],
                   file_id: FromPath[uuid.UUID],
                   thumbnail: FromQuery[bool] = False) -> Response[bytes]:
        report = await PgReports(uow.conn).get(report_id)
        attachment = await reads(uow).attachment(report_id, file_id) if report else None
        if report is None or not report.is_public or attachment is None or not may_read_file(None, report, attachment):
            raise NotFound("feedback.file_not_found")
        return await send_file(container, attachment, thumbnail, public=True)
