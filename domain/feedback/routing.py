"""Which unit handles a report: by category, then by location (ward, else district)."""

from __future__ import annotations

import uuid

from domain.errors import InvalidInput
from domain.feedback.model import Category, UnitKind, UnitRef
from domain.feedback.ports import Units


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
