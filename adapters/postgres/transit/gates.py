"""Issuer keys, the deny list with its sequence, paper tickets and taps."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from domain.transit.codes import Direction, Network
from domain.transit.denylist import DenyEntry, DenyKind
from domain.transit.model import Medium, PaperTicket, Tap
from domain.transit.repositories import LiveState
from domain.transit.trust import IssuerKey

Conn = Any


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


class PgIssuerKeys:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def published(self) -> list[IssuerKey]:
        rows = await self.conn.fetch(
            "SELECT kid, public_key, valid_from, valid_until FROM transit_issuer_keys ORDER BY kid")
        return [IssuerKey(r["kid"], bytes(r["public_key"]), _epoch(r["valid_from"]), _epoch(r["valid_until"]))
                for r in rows]

    async def add(self, key: IssuerKey) -> None:
        """Publish a key; publishing the same key again is a no-op (every process does it at start)."""
        await self.conn.execute(
            """INSERT INTO transit_issuer_keys (kid, public_key, valid_from, valid_until)
               VALUES ($1, $2, $3, $4) ON CONFLICT (kid) DO NOTHING""",
            key.kid, key.public_key, datetime.fromtimestamp(key.valid_from, UTC),
            datetime.fromtimestamp(key.valid_until, UTC))


class PgDenyList:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def add(self, entries: list[DenyEntry]) -> None:
        # One statement; rows in input order take increasing numbers from the head row, whose lock this
        # transaction holds until it commits (migration 0071: numbers become visible in order).
        await self.conn.execute(
            """WITH head AS (UPDATE transit_deny_head SET seq = seq + cardinality($1::smallint[]) RETURNING seq)
               INSERT INTO transit_deny (kind, subject, seq, drop_after)
               SELECT k, s, head.seq - cardinality($1::smallint[]) + n, d
               FROM head, unnest($1::smallint[], $2::bytea[], $3::bigint[]) WITH ORDINALITY AS e(k, s, d, n)
               ORDER BY n
               ON CONFLICT (kind, subject) DO UPDATE
                   SET drop_after = GREATEST(transit_deny.drop_after, EXCLUDED.drop_after), seq = EXCLUDED.seq""",
            [int(e.kind) for e in entries], [e.subject for e in entries], [e.drop_after for e in entries])

    async def current_seq(self) -> int:
        """The highest number whose entry is committed: a gate may move its cursor here safely."""
        return int(await self.conn.fetchval("SELECT seq FROM transit_deny_head"))

    async def since(self, seq: int, now: int) -> list[DenyEntry]:
        rows = await self.conn.fetch(
            "SELECT kind, subject, drop_after, seq FROM transit_deny WHERE seq > $1 AND drop_after >= $2 ORDER BY seq",
            seq, now)
        return [DenyEntry(DenyKind(r["kind"]), bytes(r["subject"]), r["drop_after"], r["seq"]) for r in rows]

    async def denied(self, subjects: list[tuple[int, bytes]], now: int) -> bool:
        return bool(await self.conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM transit_deny d
               JOIN unnest($1::smallint[], $2::bytea[]) AS q(k, s) ON d.kind = q.k AND d.subject = q.s
               WHERE d.drop_after >= $3)""",
            [k for k, _ in subjects], [s for _, s in subjects], now))

    async def prune(self, now: int) -> int:
        """Housekeeping: rows past ``drop_after`` are of no use to any gate."""
        result = await self.conn.execute("DELETE FROM transit_deny WHERE drop_after < $1", now)
        return int(result.split()[-1])


