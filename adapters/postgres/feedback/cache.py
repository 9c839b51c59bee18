"""Process-local snapshot of feedback reference data: categories and unit centroids.

Both change rarely (a city admin edits a category, units are seeded) but are read on every new
report; caching them for a few seconds saves two round trips per submission. A category edited in
this process is dropped at once; other processes see it within ``ttl_s``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from domain.feedback.model import Category
from domain.feedback.routing import PlaceIndex


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
