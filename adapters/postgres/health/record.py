"""Read side of the health record (``Record`` port): app lists, FHIR reads and searches.

Every query starts from ``patient_id`` and is served by one of the two indexes of migration 0050
(patient + type, patient + category, both ordered by date DESC, id DESC).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from adapters.postgres.identity.repositories import within_live_session
from domain.health.model import Category, RecordItem, StoredResource
from domain.health.ports import OwnItems, OwnItemsQuery

Conn = Any

COLS = """id, resource_type, source_key, patient_id, facility_id, encounter_id, category, fhir_categories, codes,
    date, status, clinical_status, intent, version_id, last_updated, content_hash, resource::text AS resource,
    item::text AS item"""

_item = msgspec.json.Decoder(RecordItem)

ITEMS_SQL = f"""
SELECT {COLS} FROM health_resources
WHERE patient_id = $1 AND category = ANY($2::text[]) AND ($3::uuid IS NULL OR facility_id = $3)
  AND ($4::uuid IS NULL OR encounter_id = $4) AND ($5::timestamptz IS NULL OR (date, id) < ($5, $6))
ORDER BY date DESC, id DESC LIMIT $7
"""

# The timeline's hot query: one category, so the (patient_id, category, date, id) index yields the order.
TIMELINE_SQL = f"""
SELECT {COLS} FROM health_resources
WHERE patient_id = $1 AND category = $2 AND ($3::timestamptz IS NULL OR (date, id) < ($3, $4))
ORDER BY date DESC, id DESC LIMIT $5
"""

# The citizen app's lists (``Record.own_items``): the patient user $1 is (by their personal ID's keyed hash, as
# ``PgPatients.of_user``) and a page of one category of theirs, as TIMELINE_SQL; no row when the record does
# not know them, one row without a resource when it does and the page is empty.
OWN_ITEMS_SQL = f"""
SELECT pt.id AS own_patient_id, r.* FROM users u
JOIN health_patients pt ON pt.personal_id_hash = u.personal_id_hash
LEFT JOIN LATERAL (
    SELECT {COLS} FROM health_resources
    WHERE patient_id = pt.id AND category = $2 AND ($3::timestamptz IS NULL OR (date, id) < ($3, $4))
    ORDER BY date DESC, id DESC LIMIT $5) r ON true
WHERE u.id = $1
"""
# The same, read only while session $6 of user $1 is live (api.identity.auth, ``SESSION_IN_QUERY``).
OWN_ITEMS_IN_SESSION_SQL = within_live_session(OWN_ITEMS_SQL, session="$6", user="$1")

# A FHIR search page: the (patient_id, resource_type, date DESC, id DESC) index yields the order, so a page
# reads ``offset + limit`` rows (the caller asks for one more than it shows, to know if a next page exists)
# and never the patient's other matches. The total is not computed here: ``count(*) OVER ()`` made every
# search read, and turn into JSON text, every match of the patient before keeping 20 (COUNT_SQL counts
# when the client asks for the total).
_SEARCH_WHERE = """
WHERE patient_id = $1 AND resource_type = $2 AND category = ANY($3::text[])
  AND ($4::uuid IS NULL OR facility_id = $4)
  AND (cardinality($5::text[]) = 0 OR fhir_categories && $5)
  AND (cardinality($6::text[]) = 0 OR codes && $6)
  AND ($7::timestamptz IS NULL OR date >= $7) AND ($8::timestamptz IS NULL OR date < $8)
  AND (cardinality($9::text[]) = 0 OR clinical_status = ANY($9))
  AND (cardinality($10::text[]) = 0 OR status = ANY($10))
  AND (cardinality($11::text[]) = 0 OR intent = ANY($11))"""

# The page is chosen on the stored rows and only its rows are turned into JSON text (``resource::text``,
# ``item::text`` cost ~7 µs a row): selecting the casts directly would compute them for every match, since
# the planner evaluates them below the sort whenever a bitmap scan feeds it (few rows per patient).
SEARCH_SQL = f"""
SELECT {COLS} FROM (
  SELECT * FROM health_resources{_SEARCH_WHERE}
  ORDER BY date DESC, id DESC OFFSET $12 LIMIT $13) AS page
