"""Geography without PostGIS: Hanoi's bounds, great-circle distance, bounding boxes."""

from __future__ import annotations

import math

from domain.errors import InvalidInput

# Hanoi's administrative extent (with a small margin), WGS84.
HANOI_LAT = (20.53, 21.39)
HANOI_LON = (105.28, 106.02)
EARTH_RADIUS_M = 6_371_000.0


def check_in_hanoi(lat: float, lon: float) -> None:
    if not HANOI_LAT[0] <= lat <= HANOI_LAT[1]:
        raise InvalidInput("feedback.outside_hanoi", field="lat", rule="outside_hanoi")
    if not HANOI_LON[0] <= lon <= HANOI_LON[1]:
        raise InvalidInput("feedback.outside_hanoi", field="lon", rule="outside_hanoi")


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


class BBox(tuple[float, float, float, float]):
    """(min_lat, max_lat, min_lon, max_lon) enclosing a circle — the index-friendly pre-filter."""

    @classmethod
    def around(cls, lat: float, lon: float, radius_m: float) -> BBox:
        dlat = math.degrees(radius_m / EARTH_RADIUS_M)
        dlon = math.degrees(radius_m / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
        return cls((lat - dlat, lat + dlat, lon - dlon, lon + dlon))


# Heat-map grid: square cells of a given size in metres. Longitude degrees shrink with latitude, so
# the grid is scaled at one fixed latitude (central Hanoi): cells are square across the city (±1 %)
# and a cell's (row, col) never depends on which reports happen to be in the query.
GRID_LATITUDE = 21.03


def grid_steps(cell_m: float) -> tuple[float, float]:
    """(Δlat, Δlon) in degrees of a grid cell ``cell_m`` metres on a side."""
    dlat = math.degrees(cell_m / EARTH_RADIUS_M)
    return dlat, dlat / math.cos(math.radians(GRID_LATITUDE))


def cell_centre(row: int, col: int, steps: tuple[float, float]) -> tuple[float, float]:
    """Centre of the cell ``row = floor(lat / Δlat)``, ``col = floor(lon / Δlon)``."""
    return (row + 0.5) * steps[0], (col + 0.5) * steps[1]


# Index cells: 0.01° squares (about 1.1 × 1.0 km) keyed row * 100000 + col, row = floor(lat * 100),
# col = floor(lon * 100). Indexes key reports by them (migrations 0032, 0033) so that "near a point"
# reads one short index range per cell the box touches instead of a whole latitude band. The arithmetic
# is the same IEEE double multiplication in Python and PostgreSQL, so both agree on every point's cell.
INDEX_CELLS_PER_DEGREE = 100
_INDEX_COL_SPAN = 100_000


def index_cell(lat: float, lon: float) -> int:
    return math.floor(lat * INDEX_CELLS_PER_DEGREE) * _INDEX_COL_SPAN + math.floor(lon * INDEX_CELLS_PER_DEGREE)


def index_cells(box: BBox) -> list[int]:
    """Every index cell the box touches (a 100 m radius: 1–4 cells; 5 km: about 10 × 10)."""
    rows = range(math.floor(box[0] * INDEX_CELLS_PER_DEGREE), math.floor(box[1] * INDEX_CELLS_PER_DEGREE) + 1)
    cols = range(math.floor(box[2] * INDEX_CELLS_PER_DEGREE), math.floor(box[3] * INDEX_CELLS_PER_DEGREE) + 1)
    return [row * _INDEX_COL_SPAN + col for row in rows for col in cols]
