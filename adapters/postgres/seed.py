"""Reference data every context relies on: Hanoi's administrative and handling units (upserts by code,
safe to run on every start). Each context seeds its own demo data (``Context.seed``)."""

from __future__ import annotations

from typing import Any

import asyncpg

from adapters.postgres.seed_data import DEPARTMENTS, DISTRICTS, WARDS
from domain.shared.ids import new_id

CITY = ("HN", "Thành phố Hà Nội", "Hanoi City", 21.0285, 105.8542)

_UPSERT = """
INSERT INTO units (id, code, kind, name_vi, name_en, parent_id, lat, lon)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (code) DO UPDATE SET name_vi = EXCLUDED.name_vi, name_en = EXCLUDED.name_en,
    parent_id = EXCLUDED.parent_id, lat = EXCLUDED.lat, lon = EXCLUDED.lon
RETURNING id
"""





async def seed_units(conn: asyncpg.Connection[Any]) -> None:
    code, vi, en, lat, lon = CITY
    city_id = await conn.fetchval(_UPSERT, new_id(), code, "city", vi, en, None, lat, lon)
    for code, vi, en, lat, lon in DISTRICTS:
        district_id = await conn.fetchval(_UPSERT, new_id(), code, "district", vi, en, city_id, lat, lon)
        for wcode, wvi, wen, wlat, wlon in WARDS.get(code, []):
            await conn.fetchval(_UPSERT, new_id(), wcode, "ward", wvi, wen, district_id, wlat, wlon)
    for code, vi, en in DEPARTMENTS:
        await conn.fetchval(_UPSERT, new_id(), code, "department", vi, en, city_id, None, None)
