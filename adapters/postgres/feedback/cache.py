"""Process-local snapshot of feedback reference data: categories and unit centroids.

Both change rarely (a city admin edits a category, units are seeded) but are read on every new
report; caching them for a few seconds saves two round trips per submission. A category edited in
this process is dropped at once; other processes see it within ``ttl_s``.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable

from domain.feedback.model import Category, UnitKind, UnitRef

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


class ReferenceCache:
    def __init__(self, ttl_s: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._categories: dict[uuid.UUID, tuple[float, Category]] = {}
        self._places: tuple[float, PlaceIndex] | None = None

    def category(self, category_id: uuid.UUID) -> Category | None:
        hit = self._categories.get(category_id)
        return hit[1] if hit and hit[0] > self._clock() else None

    def put_category(self, category: Category) -> None:
        self._categories[category.id] = (self._clock() + self.ttl_s, category)

    def drop_category(self, category_id: uuid.UUID) -> None:
        self._categories.pop(category_id, None)

    def places(self) -> PlaceIndex | None:
        return self._places[1] if self._places and self._places[0] > self._clock() else None

    def put_places(self, places: PlaceIndex) -> None:
        self._places = (self._clock() + self.ttl_s, places)


def nearest(places: list[Place], lat: float, lon: float) -> UnitRef | None:
    """Nearest centroid by equirectangular distance: exact enough across one city."""
    k = math.cos(math.radians(lat))
    best: tuple[float, UnitRef] | None = None
    for unit, plat, plon in places:
        d = (plat - lat) ** 2 + ((plon - lon) * k) ** 2
        if best is None or d < best[0]:
            best = (d, unit)
    return best[1] if best else None
