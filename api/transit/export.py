"""The person's transit data for ``GET /api/v1/me/export``: cards, passes, applications."""

from __future__ import annotations

from typing import Any

import msgspec

from adapters.postgres.transit.cards import PgApplications, PgCards, PgPasses
from api.transit.schemas import application_out, card_out, pass_out
from domain.identity.principal import Principal


async def export_transit(conn: Any, principal: Principal) -> dict[str, Any]:
    cards = await PgCards(conn).list_for(principal.id)
    passes = await PgPasses(conn).list_for(principal.id)
    applications = await PgApplications(conn).list_for(principal.id)
    return {"cards": msgspec.to_builtins([card_out(c) for c in cards]),
            "passes": msgspec.to_builtins([pass_out(p) for p in passes]),
            "concession_applications": msgspec.to_builtins([application_out(a) for a in applications])}
