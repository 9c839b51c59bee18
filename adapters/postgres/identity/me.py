"""A person's own identity data: profile, sessions list, push devices, consent records."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from adapters.postgres.identity.repositories import LIVE_SESSIONS, LIVE_WHERE
from domain.identity.principal import StaffGrant, StaffRole
from domain.identity.profile import ProfileRecord
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


# One round trip: the user row with its grants folded in (an aggregate without GROUP BY always
# yields one row, NULL arrays when the user holds no grant).
_PROFILE_SQL = """
SELECT u.id, u.full_name, u.personal_id_enc, u.date_of_birth, u.level, u.locale, u.district_id, u.city_admin,
       u.deletion_requested_at, g.units AS grant_units, g.roles AS grant_roles
FROM users u
LEFT JOIN LATERAL (SELECT array_agg(unit_id ORDER BY unit_id, role) AS units,
                          array_agg(role ORDER BY unit_id, role) AS roles
                   FROM staff_grants WHERE user_id = u.id) g ON true
WHERE u.id = $1"""

# The same row, found only while session $2 of that user is live: the caller's session check
# (adapters.postgres.identity.repositories.SessionGate, same conditions) carried by the profile query, so
# ``GET /me`` makes one round trip instead of two (api.identity.auth, ``SESSION_IN_QUERY``).
_PROFILE_IN_SESSION_SQL = """
SELECT u.id, u.full_name, u.personal_id_enc, u.date_of_birth, u.level, u.locale, u.district_id, u.city_admin,
       u.deletion_requested_at, g.units AS grant_units, g.roles AS grant_roles
""" + LIVE_SESSIONS + """
LEFT JOIN LATERAL (SELECT array_agg(unit_id ORDER BY unit_id, role) AS units,
                          array_agg(role ORDER BY unit_id, role) AS roles
                   FROM staff_grants WHERE user_id = u.id) g ON true
WHERE s.id = $2 AND u.id = $1 AND """ + LIVE_WHERE


def _record(row: Any) -> ProfileRecord | None:
    if row is None:
        return None
    grants = tuple(StaffGrant(unit_id=u, role=StaffRole(r))
                   for u, r in zip(row["grant_units"] or (), row["grant_roles"] or (), strict=True))
    return ProfileRecord(id=row["id"], full_name=row["full_name"], personal_id_enc=bytes(row["personal_id_enc"]),
                         date_of_birth=row["date_of_birth"], level=row["level"], locale=row["locale"],
                         district_id=row["district_id"], city_admin=row["city_admin"], grants=grants,
                         deletion_requested_at=row["deletion_requested_at"])


class PgProfiles:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def get(self, user_id: uuid.UUID) -> ProfileRecord | None:
        return _record(await self._conn.fetchrow(_PROFILE_SQL, user_id))

    async def get_in_session(self, user_id: uuid.UUID, session_id: uuid.UUID) -> ProfileRecord | None:
        return _record(await self._conn.fetchrow(_PROFILE_IN_SESSION_SQL, user_id, session_id))

    async def update(self, user_id: uuid.UUID, locale: str | None, district_id: uuid.UUID | None) -> None:
        await self._conn.execute(
            """UPDATE users SET locale = COALESCE($2, locale), district_id = COALESCE($3, district_id),
                      updated_at = now() WHERE id = $1""", user_id, locale, district_id)

    async def unit_kind(self, unit_id: uuid.UUID) -> str | None:
        kind: str | None = await self._conn.fetchval("SELECT kind FROM units WHERE id = $1", unit_id)
        return kind

    async def request_deletion(self, user_id: uuid.UUID) -> dt.datetime:
        at: dt.datetime = await self._conn.fetchval(
            """UPDATE users SET deletion_requested_at = COALESCE(deletion_requested_at, now()), updated_at = now()
               WHERE id = $1 RETURNING deletion_requested_at""", user_id)
        return at

    async def personal_data(self, user_id: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
        sessions = await self._conn.fetch(
            """SELECT id, created_at, last_used_at, expires_at, revoked_at, revoked_reason, user_agent, level
               FROM sessions WHERE user_id = $1 ORDER BY created_at""", user_id)
        devices = await self._conn.fetch(
            f"SELECT {_DEVICE_COLS} FROM devices WHERE user_id = $1 ORDER BY created_at", user_id)
        consents = await self._conn.fetch(
            "SELECT id, purpose, granted, created_at FROM consents WHERE user_id = $1 ORDER BY created_at", user_id)
        return {"sessions": [dict(r) for r in sessions], "devices": [dict(r) for r in devices],
                "consents": [dict(r) for r in consents]}
