"""The registry of medical facilities (code, name, level, district), managed by city admins.

A facility becomes able to send data once it is linked to an API client (``private_key_jwt``,
registered in identity); the link is what ties a bundle to the facility that may send it.
"""

from __future__ import annotations

import re
import uuid

import msgspec

from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.health.model import Facility, FacilityLevel
from domain.health.ports import Facilities
from domain.identity.principal import Principal
from domain.shared.ids import new_id

CODE = re.compile(r"^[0-9A-Z]{3,10}$")


class FacilityDraft(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    level: FacilityLevel
    district_id: uuid.UUID | None = None
    client_id: uuid.UUID | None = None
    active: bool = True


class FacilityRegistry:
    def __init__(self, facilities: Facilities) -> None:
        self.facilities = facilities

    @staticmethod
    def _admin(principal: Principal) -> None:
        if not principal.city_admin:
            raise Forbidden("health.city_admin_only")

    async def _check_links(self, draft: FacilityDraft) -> None:
        district, client = await self.facilities.link_kinds(draft.district_id, draft.client_id)
        if draft.district_id is not None and district != "district":
            raise InvalidInput("health.facility_district", field="district_id", rule="district")
        if draft.client_id is not None and client != "facility":
            raise InvalidInput("health.facility_client", field="client_id", rule="facility_client")

    async def add(self, principal: Principal, draft: FacilityDraft) -> Facility:
        self._admin(principal)
        if not CODE.match(draft.code):
            raise InvalidInput("health.facility_code", field="code", rule="pattern")
        if not draft.name.strip():
            raise InvalidInput("health.facility_name", field="name", rule="required")
        if await self.facilities.by_code(draft.code) is not None:
            raise Conflict("health.facility_code_taken", field="code", rule="unique")
        await self._check_links(draft)
        facility = Facility(id=new_id(), code=draft.code, name=draft.name.strip(), level=draft.level,
                            district_id=draft.district_id, client_id=draft.client_id, active=draft.active)
        await self.facilities.add(facility)
        return facility

    async def update(self, principal: Principal, facility_id: uuid.UUID, draft: FacilityDraft) -> Facility:
        self._admin(principal)
        current = await self.facilities.get(facility_id)
        if current is None:
            raise NotFound("health.facility_not_found")
        if draft.code != current.code:
            raise InvalidInput("health.facility_code_fixed", field="code", rule="immutable")
        await self._check_links(draft)
        updated = msgspec.structs.replace(current, name=draft.name.strip(), level=draft.level,
                                          district_id=draft.district_id, client_id=draft.client_id,
                                          active=draft.active)
        await self.facilities.update(updated)
        return updated

    async def list(self, principal: Principal, district_id: uuid.UUID | None = None) -> list[Facility]:
        self._admin(principal)
        return await self.facilities.list(district_id=district_id)
