"""A person's own identity data: sessions list, push devices, consent records."""

from __future__ import annotations

import uuid
from typing import Any

from domain.shared.ids import new_id

Conn = Any

_DEVICE_COLS = "id, platform, app_version, locale, session_id, created_at, updated_at"


async def list_sessions(conn: Conn, user_id: uuid.UUID) -> list[Any]:
    return list(await conn.fetch(
        """SELECT id, created_at, last_used_at, expires_at, user_agent, level FROM sessions
           WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() ORDER BY created_at DESC LIMIT 100""",
        user_id))


class PgDevices:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def list(self, user_id: uuid.UUID, limit: int) -> list[dict[str, Any]]:
        rows = await self._conn.fetch(
            f"SELECT {_DEVICE_COLS} FROM devices WHERE user_id = $1 ORDER BY created_at, id LIMIT $2", user_id, limit)
        return [dict(r) for r in rows]

    async def upsert(self, user_id: uuid.UUID, session_id: uuid.UUID | None, fcm_token: str, platform: str,
                     app_version: str, locale: str) -> dict[str, Any]:
        # A token identifies one installation: registering it again moves it to this user/session.
        row = await self._conn.fetchrow(
            f"""INSERT INTO devices (id, user_id, session_id, fcm_token, platform, app_version, locale)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (fcm_token) DO UPDATE SET user_id = EXCLUDED.user_id, session_id = EXCLUDED.session_id,
                    platform = EXCLUDED.platform, app_version = EXCLUDED.app_version, locale = EXCLUDED.locale,
                    updated_at = now()
                RETURNING {_DEVICE_COLS}""",
            new_id(), user_id, session_id, fcm_token, platform, app_version, locale)
        return dict(row)

    async def update(self, user_id: uuid.UUID, device_id: uuid.UUID, fcm_token: str | None,
                     app_version: str | None, locale: str | None) -> dict[str, Any] | None:
        if fcm_token is not None:
            # The rotated token may still sit on a stale row (reinstall): the installation owns it now.
            await self._conn.execute("DELETE FROM devices WHERE fcm_token = $1 AND id <> $2", fcm_token, device_id)
        row = await self._conn.fetchrow(
            f"""UPDATE devices SET fcm_token = COALESCE($3, fcm_token), app_version = COALESCE($4, app_version),
                       locale = COALESCE($5, locale), updated_at = now()
                WHERE id = $1 AND user_id = $2 RETURNING {_DEVICE_COLS}""",
            device_id, user_id, fcm_token, app_version, locale)
        return dict(row) if row else None

    async def delete(self, user_id: uuid.UUID, device_id: uuid.UUID) -> bool:
        return bool(await self._conn.fetchval(
            "DELETE FROM devices WHERE id = $1 AND user_id = $2 RETURNING true", device_id, user_id))


class PgConsents:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def history(self, user_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = await self._conn.fetch(
            """SELECT id, purpose, granted, created_at FROM consents WHERE user_id = $1
               ORDER BY created_at DESC, id DESC LIMIT 500""", user_id)
        return [dict(r) for r in rows]

    async def record(self, user_id: uuid.UUID, purpose: str, granted: bool) -> dict[str, Any]:
        row = await self._conn.fetchrow(
            """INSERT INTO consents (id, user_id, purpose, granted) VALUES ($1, $2, $3, $4)
               RETURNING id, purpose, granted, created_at""", new_id(), user_id, purpose, granted)
        return dict(row)
