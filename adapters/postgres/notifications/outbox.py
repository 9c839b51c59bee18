"""The push outbox for the delivery worker: claim with SKIP LOCKED, record results, stats."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from domain.notifications.delivery_model import ClaimedRow, Reschedule

# A short transaction: lock due rows no other worker holds, lease them (available_at moves to
# the end of the lease so other claimers skip them without holding a lock during the send).
_CLAIM = """
WITH due AS (
    SELECT id FROM push_outbox
    WHERE status = 'pending' AND available_at <= now() AND kind = ANY($1::text[])
    ORDER BY available_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE push_outbox o
SET available_at = now() + make_interval(secs => $3), attempts = o.attempts + 1, claim_id = $4
FROM due
WHERE o.id = due.id
RETURNING o.id, o.kind, o.idempotency_key, o.attempts, o.legally_required, o.device_id, o.topic, o.payload,
          COALESCE(o.token, (SELECT d.fcm_token FROM devices d WHERE d.id = o.device_id)) AS token
"""

_SENT = """
UPDATE push_outbox SET status = 'sent', finished_at = now(), claim_id = NULL, last_error = NULL
WHERE id = ANY($1::uuid[]) AND claim_id = $2
"""
_DEAD = """
UPDATE push_outbox o SET status = 'dead', finished_at = now(), claim_id = NULL, last_error = d.error
FROM unnest($1::uuid[], $2::text[]) AS d(id, error)
WHERE o.id = d.id AND o.claim_id = $3
"""
_RETRY = """
UPDATE push_outbox o SET available_at = r.at, claim_id = NULL, last_error = r.error
FROM unnest($1::uuid[], $2::timestamptz[], $3::text[]) AS r(id, at, error)
WHERE o.id = r.id AND o.claim_id = $4
"""
_RELEASE = "UPDATE push_outbox SET available_at = now(), claim_id = NULL WHERE claim_id = $1 AND status = 'pending'"

_STATS = """
SELECT count(*) FILTER (WHERE status = 'pending') AS queued,
       count(*) FILTER (WHERE status = 'dead') AS dead,
       COALESCE(EXTRACT(EPOCH FROM $1::timestamptz - min(available_at) FILTER (
           WHERE status = 'pending' AND claim_id IS NULL AND available_at <= $1)), 0) AS lag
FROM push_outbox
WHERE status = 'pending' OR status = 'dead'
"""


class PgOutbox:
    """Implements ``domain.notifications.ports.Outbox`` on the pool (one short transaction per call)."""

    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        self._pool = pool

    async def claim(self, kinds: tuple[str, ...], limit: int, lease_s: float,
                    claim_id: uuid.UUID) -> list[ClaimedRow]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(_CLAIM, list(kinds), limit, lease_s, claim_id)
        return [ClaimedRow(id=r["id"], kind=r["kind"], idempotency_key=r["idempotency_key"],
                           attempts=r["attempts"], legally_required=r["legally_required"],
                           device_id=r["device_id"], token=r["token"], topic=r["topic"], payload=r["payload"])
                for r in rows]

    async def finish(self, claim_id: uuid.UUID, *, sent: list[uuid.UUID], dead: list[tuple[uuid.UUID, str]],
                     retry: list[Reschedule], drop_devices: list[uuid.UUID], drop_tokens: list[str]) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            if sent:
                await conn.execute(_SENT, sent, claim_id)
            if dead:
                await conn.execute(_DEAD, [d[0] for d in dead], [d[1][:500] for d in dead], claim_id)
            if retry:
                await conn.execute(_RETRY, [r.id for r in retry], [r.available_at for r in retry],
                                   [r.error[:500] for r in retry], claim_id)
            if drop_devices:
                await conn.execute("DELETE FROM devices WHERE id = ANY($1::uuid[])", drop_devices)
            if drop_tokens:
                await conn.execute("DELETE FROM devices WHERE fcm_token = ANY($1::text[])", drop_tokens)

    async def release(self, claim_id: uuid.UUID) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(_RELEASE, claim_id)

    async def stats(self, now: datetime) -> dict[str, float]:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(_STATS, now)
        return {"queued": float(row["queued"]), "dead": float(row["dead"]), "lag_seconds": float(row["lag"])}

    async def purge_finished(self, older_than: datetime, limit: int = 10_000) -> int:
        """Delete sent/dead rows finished before ``older_than`` (bounded per call)."""
        async with self._pool.acquire() as conn:
            done = await conn.execute(
                "DELETE FROM push_outbox WHERE id IN (SELECT id FROM push_outbox WHERE status <> 'pending' "
                "AND finished_at < $1 LIMIT $2)", older_than, limit)
        return int(done.split()[-1])
