"""``GET /api/v1/me/export``: the data subject's copy of everything we hold about them.

Every context with personal data lists an ``exporter`` in its ``Context`` record; each returns
JSON-able data scoped to ``principal.id``, read in the request's transaction so the export is one
consistent snapshot.
"""

from __future__ import annotations

from typing import Any

import msgspec

from adapters.postgres.uow import PgUnitOfWork
from api.platform.container import Container
from domain.identity.principal import Principal


async def export_all(container: Container, uow: PgUnitOfWork, principal: Principal) -> dict[str, Any]:
    out: dict[str, Any] = {"format": "thudo-export/1", "user_id": str(principal.id)}
    for context in container.contexts:
        if context.exporter is not None:
            out[context.name] = msgspec.to_builtins(await context.exporter(container, uow, principal))
    return out