class PgPaperTickets:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def add(self, t: PaperTicket) -> None:
        await self.conn.execute(
            """INSERT INTO transit_paper_tickets (id, product_id, category, price_vnd, sold_by, valid_from,
               valid_until, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            t.id, t.product_id, t.category, t.price_vnd, t.sold_by, t.valid_from, t.valid_until, t.created_at)

    async def get(self, ticket_id: uuid.UUID) -> PaperTicket | None:
        r = await self.conn.fetchrow(
            """SELECT id, product_id, category, price_vnd, sold_by, valid_from, valid_until, created_at
               FROM transit_paper_tickets WHERE id = $1""", ticket_id)
        return PaperTicket(**dict(r)) if r else None


_TAP = """id, validator_id, medium, subject_id, direction, network, route, stop, occurred_at, code_timestamp,
    counter, accepted, reason"""


def _tap(r: asyncpg.Record) -> Tap:
    return Tap(id=r["id"], validator_id=r["validator_id"], medium=Medium(r["medium"]), subject_id=r["subject_id"],
               direction=Direction(r["direction"]), network=Network(r["network"]), route=r["route"], stop=r["stop"],
               occurred_at=r["occurred_at"], code_timestamp=r["code_timestamp"], counter=r["counter"],
               accepted=r["accepted"], reason=r["reason"])


_REASON_TEXT: dict[tuple[str | None, ...], str] = {}


@functools.cache
def _checked_sql(deny_pairs: int) -> str:
    """``PgTaps.add_checked``'s statement for ``deny_pairs`` (kind, subject) pairs ($15, $16, ...)."""
    pairs = ", ".join(f"(${15 + 2 * n}::smallint, ${16 + 2 * n}::bytea)" for n in range(deny_pairs)) or "(NULL, NULL)"
    return f"""WITH s AS (
           SELECT EXISTS (SELECT 1 FROM transit_deny d WHERE (d.kind, d.subject) IN ({pairs})
                      AND d.drop_after >= $12) AS denied,
                  EXISTS (SELECT 1 FROM transit_taps WHERE subject_id = $4 AND code_timestamp = $10
                      AND counter = $11 AND accepted) AS seen,
                  (SELECT direction FROM transit_taps WHERE $13::timestamptz IS NOT NULL AND subject_id = $4
                      AND accepted AND occurred_at >= $13 ORDER BY occurred_at DESC LIMIT 1) AS last_direction),
       v AS (SELECT s.*, nullif(split_part($14::text, '|', 1 + (s.denied::int * 2 + s.seen::int) * 3
                 + CASE s.last_direction WHEN 'in' THEN 1 WHEN 'out' THEN 2 ELSE 0 END), '') AS reason FROM s),
       ins AS (INSERT INTO transit_taps ({_TAP})
               SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, v.reason IS NULL, v.reason FROM v
               ON CONFLICT (id) DO NOTHING RETURNING 1)
       SELECT v.denied, v.seen, v.last_direction, EXISTS (SELECT 1 FROM ins) AS inserted FROM v"""


class PgTaps:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def add_batch(self, taps: list[Tap]) -> int:
        """One statement for the whole batch (arrays through ``unnest``): 1,000 taps, one round trip.
        A single tap (online validation) goes as plain parameters: encoding 13 one-element arrays costs
        asyncpg ~25 µs of type checks per call on the gate's hot path."""
        if len(taps) == 1:
            t = taps[0]
            result = await self.conn.execute(
                f"""INSERT INTO transit_taps ({_TAP}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                    ON CONFLICT (id) DO NOTHING""",
                t.id, t.validator_id, t.medium.value, t.subject_id, t.direction.value, int(t.network), t.route,
                t.stop, t.occurred_at, t.code_timestamp, t.counter, t.accepted, t.reason)
            return int(result.split()[-1])
        result = await self.conn.execute(
            f"""INSERT INTO transit_taps ({_TAP})
                SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::smallint[],
                                     $7::integer[], $8::text[], $9::timestamptz[], $10::bigint[], $11::integer[],
                                     $12::boolean[], $13::text[])
                ON CONFLICT (id) DO NOTHING""",
            [t.id for t in taps], [t.validator_id for t in taps], [t.medium.value for t in taps],
            [t.subject_id for t in taps], [t.direction.value for t in taps], [int(t.network) for t in taps],
            [t.route for t in taps], [t.stop for t in taps], [t.occurred_at for t in taps],
            [t.code_timestamp for t in taps], [t.counter for t in taps], [t.accepted for t in taps],
            [t.reason for t in taps])
        return int(result.split()[-1])

    async def for_passes(self, pass_ids: list[uuid.UUID], since: datetime) -> list[Tap]:
        rows = await self.conn.fetch(
            f"""SELECT {_TAP} FROM transit_taps WHERE subject_id = ANY($1::uuid[]) AND occurred_at >= $2
                ORDER BY occurred_at LIMIT 5000""", pass_ids, since)
        return [_tap(r) for r in rows]

    async def add_checked(self, tap: Tap, deny: list[tuple[int, bytes]], now: int, entry_since: datetime | None,
                          reasons: tuple[str | None, ...]) -> tuple[LiveState, bool]:
        # The live state's three reads (deny list, replay, anti-passback), then the tap whose reason is
        # ``reasons`` at ``LiveState.index`` of what they found; one statement, so no transaction is needed
        # around it (one write). The insert does not see itself: the reads are of the taps stored before it.
        # Scalars only (asyncpg's array encoder costs ~20 µs a call on this hot path): the deny pairs as
        # ``IN`` rows, the reasons as one ``|``-separated text ('' = accepted).
        table = _REASON_TEXT.get(reasons)
        if table is None:
            if any(r is not None and (not r or "|" in r) for r in reasons):
                raise ValueError("a reason must be non-empty text without '|'")
            table = _REASON_TEXT.setdefault(reasons, "|".join(r or "" for r in reasons))
        r = await self.conn.fetchrow(_checked_sql(len(deny)),
            tap.id, tap.validator_id, tap.medium.value, tap.subject_id, tap.direction.value, int(tap.network),
            tap.route, tap.stop, tap.occurred_at, tap.code_timestamp, tap.counter, now, entry_since, table,
            *(v for pair in deny for v in pair))
        last = r["last_direction"]
        return (LiveState(denied=r["denied"], code_seen=r["seen"], last_direction=Direction(last) if last else None),
                r["inserted"])
