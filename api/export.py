"""``GET /api/v1/me/export``: the data subject's copy of everything we hold about them.

Each bounded context registers one exporter with ``register_exporter(name, fn)``; ``fn(conn,
container, principal)`` returns JSON-able data scoped to ``principal.id``, read in the request's
transaction so the export is one consistent snapshot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from api.container import Container
from api.identity_schemas import user_out
from domain.identity.principal import Principal

Exporter = Callable[[Any, Container, Principal], Awaitable[Any]]

EXPORTERS: dict[str, Exporter] = {}


def register_exporter(name: str, exporter: Exporter) -> None:
    EXPORTERS[name] = exporter


async def export_all(conn: Any, container: Container, principal: Principal) -> dict[str, Any]:
    out: dict[str, Any] = {"format": "thudo-export/1", "user_id": str(principal.id)}
    for name, exporter in EXPORTERS.items():
        out[name] = msgspec.to_builtins(await exporter(conn, container, principal))
    return out


async def _identity(conn: Any, container: Container, principal: Principal) -> dict[str, Any]:
    assert container.identity is not None
    pii = container.identity.pii
    profile = msgspec.to_builtins(await user_out(conn, pii, principal.id))
    enc = await conn.fetchval("SELECT personal_id_enc FROM users WHERE id = $1", principal.id)
    profile["personal_id"] = pii.decrypt(bytes(enc))  # the subject's own export shows it in full
    sessions = await conn.fetch(
        """SELECT id, created_at, last_used_at, expires_at, revoked_at, revoked_reason, user_agent, level
           FROM sessions WHERE user_id = $1 ORDER BY created_at""", principal.id)
    devices = await conn.fetch(
        """SELECT id, platform, app_version, locale, session_id, created_at, updated_at FROM devices
           WHERE user_id = $1 ORDER BY created_at""", principal.id)
    consents = await conn.fetch(
        "SELECT id, purpose, granted, created_at FROM consents WHERE user_id = $1 ORDER BY created_at", principal.id)
    return {"profile": profile, "sessions": [dict(r) for r in sessions], "devices": [dict(r) for r in devices],
            "consents": [dict(r) for r in consents]}


register_exporter("identity", _identity)
