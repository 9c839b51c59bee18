"""The issuing authorities' unit ids, read once at start from the ``units`` reference table."""

from __future__ import annotations

import uuid
from typing import Any

from domain.judicial.authority import DOJ_CODE, POLICE_CODE, AuthoritySchedule, default_schedule


async def load_default_schedule(conn: Any) -> AuthoritySchedule:
    rows = await conn.fetch("SELECT code, id FROM units WHERE code = ANY($1::text[]) AND active",
                            [DOJ_CODE, POLICE_CODE])
    units: dict[str, uuid.UUID] = {r["code"]: r["id"] for r in rows}
    missing = {DOJ_CODE, POLICE_CODE} - set(units)
    if missing:
        raise LookupError(f"issuing authority units missing from units: {sorted(missing)}")
    return default_schedule(units)
