"""Test data for the notifications tests: users and devices written straight to PostgreSQL."""

from __future__ import annotations

import os
import uuid
from typing import Any

from domain.shared.ids import new_id


async def make_user(conn: Any, *, locale: str = "vi", district_id: uuid.UUID | None = None) -> uuid.UUID:
    uid = new_id()
    await conn.execute(
        """INSERT INTO users (id, eid_issuer, eid_subject, personal_id_hash, personal_id_enc, full_name,
                              level, locale, district_id)
           VALUES ($1, 'test', $2, $3, $4, 'Test User', 2, $5, $6)""",
        uid, str(uid), os.urandom(32), os.urandom(32), locale, district_id)
    return uid


async def make_devices(conn: Any, user_id: uuid.UUID, n: int = 1, *, locale: str = "vi") -> list[str]:
    """``n`` devices for the user; returns their FCM tokens."""
    rows = [(new_id(), user_id, f"tok-{uuid.uuid4().hex}", locale) for _ in range(n)]
    await conn.executemany(
        "INSERT INTO devices (id, user_id, fcm_token, platform, app_version, locale) "
        "VALUES ($1, $2, $3, 'android', '1.0', $4)", rows)
    return [r[2] for r in rows]
