"""Reads the active units, in a stable order so that the same directory always encodes to the same bytes."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from domain.units.model import Centroid, Unit, UnitKind

_COLUMNS = "id, code, kind, name_vi, name_en, parent_id, lat, lon"


def _unit(row: asyncpg.Record) -> Unit:
    centroid = Centroid(lat=row["lat"], lon=row["lon"]) if row["lat"] is not None and row["lon"] is not None else None
    return Unit(id=row["id"], code=row["code"], kind=UnitKind(row["kind"]), name_vi=row["name_vi"],
                name_en=row["name_en"], parent_id=row["parent_id"], centroid=centroid)


class PgUnitDirectory:
    def __init__(self, conn: asyncpg.Connection[Any]) -> None:
        self._conn = conn

    async def list(self, kind: UnitKind | None, parent_id: uuid.UUID | None) -> list[Unit]:
        rows = await self._conn.fetch(
            f"SELECT {_COLUMNS} FROM units WHERE active AND ($1::text IS NULL OR kind = $1) "
            "AND ($2::uuid IS NULL OR parent_id = $2) ORDER BY code", kind, parent_id)
        return [_unit(r) for r in rows]

    async def get(self, unit_id: uuid.UUID) -> Unit | None:
        row = await self._conn.fetchrow(f"SELECT {_COLUMNS} FROM units WHERE active AND id = $1", unit_id)
        return None if row is None else _unit(row)

    async def get_many(self, unit_ids: Sequence[uuid.UUID]) -> builtins.list[Unit]:
        """The active units among ``unit_ids``, in that order, in one query."""
        rows = await self._conn.fetch(f"SELECT {_COLUMNS} FROM units WHERE active AND id = ANY($1)", list(unit_ids))
        found = {r["id"]: _unit(r) for r in rows}
        return [found[i] for i in unit_ids if i in found]
