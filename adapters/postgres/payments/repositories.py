"""Repositories of the payments context: plain SQL with ``$n`` parameters on the caller's connection."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from domain.payments.model import (
    Instrument,
    IntentStatus,
    Mismatch,
    MismatchKind,
    PaymentIntent,
    ProviderEvent,
    Refund,
    RefundStatus,
    Totals,
)
from domain.shared.paging import Page, decode_id_cursor, encode_cursor

Conn = Any  # an asyncpg connection or pool proxy (the unit of work's)

INTENT_COLS = """id, ref, owner_id, purpose, object_id, amount, currency, description, provider, status, attempt,
    provider_ref, paid_at, refunded_amount, instrument_bank, instrument_last_digits, failure_code, created_at,
    updated_at, expires_at, version"""


def intent_from_row(row: asyncpg.Record) -> PaymentIntent:
    return PaymentIntent(
        id=row["id"], ref=row["ref"], owner_id=row["owner_id"], purpose=row["purpose"], object_id=row["object_id"],
        amount=row["amount"], currency=row["currency"], description=row["description"], provider=row["provider"],
        status=IntentStatus(row["status"]), attempt=row["attempt"], provider_ref=row["provider_ref"],
        paid_at=row["paid_at"], refunded_amount=row["refunded_amount"],
        instrument=Instrument.display(row["instrument_bank"], row["instrument_last_digits"]),
        failure_code=row["failure_code"], created_at=row["created_at"], updated_at=row["updated_at"],
        expires_at=row["expires_at"], version=row["version"])


def _intent_args(i: PaymentIntent) -> tuple[Any, ...]:
    inst = i.instrument or Instrument()
    return (i.id, i.ref, i.owner_id, i.purpose, i.object_id, i.amount, i.currency, i.description, i.provider,
            i.status.value, i.attempt, i.provider_ref, i.paid_at, i.refunded_amount, inst.bank_name,
            inst.last_digits, i.failure_code, i.created_at, i.updated_at, i.expires_at, i.version)


_LOCK = {False: "", True: " FOR UPDATE"}


class Rider(Protocol):
    """A row another store inserts in the statement that adds an intent, if the intent is new
    (``adapters.postgres.idempotency.PendingKey``: the request's idempotency row)."""

    stored: bool | None

    def insert_sql(self, first: int, when: str) -> tuple[str, tuple[Any, ...]]: ...


class PgPaymentIntents:
    def __init__(self, conn: Conn, *, rider: Rider | None = None) -> None:
        self.conn = conn
        # Sent with the next ``add`` only (then dropped): ``rider.stored`` tells what became of it.
        self.rider = rider

    async def _one(self, where: str, *args: Any, for_update: bool) -> PaymentIntent | None:
        row = await self.conn.fetchrow(f"SELECT {INTENT_COLS} FROM payment_intents WHERE {where}{_LOCK[for_update]}",
                                       *args)
        return intent_from_row(row) if row else None

    async def get(self, intent_id: uuid.UUID, *, for_update: bool = False) -> PaymentIntent | None:
        return await self._one("id = $1", intent_id, for_update=for_update)

    async def get_by_ref(self, ref: str, *, for_update: bool = False) -> PaymentIntent | None:
        return await self._one("ref = $1", ref, for_update=for_update)

    async def get_for_order(self, purpose: str, object_id: str, *,
                            for_update: bool = False) -> PaymentIntent | None:
        return await self._one("purpose = $1 AND object_id = $2", purpose, object_id, for_update=for_update)

    async def add(self, intent: PaymentIntent) -> PaymentIntent:
        # One statement whether the order is new or not (a purchase is a write a phone retries:
        # quality.md counts its round trips). On conflict the no-op update locks the order's
        # existing intent, as ``get_for_order(for_update=True)`` would, and returns it; a concurrent
        # creator of the same order is waited for, then its intent is returned (one per order).
        insert = f"""INSERT INTO payment_intents ({INTENT_COLS}) VALUES
                ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21)
                ON CONFLICT (purpose, object_id) DO UPDATE SET updated_at = payment_intents.updated_at
                RETURNING {INTENT_COLS}"""
        rider, self.rider = self.rider, None
        if rider is None:
            return intent_from_row(await self.conn.fetchrow(insert, *_intent_args(intent)))
        # The rider's row goes in the same statement, only if the intent is ours (new): an order that
        # already had one is answered by the reuse rules, so the rider's precomputed row would be wrong.
        also, extra = rider.insert_sql(22, "EXISTS (SELECT 1 FROM i WHERE i.id = $1)")
        row = await self.conn.fetchrow(
            f"WITH i AS ({insert}), r AS ({also}) SELECT i.*, EXISTS (SELECT 1 FROM r) AS rider_stored FROM i",
            *_intent_args(intent), *extra)
        stored = intent_from_row(row)
        rider.stored = bool(row["rider_stored"]) if stored.id == intent.id else None
        return stored

    async def save(self, intent: PaymentIntent) -> None:
        await self.conn.execute(
            """UPDATE payment_intents SET ref=$2, owner_id=$3, purpose=$4, object_id=$5, amount=$6, currency=$7,
               description=$8, provider=$9, status=$10, attempt=$11, provider_ref=$12, paid_at=$13,
               refunded_amount=$14, instrument_bank=$15, instrument_last_digits=$16, failure_code=$17,
               created_at=$18, updated_at=$19, expires_at=$20, version=$21 WHERE id = $1""", *_intent_args(intent))

    async def due_to_expire(self, now: datetime, limit: int) -> list[PaymentIntent]:
        rows = await self.conn.fetch(
            f"""SELECT {INTENT_COLS} FROM payment_intents WHERE status = 'requires_payment' AND expires_at <= $1
                ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED""", now, limit)
        return [intent_from_row(r) for r in rows]

    async def stuck(self, updated_before: datetime, limit: int) -> list[PaymentIntent]:
        rows = await self.conn.fetch(
            f"""SELECT {INTENT_COLS} FROM payment_intents WHERE status = 'processing' AND updated_at < $1
                ORDER BY updated_at LIMIT $2""", updated_before, limit)
        return [intent_from_row(r) for r in rows]

    async def mine(self, owner_id: uuid.UUID, cursor: str | None, limit: int) -> Page[PaymentIntent]:
        after = decode_id_cursor(cursor)  # ids are UUIDv7: newest last
        rows = await self.conn.fetch(
            f"""SELECT {INTENT_COLS} FROM payment_intents WHERE owner_id = $1 AND ($2::uuid IS NULL OR id < $2)
                ORDER BY id DESC LIMIT $3""", owner_id, after, limit + 1)
        items = [intent_from_row(r) for r in rows[:limit]]
        return Page(items=items, next_cursor=encode_cursor(str(items[-1].id)) if len(rows) > limit else None)

    async def claim_lapsed(self, lapsed_after: datetime, lapsed_before: datetime, checked_before: datetime,
                           now: datetime, limit: int) -> list[PaymentIntent]:
        # checked_at is the job's bookkeeping, not the intent's state: updated_at and version stay.
        rows = await self.conn.fetch(
            f"""UPDATE payment_intents SET checked_at = $4 WHERE id IN (
                    SELECT id FROM payment_intents
                    WHERE status IN ('expired', 'failed', 'canceled') AND updated_at > $1 AND updated_at < $2
                      AND (checked_at IS NULL OR checked_at < $3)
                    ORDER BY checked_at NULLS FIRST, updated_at LIMIT $5 FOR UPDATE SKIP LOCKED)
                RETURNING {INTENT_COLS}""", lapsed_after, lapsed_before, checked_before, now, limit)
        return sorted((intent_from_row(r) for r in rows), key=lambda i: i.updated_at)


REFUND_COLS = """id, intent_id, key, amount, reason, status, requested_by, provider_ref, failure_code, created_at,
    updated_at"""


def refund_from_row(row: asyncpg.Record) -> Refund:
    return Refund(id=row["id"], intent_id=row["intent_id"], key=row["key"], amount=row["amount"],
                  reason=row["reason"], status=RefundStatus(row["status"]), requested_by=row["requested_by"],
                  provider_ref=row["provider_ref"], failure_code=row["failure_code"], created_at=row["created_at"],
                  updated_at=row["updated_at"])


def _refund_args(r: Refund) -> tuple[Any, ...]:
    return (r.id, r.intent_id, r.key, r.amount, r.reason, r.status.value, r.requested_by, r.provider_ref,
            r.failure_code, r.created_at, r.updated_at)


class PgRefunds:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def get(self, refund_id: uuid.UUID, *, for_update: bool = False) -> Refund | None:
        row = await self.conn.fetchrow(f"SELECT {REFUND_COLS} FROM payment_refunds WHERE id = $1{_LOCK[for_update]}",
                                       refund_id)
        return refund_from_row(row) if row else None

    async def add(self, refund: Refund) -> None:
        await self.conn.execute(
            f"INSERT INTO payment_refunds ({REFUND_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
            *_refund_args(refund))

    async def save(self, refund: Refund) -> None:
        await self.conn.execute(
            """UPDATE payment_refunds SET intent_id=$2, key=$3, amount=$4, reason=$5, status=$6, requested_by=$7,
               provider_ref=$8, failure_code=$9, created_at=$10, updated_at=$11 WHERE id = $1""",
            *_refund_args(refund))

    async def pending_amount(self, intent_id: uuid.UUID) -> int:
        return int(await self.conn.fetchval(
            "SELECT coalesce(sum(amount), 0) FROM payment_refunds WHERE intent_id = $1 AND status = 'pending'",
            intent_id))

    async def pending(self, created_before: datetime, limit: int) -> list[Refund]:
        rows = await self.conn.fetch(
            f"""SELECT {REFUND_COLS} FROM payment_refunds WHERE status = 'pending' AND created_at < $1
                ORDER BY created_at LIMIT $2""", created_before, limit)
        return [refund_from_row(r) for r in rows]

    async def for_intent(self, intent_id: uuid.UUID) -> list[Refund]:
        rows = await self.conn.fetch(
            f"SELECT {REFUND_COLS} FROM payment_refunds WHERE intent_id = $1 ORDER BY created_at, id", intent_id)
        return [refund_from_row(r) for r in rows]


class PgNotifications:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def record(self, event: ProviderEvent, intent_id: uuid.UUID, received_at: datetime) -> bool:
        return bool(await self.conn.fetchval(
            """INSERT INTO payment_notifications (provider, event_id, intent_id, type, amount, currency, sent_at,
                                                  received_at)
               VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (provider, event_id) DO NOTHING RETURNING true""",
            event.provider, event.event_id, intent_id, event.type.value, event.amount, event.currency[:8],
            event.sent_at, received_at))

    async def set_outcome(self, provider: str, event_id: str, outcome: str) -> None:
        await self.conn.execute("UPDATE payment_notifications SET outcome = $3 WHERE provider = $1 AND event_id = $2",
                                provider, event_id, outcome)


MISMATCH_COLS = "id, kind, intent_id, provider, expected_amount, reported_amount, detail, created_at"


def mismatch_from_row(row: asyncpg.Record) -> Mismatch:
    return Mismatch(id=row["id"], kind=MismatchKind(row["kind"]), intent_id=row["intent_id"],
                    provider=row["provider"], expected_amount=row["expected_amount"],
                    reported_amount=row["reported_amount"], detail=row["detail"], created_at=row["created_at"])


class PgMismatches:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def add(self, mismatch: Mismatch) -> None:
        m = mismatch
        await self.conn.execute(f"INSERT INTO payment_mismatches ({MISMATCH_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
                                m.id, m.kind.value, m.intent_id, m.provider, m.expected_amount, m.reported_amount,
                                m.detail, m.created_at)


class PgPaymentReports:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def mismatches(self, start: datetime, end: datetime) -> list[Mismatch]:
        rows = await self.conn.fetch(
            f"""SELECT {MISMATCH_COLS} FROM payment_mismatches WHERE created_at >= $1 AND created_at < $2
                ORDER BY created_at, id""", start, end)
        return [mismatch_from_row(r) for r in rows]

    async def totals(self, start: datetime, end: datetime) -> Totals:
        row = await self.conn.fetchrow(
            """SELECT p.n, p.paid, r.refunded
               FROM (SELECT count(*) AS n, coalesce(sum(amount), 0) AS paid FROM payment_intents
                     WHERE paid_at >= $1 AND paid_at < $2) AS p,
                    (SELECT coalesce(sum(amount), 0) AS refunded FROM payment_refunds
                     WHERE status = 'succeeded' AND updated_at >= $1 AND updated_at < $2) AS r""",
            start, end)
        return Totals(int(row["n"]), int(row["paid"]), int(row["refunded"]))

    async def count_stuck(self, updated_before: datetime) -> int:
        return int(await self.conn.fetchval(
            "SELECT count(*) FROM payment_intents WHERE status = 'processing' AND updated_at < $1", updated_before))

    async def count_pending_refunds(self) -> int:
        return int(await self.conn.fetchval("SELECT count(*) FROM payment_refunds WHERE status = 'pending'"))

    async def save_report(self, day: str, report: bytes) -> bool:
        return bool(await self.conn.fetchval(
            """INSERT INTO payment_daily_reports (day, report) VALUES ($1::text::date, $2::text::jsonb)
               ON CONFLICT (day) DO NOTHING RETURNING true""", day, report.decode()))
