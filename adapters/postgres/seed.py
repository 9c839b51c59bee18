"""``thudo seed``: idempotent demo data (upserts by code, safe to run on every start)."""

from __future__ import annotations

from typing import Any

import asyncpg

from adapters.postgres.feedback_seed import seed_feedback_categories
from adapters.postgres.identity_seed import seed_identity
from adapters.postgres.seed_data import DEPARTMENTS, DISTRICTS, WARDS
from domain.identity.ports import PiiProtector
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


async def seed_demo(conn: asyncpg.Connection[Any], pii: PiiProtector | None = None) -> None:
    async with conn.transaction():
        await seed_units(conn)
        await seed_feedback_categories(conn)
        if pii is not None:  # demo staff/admin grants are keyed by the personal id's keyed hash
            await seed_identity(conn, pii)
        # Each context with demo data adds its seed call here.
