"""``GET /api/v1/units``: districts, wards and departments, public and cacheable.

The directory changes only when reference data is reloaded, so answers carry a strong ETag (a hash of
the exact bytes) and ``Cache-Control: public``: an app revalidates with ``If-None-Match`` and gets a
body-less 304 while nothing changed.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import FromPath, FromQuery

from adapters.postgres.units.directory import PgUnitDirectory
from api.platform import i18n
from api.platform.conditional import not_modified, strong_etag
from api.platform.deps import UnitOfWork
from domain.errors import NotFound
from domain.units.model import Unit, UnitKind

CACHE_CONTROL = "public, max-age=3600"

i18n.register({"units.unit_not_found": {"vi": "Không tìm thấy đơn vị", "en": "The unit was not found"}})


def _cached(request: Request[Any, Any, Any], value: Any) -> Response[Any]:
    body = msgspec.json.encode(value)
    etag = strong_etag(body)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if not_modified(request, etag):
        return Response(b"", status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


class UnitsController(Controller):
    path = "/units"
    tags = ["units"]

    @get("", operation_id="unitsList", summary="The city's districts, wards and departments (public, cacheable)",
         description="Filter with `kind` and `parent_id` (a district's wards: `?kind=ward&parent_id=…`). "
                     "Send the ETag back in `If-None-Match`: 304 while the directory is unchanged.")
    async def directory(self, request: Request[Any, Any, Any], uow: UnitOfWork, kind: FromQuery[UnitKind | None] = None,
                   parent_id: FromQuery[uuid.UUID | None] = None) -> Response[list[Unit]]:
        return _cached(request, await PgUnitDirectory(uow.conn).list(kind, parent_id))

    @get("/{unit_id:uuid}", operation_id="unitsGet", summary="One unit")
    async def one(self, request: Request[Any, Any, Any], uow: UnitOfWork,
                  unit_id: FromPath[uuid.UUID]) -> Response[Unit]:
        unit = await PgUnitDirectory(uow.conn).get(unit_id)
        if unit is None:
            raise NotFound("units.unit_not_found")
        return _cached(request, unit)