ORDER BY date DESC, id DESC
"""

COUNT_SQL = f"SELECT count(*) FROM health_resources{_SEARCH_WHERE}"


def stored(row: asyncpg.Record) -> StoredResource:
    return StoredResource(
        id=row["id"], resource_type=row["resource_type"], source_key=row["source_key"], patient_id=row["patient_id"],
        facility_id=row["facility_id"], encounter_id=row["encounter_id"], category=Category(row["category"]),
        fhir_categories=tuple(row["fhir_categories"]), codes=tuple(row["codes"]), date=row["date"],
        status=row["status"], clinical_status=row["clinical_status"], intent=row["intent"],
        version_id=row["version_id"], last_updated=row["last_updated"], content_hash=row["content_hash"],
        resource_json=row["resource"].encode(), item=_item.decode(row["item"]))


def _own_items(rows: list[asyncpg.Record]) -> OwnItems:
    if not rows or rows[0]["own_patient_id"] is None:
        return OwnItems(patient_id=None, rows=[])
    return OwnItems(patient_id=rows[0]["own_patient_id"], rows=[stored(r) for r in rows if r["id"] is not None])


def _own_args(q: OwnItemsQuery) -> tuple[Any, ...]:
    at, after_id = q.before if q.before else (None, None)
    return q.user_id, q.category.value, at, after_id, q.limit + 1


class PgRecord:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def own_items(self, query: OwnItemsQuery) -> OwnItems:
        return _own_items(await self.conn.fetch(OWN_ITEMS_SQL, *_own_args(query)))

    async def own_items_in_session(self, query: OwnItemsQuery, session_id: uuid.UUID) -> OwnItems | None:
        """``own_items`` read only while the citizen's session ``session_id`` is live (None: it is not), in the
        same round trip."""
        rows = await self.conn.fetch(OWN_ITEMS_IN_SESSION_SQL, *_own_args(query), session_id)
        return None if not rows else _own_items(rows)

    async def items(self, patient_id: uuid.UUID, categories: tuple[Category, ...], *,
                    facility_id: uuid.UUID | None, before: tuple[datetime | None, uuid.UUID] | None,
                    limit: int, encounter_id: uuid.UUID | None = None) -> list[StoredResource]:
        at, after_id = before if before else (None, None)
        if len(categories) == 1 and facility_id is None and encounter_id is None:
            rows = await self.conn.fetch(TIMELINE_SQL, patient_id, categories[0].value, at, after_id, limit)
        else:
            rows = await self.conn.fetch(ITEMS_SQL, patient_id, [c.value for c in categories], facility_id,
                                         encounter_id, at, after_id, limit)
        return [stored(r) for r in rows]

    async def item(self, patient_id: uuid.UUID, resource_id: uuid.UUID) -> StoredResource | None:
        row = await self.conn.fetchrow(f"SELECT {COLS} FROM health_resources WHERE id = $1 AND patient_id = $2",
                                       resource_id, patient_id)
        return stored(row) if row else None

    async def search(self, patient_id: uuid.UUID, resource_type: str, *, categories: tuple[Category, ...],
                     facility_id: uuid.UUID | None, category: tuple[str, ...] = (), code: tuple[str, ...] = (),
                     date_from: datetime | None = None, date_to: datetime | None = None,
                     clinical_status: tuple[str, ...] = (), status: tuple[str, ...] = (),
                     intent: tuple[str, ...] = (), offset: int = 0, limit: int = 20) -> list[StoredResource]:
        rows = await self.conn.fetch(SEARCH_SQL, patient_id, resource_type, [c.value for c in categories],
                                     facility_id, list(category), list(code), date_from, date_to,
                                     list(clinical_status), list(status), list(intent), offset, limit)
        return [stored(r) for r in rows]

    async def count(self, patient_id: uuid.UUID, resource_type: str, *, categories: tuple[Category, ...],
                    facility_id: uuid.UUID | None, category: tuple[str, ...] = (), code: tuple[str, ...] = (),
                    date_from: datetime | None = None, date_to: datetime | None = None,
                    clinical_status: tuple[str, ...] = (), status: tuple[str, ...] = (),
                    intent: tuple[str, ...] = ()) -> int:
        return int(await self.conn.fetchval(COUNT_SQL, patient_id, resource_type, [c.value for c in categories],
                                            facility_id, list(category), list(code), date_from, date_to,
                                            list(clinical_status), list(status), list(intent)))

    async def read(self, resource_type: str, resource_id: uuid.UUID) -> StoredResource | None:
        row = await self.conn.fetchrow(f"SELECT {COLS} FROM health_resources WHERE id = $1 AND resource_type = $2",
                                       resource_id, resource_type)
        return stored(row) if row else None

    async def facilities_of(self, patient_id: uuid.UUID) -> frozenset[uuid.UUID]:
        rows = await self.conn.fetch("SELECT DISTINCT facility_id FROM health_encounters WHERE patient_id = $1",
                                     patient_id)
        return frozenset(r["facility_id"] for r in rows)
