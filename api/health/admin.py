"""City admins manage the facility registry (code, name, level, district, the API client it sends as)."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from api.health.citizen import BEARER
from api.health.schemas import FacilityIn, FacilityOut, facility_out
from api.health.wiring import health
from api.identity.auth import CurrentUser, city_admin_guard
from api.platform.deps import AppContainer, UnitOfWork
from domain.health.facilities import FacilityDraft


class FacilityAdminController(Controller):
    path = "/health-facilities"
    tags = ["health-admin"]
    security = BEARER
    guards = [city_admin_guard]

    @get("", operation_id="healthFacilities", summary="The facility registry (optionally one district)")
    async def list_facilities(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                              district_id: FromQuery[uuid.UUID | None] = None) -> list[FacilityOut]:
        return [facility_out(f) for f in await health(container, uow.conn).registry.list(principal, district_id)]

    @post("", operation_id="healthFacilityCreate", status_code=201, summary="Register a facility")
    async def create(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                     data: JSONBody[FacilityIn]) -> FacilityOut:
        draft = msgspec.convert(msgspec.to_builtins(data), FacilityDraft)
        return facility_out(await health(container, uow.conn).registry.add(principal, draft))

    @put("/{facility_id:uuid}", operation_id="healthFacilityUpdate", summary="Rename, link its API client, "
         "deactivate (the code never changes)")
    async def update(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                     facility_id: FromPath[uuid.UUID],
                     data: JSONBody[FacilityIn]) -> FacilityOut:
        draft = msgspec.convert(msgspec.to_builtins(data), FacilityDraft)
        return facility_out(await health(container, uow.conn).registry.update(principal, facility_id, draft))
