"""The social-insurance queue on PostgreSQL: the visit rows themselves (migration 0050)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import msgspec

from domain.health.insurance import DueVisit, InsuranceLine, InsuranceMessage
from domain.health.model import RecordItem

_item = msgspec.json.Decoder(RecordItem)

# Claim: lease due visits, then gather what each message carries from the stored rows.
_CLAIM = """
WITH due AS (
    SELECT id FROM health_encounters
    WHERE insurance_version < version AND insurance_due_at <= $1
    ORDER BY insurance_due_at LIMIT $2 FOR UPDATE SKIP LOCKED
)
UPDATE health_encounters e SET insurance_due_at = $1 + $3::interval, insurance_attempts = insurance_attempts + 1
FROM due WHERE e.id = due.id
RETURNING e.id, e.version, e.identifier, e.insurance_card, e.insurance_attempts - 1 AS attempts,
    (SELECT code FROM health_facilities f WHERE f.id = e.facility_id) AS facility_code
"""

_LINES = """
SELECT encounter_id, resource_type, item::text AS item FROM health_resources
WHERE encounter_id = ANY($1::uuid[]) AND resource_type IN ('Encounter', 'Condition', 'MedicationRequest')
ORDER BY encounter_id, date, id
"""


class PgInsuranceQueue:
    """Each method runs on its own connection from ``pool`` in a short transaction (worker side)."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    async def claim(self, now: datetime, limit: int, lease: timedelta) -> list[DueVisit]:
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_CLAIM, now, limit, lease)
            if not rows:
                return []
            lines = await conn.fetch(_LINES, [r["id"] for r in rows])
        by_visit: dict[uuid.UUID, list[RecordItem]] = {}
        for line in lines:
            by_visit.setdefault(line["encounter_id"], []).append(_item.decode(line["item"]))
        out = []
        for r in rows:
            items = by_visit.get(r["id"], [])
            visit = next((i for i in items if i.resource_type == "Encounter"), None)
            card = r["insurance_card"]
            message = InsuranceMessage(
                key=f"{r['facility_code']}|{r['identifier'].split('|', 1)[-1]}|{r['version']}",
                facility_code=r["facility_code"], visit_code=r["identifier"].split("|", 1)[-1], version=r["version"],
                insurance_card=card, start=visit.date if visit else None, end=visit.end if visit else None,
                visit_class=visit.visit_class if visit else None,
                diagnoses=tuple(InsuranceLine(code=i.code or "", text=i.title)
                                for i in items if i.resource_type == "Condition"),
                medicines=tuple(InsuranceLine(code=i.code or "", text=i.title,
                                              quantity=i.quantity.value if i.quantity else None,
                                              unit=i.quantity.unit if i.quantity else None)
                                for i in items if i.resource_type == "MedicationRequest"))
            out.append(DueVisit(encounter_id=r["id"], attempts=r["attempts"], message=message))
        return out

    async def synced(self, encounter_id: uuid.UUID, version: int) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                """UPDATE health_encounters SET insurance_version = GREATEST(insurance_version, $2),
                       insurance_attempts = 0, insurance_error = NULL, insurance_due_at = now()
                   WHERE id = $1""", encounter_id, version)

    async def retry(self, encounter_id: uuid.UUID, at: datetime, error: str) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute("UPDATE health_encounters SET insurance_due_at = $2, insurance_error = $3 WHERE id = $1",
                               encounter_id, at, error[:200])
