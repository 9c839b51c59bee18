"""Demo grants for the VNeID stand-in's demo people, keyed by their (fictitious) personal ids.

Applied when those people first log in through the stand-in (``pending_grants``), or at once if
they already have. Only loaded with SEED_DEMO (the embedded default), never in production.
"""

from __future__ import annotations

from typing import Any

from adapters.postgres.identity.repositories import grant_by_personal_id_hash
from domain.identity.ports import PiiProtector

# (personal id of a demo person in adapters/dev/vneid_provider.DEMO_PEOPLE, role, unit code)
DEMO_GRANTS: tuple[tuple[str, str, str], ...] = (
    ("001080000303", "handler", "W00004"),      # Lê Văn Cường: ward officer, Trúc Bạch
    ("001080000303", "supervisor", "D001"),     # … and supervisor in Ba Đình district
    ("001175000404", "city_admin", ""),         # Phạm Thị Dung: city administrator
    ("001175000404", "unit_admin", "S-XD"),     # … and unit admin of the Department of Construction
)


async def seed_identity(conn: Any, pii: PiiProtector) -> None:
    for personal_id, role, unit_code in DEMO_GRANTS:
        await grant_by_personal_id_hash(conn, pii.lookup_hash(personal_id), role, unit_code)
