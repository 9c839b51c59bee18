"""Storage of the identity administration ports: staff grants, machine clients, Open311 partner keys.

Lists are keyset-paged on (created/granted time, id), the order the admin screens show.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from domain.identity.admin import After, ApiClient, PartnerKey, StaffGrantView
from domain.identity.clients import ClientKey
from domain.identity.principal import StaffRole
from domain.shared.ids import new_id

Conn = Any

_GRANT_SELECT = """SELECT g.user_id, u.full_name, g.unit_id, g.role, g.granted_by, g.granted_at
                   FROM staff_grants g JOIN users u ON u.id = g.user_id"""
_CLIENT_COLS = "id, client_id, kind, name, created_at, revoked_at"
_KEY_COLS = "id, name, created_at, revoked_at"


def _keyset(after: After | None, at: str, id_: str, first: int) -> tuple[str, list[Any]]:
    """``AND (at, id) > ($n, $n+1)`` after the last row shown, or nothing on the first page."""
    if after is None:
        return "", []
    return f" AND ({at}, {id_}) > (${first}, ${first + 1})", [after.at, uuid.UUID(after.id)]


class PgStaffGrants:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def page(self, unit_id: uuid.UUID, after: After | None, limit: int) -> list[StaffGrantView]:
        where, args = _keyset(after, "g.granted_at", "g.user_id", 3)
        rows = await self._conn.fetch(
            _GRANT_SELECT + f" WHERE g.unit_id = $1{where} ORDER BY g.granted_at, g.user_id LIMIT $2",
            unit_id, limit, *args)
        return [StaffGrantView(**dict(r)) for r in rows]

    async def unit_active(self, unit_id: uuid.UUID) -> bool:
        return bool(await self._conn.fetchval("SELECT true FROM units WHERE id = $1 AND active", unit_id))

    async def user_by_hash(self, personal_id_hash: bytes) -> uuid.UUID | None:
        found: uuid.UUID | None = await self._conn.fetchval(
            "SELECT id FROM users WHERE personal_id_hash = $1", personal_id_hash)
        return found

    async def user_exists(self, user_id: uuid.UUID) -> bool:
        return bool(await self._conn.fetchval("SELECT true FROM users WHERE id = $1", user_id))

    async def add(self, user_id: uuid.UUID, unit_id: uuid.UUID, role: StaffRole,
                  granted_by: uuid.UUID) -> StaffGrantView | None:
        row = await self._conn.fetchrow(
            """WITH added AS (
                   INSERT INTO staff_grants (user_id, unit_id, role, granted_by) VALUES ($1, $2, $3, $4)
                   ON CONFLICT DO NOTHING RETURNING *)
               SELECT g.user_id, u.full_name, g.unit_id, g.role, g.granted_by, g.granted_at
               FROM added g JOIN users u ON u.id = g.user_id""", user_id, unit_id, role.value, granted_by)
        return StaffGrantView(**dict(row)) if row else None

    async def remove(self, unit_id: uuid.UUID, user_id: uuid.UUID, role: str) -> bool:
        return bool(await self._conn.fetchval(
            "DELETE FROM staff_grants WHERE unit_id = $1 AND user_id = $2 AND role = $3 RETURNING true",
            unit_id, user_id, role))


class PgAccountStatus:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def set_suspended(self, user_id: uuid.UUID, suspended: bool) -> bool:
        # coalesce keeps the first suspension time when suspended twice (PUT is idempotent).
        found = bool(await self._conn.fetchval(
            """UPDATE users SET suspended_at = CASE WHEN $2 THEN coalesce(suspended_at, now()) END,
                      updated_at = now()
               WHERE id = $1 RETURNING true""", user_id, suspended))
        if found and suspended:
            # Ended, not just paused: reinstating must not revive tokens issued before the suspension
            # (and the sessions' push devices go with them, see migration 0015).
            await self._conn.execute(
                """UPDATE sessions SET revoked_at = now(), revoked_reason = 'suspended'
                   WHERE user_id = $1 AND revoked_at IS NULL""", user_id)
        return found


class PgApiClients:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def page(self, after: After | None, limit: int) -> list[ApiClient]:
        where, args = _keyset(after, "created_at", "id", 2)
        rows = await self._conn.fetch(
            f"SELECT {_CLIENT_COLS} FROM api_clients WHERE true{where} ORDER BY created_at, id LIMIT $1", limit, *args)
        return [ApiClient(**dict(r)) for r in rows]

    async def register(self, *, client_id: str, kind: str, name: str, public_jwk: dict[str, Any],
                       created_by: uuid.UUID) -> ApiClient | None:
        row = await self._conn.fetchrow(
            f"""INSERT INTO api_clients (id, client_id, kind, name, public_jwk, created_by)
                VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (client_id) DO NOTHING RETURNING {_CLIENT_COLS}""",
            new_id(), client_id, kind, name, public_jwk, created_by)
        return ApiClient(**dict(row)) if row else None

    async def active(self, client_id: str) -> ClientKey | None:
        row = await self._conn.fetchrow(
            "SELECT id, kind, public_jwk FROM api_clients WHERE client_id = $1 AND revoked_at IS NULL", client_id)
        return ClientKey(**dict(row)) if row else None

    async def use_assertion(self, client_id: str, jti: str, expires_at: dt.datetime) -> bool:
        first_use = await self._conn.fetchval(
            """INSERT INTO client_assertion_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3)
               ON CONFLICT DO NOTHING RETURNING true""", client_id, jti, expires_at)
        # Expired jtis of this client are swept here rather than by a job: bounded by its request rate.
        await self._conn.execute("DELETE FROM client_assertion_jtis WHERE expires_at < now() AND client_id = $1",
                                 client_id)
        return bool(first_use)

    async def revoke(self, id: uuid.UUID) -> bool:
        return bool(await self._conn.fetchval(
            "UPDATE api_clients SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING true", id))


class PgPartnerKeys:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def page(self, after: After | None, limit: int) -> list[PartnerKey]:
        where, args = _keyset(after, "created_at", "id", 2)
        rows = await self._conn.fetch(
            f"SELECT {_KEY_COLS} FROM open311_keys WHERE true{where} ORDER BY created_at, id LIMIT $1", limit, *args)
        return [PartnerKey(**dict(r)) for r in rows]

    async def create(self, name: str, key_hash: bytes, created_by: uuid.UUID) -> PartnerKey:
        row = await self._conn.fetchrow(
            f"""INSERT INTO open311_keys (id, name, key_hash, created_by) VALUES ($1, $2, $3, $4)
                RETURNING {_KEY_COLS}""", new_id(), name, key_hash, created_by)
        return PartnerKey(**dict(row))

    async def revoke(self, id: uuid.UUID) -> bool:
        return bool(await self._conn.fetchval(
            "UPDATE open311_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING true", id))

    async def find_active(self, key_hash: bytes) -> uuid.UUID | None:
        found: uuid.UUID | None = await self._conn.fetchval(
            "SELECT id FROM open311_keys WHERE key_hash = $1 AND revoked_at IS NULL", key_hash)
        return found
