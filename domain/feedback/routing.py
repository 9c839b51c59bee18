"""Which unit handles a report: by category, then by location (ward, else district)."""

from __future__ import annotations

import math
import uuid

from domain.errors import InvalidInput
from domain.feedback.model import Category, UnitKind, UnitRef
from domain.feedback.ports import Units

# A unit with its centroid (WGS84 degrees).
Place = tuple[UnitRef, float, float]


class PlaceIndex:
    """Centroids grouped for the two lookups routing makes on every new report: the nearest district,
    then the nearest ward *of that district* — so each scans one short list, not every place in the
    city twice (Hanoi has 30 districts and hundreds of wards)."""

    def __init__(self, places: list[Place]) -> None:
        self.districts = [p for p in places if p[0].kind is UnitKind.DISTRICT]
        self.wards_of: dict[uuid.UUID | None, list[Place]] = {}
        for place in places:
            if place[0].kind is UnitKind.WARD:
                self.wards_of.setdefault(place[0].parent_id, []).append(place)

    def locate(self, lat: float, lon: float) -> UnitRef | None:
        """The nearest ward of the nearest district, or that district when it has no wards on record."""
        district = nearest(self.districts, lat, lon)
        if district is None:
            return None
        return nearest(self.wards_of.get(district.id, []), lat, lon) or district


def nearest(places: list[Place], lat: float, lon: float) -> UnitRef | None:
    """Nearest centroid by equirectangular distance: exact enough across one city."""
    k = math.cos(math.radians(lat))
    best: tuple[float, UnitRef] | None = None
    for unit, plat, plon in places:
        d = (plat - lat) ** 2 + ((plon - lon) * k) ** 2
        if best is None or d < best[0]:
            best = (d, unit)
    return best[1] if best else None


async def route(units: Units, category: Category, lat: float, lon: float,
                ward_id: uuid.UUID | None = None) -> UnitRef:
    """Category-owned departments first; a ward the citizen named; else the locality of the point
    (nearest ward of the nearest district; wards are only known for some districts)."""
    if category.route_to_department and category.department_id is not None:
        department = await units.get(category.department_id)
        if department is not None:
            return department
    if ward_id is not None:
        ward = await units.get(ward_id)
        if ward is None or ward.kind is not UnitKind.WARD:
            raise InvalidInput("feedback.unknown_ward", field="ward_id", rule="unknown_ward")
        return ward
    unit = await units.locate(lat, lon)
    if unit is None:
        raise InvalidInput("feedback.no_unit", field="lat", rule="no_unit")
    return unit
