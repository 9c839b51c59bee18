"""Concession applications, virtual cards, passes and device bindings."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg

from adapters.postgres.identity.repositories import within_live_session
from domain.shared.paging import Position
from domain.transit.codes import Network, ProductKind
from domain.transit.model import (
    ApplicationStatus,
    Card,
    CardStatus,
    ConcessionApplication,
    DeviceBinding,
    DocumentKind,
    Pass,
    PassStatus,
)
from domain.transit.repositories import CredentialFacts

Conn = Any
Row = Mapping[str, Any]

APP_COLS = ("id, user_id, category, document, evidence_ref, status, valid_until, reason, decided_by, created_at, "
            "decided_at")
CARD_COLS = "id, user_id, number, holder_name, category, status, created_at"
_TICKET_COLS = """id, user_id, card_id, product_id, kind, networks, route, category, category_qr, valid_from,
    valid_until, price_vnd, payment_ref, status, renewed_from, created_at, revoked_at, revoke_reason"""
_BINDING = "id, user_id, public_key, platform, bound_at, revoked_at"
# Keyset conditions of the citizen's lists ($2, $3 = the last row's created_at and id, NULL on page one):
# row comparison, so the (user_id, created_at) index serves the order and ties on created_at are kept.
_AFTER = "AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3::uuid))"
_BEFORE = "AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))"


def _position(after: Position | None) -> tuple[datetime | None, uuid.UUID | None]:
    return (after.at, after.id) if after else (None, None)


def application_from_row(r: Row) -> ConcessionApplication:
    return ConcessionApplication(
        id=r["id"], user_id=r["user_id"], category=r["category"], document=DocumentKind(r["document"]),
        evidence_ref=r["evidence_ref"], status=ApplicationStatus(r["status"]), valid_until=r["valid_until"],
        reason=r["reason"], decided_by=r["decided_by"], created_at=r["created_at"], decided_at=r["decided_at"])


class PgApplications:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def add(self, a: ConcessionApplication) -> None:
        await self.conn.execute(
            f"INSERT INTO transit_applications ({APP_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            a.id, a.user_id, a.category, a.document.value, a.evidence_ref, a.status.value, a.valid_until, a.reason,
            a.decided_by, a.created_at, a.decided_at)

    async def get(self, application_id: uuid.UUID, *, for_update: bool = False) -> ConcessionApplication | None:
        lock = " FOR UPDATE" if for_update else ""
        r = await self.conn.fetchrow(f"SELECT {APP_COLS} FROM transit_applications WHERE id = $1{lock}", application_id)
        return application_from_row(r) if r else None

    async def save(self, a: ConcessionApplication) -> None:
        await self.conn.execute(
            """UPDATE transit_applications SET status = $2, valid_until = $3, reason = $4, decided_by = $5,
               decided_at = $6 WHERE id = $1""",
            a.id, a.status.value, a.valid_until, a.reason, a.decided_by, a.decided_at)

    async def approved_documents(self, user_id: uuid.UUID) -> list[ConcessionApplication]:
        rows = await self.conn.fetch(
            f"SELECT {APP_COLS} FROM transit_applications WHERE user_id = $1 AND status = 'approved' "
            "ORDER BY decided_at", user_id)
        return [application_from_row(r) for r in rows]

    async def page_for(self, user_id: uuid.UUID, after: Position | None, limit: int) -> list[ConcessionApplication]:
        rows = await self.conn.fetch(
            f"SELECT {APP_COLS} FROM transit_applications WHERE user_id = $1 {_BEFORE} "
            "ORDER BY created_at DESC, id DESC LIMIT $4", user_id, *_position(after), limit)
        return [application_from_row(r) for r in rows]

    async def list_for(self, user_id: uuid.UUID) -> list[ConcessionApplication]:
        rows = await self.conn.fetch(
            f"SELECT {APP_COLS} FROM transit_applications WHERE user_id = $1 ORDER BY created_at DESC", user_id)
        return [application_from_row(r) for r in rows]

    async def pending(self, limit: int) -> list[ConcessionApplication]:
        rows = await self.conn.fetch(
            f"SELECT {APP_COLS} FROM transit_applications WHERE status = 'pending' ORDER BY created_at LIMIT $1", limit)
        return [application_from_row(r) for r in rows]


def card_from_row(r: Row) -> Card:
    return Card(id=r["id"], user_id=r["user_id"], number=r["number"], holder_name=r["holder_name"],
                category=r["category"], status=CardStatus(r["status"]), created_at=r["created_at"])


class PgCards:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def next_serial(self) -> int:
        return int(await self.conn.fetchval("SELECT nextval('transit_card_serial')"))

    async def add(self, c: Card) -> None:
        await self.conn.execute(f"INSERT INTO transit_cards ({CARD_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                                c.id, c.user_id, c.number, c.holder_name, c.category, c.status.value, c.created_at)

    async def get(self, card_id: uuid.UUID, *, for_update: bool = False) -> Card | None:
        lock = " FOR UPDATE" if for_update else ""
        r = await self.conn.fetchrow(f"SELECT {CARD_COLS} FROM transit_cards WHERE id = $1{lock}", card_id)
        return card_from_row(r) if r else None

    async def list_for(self, user_id: uuid.UUID) -> list[Card]:
        rows = await self.conn.fetch(f"SELECT {CARD_COLS} FROM transit_cards WHERE user_id = $1 ORDER BY created_at",
                                     user_id)
        return [card_from_row(r) for r in rows]

    async def page_for(self, user_id: uuid.UUID, after: Position | None, limit: int) -> list[Card]:
        rows = await self.conn.fetch(
            f"SELECT {CARD_COLS} FROM transit_cards WHERE user_id = $1 {_AFTER} ORDER BY created_at, id LIMIT $4",
            user_id, *_position(after), limit)
        return [card_from_row(r) for r in rows]


def pass_from_row(r: asyncpg.Record) -> Pass:
    return Pass(id=r["id"], user_id=r["user_id"], card_id=r["card_id"], product_id=r["product_id"],
                kind=ProductKind(r["kind"]), networks=Network(r["networks"]), route=r["route"], category=r["category"],
                category_qr=r["category_qr"], valid_from=r["valid_from"], valid_until=r["valid_until"],
                price_vnd=r["price_vnd"], payment_ref=r["payment_ref"], status=PassStatus(r["status"]),
                renewed_from=r["renewed_from"], created_at=r["created_at"], revoked_at=r["revoked_at"],
                revoke_reason=r["revoke_reason"])


# ``PgPasses.credential_facts``: the user's ($1) pass ($2) and their active binding, one row whatever is found
# (the first column is never NULL, so the statement can also carry the caller's session check).
_CREDENTIAL_FACTS = f"""SELECT true AS found, {", ".join("p." + c.strip() for c in _TICKET_COLS.split(","))},
           b.id AS b_id, b.public_key AS b_public_key, b.platform AS b_platform, b.bound_at AS b_bound_at
    FROM (SELECT 1) one
    LEFT JOIN transit_passes p ON p.id = $2 AND p.user_id = $1
    LEFT JOIN transit_device_bindings b ON b.user_id = $1 AND b.revoked_at IS NULL"""
# The same, read only while session $3 of the user is live (api.identity.auth, ``SESSION_IN_QUERY``).
_CREDENTIAL_FACTS_IN_SESSION = within_live_session(_CREDENTIAL_FACTS, session="$3", user="$1")


def _credential_facts(user_id: uuid.UUID, r: asyncpg.Record) -> CredentialFacts:
    binding = None if r["b_id"] is None else DeviceBinding(
        id=r["b_id"], user_id=user_id, public_key=bytes(r["b_public_key"]), platform=r["b_platform"],
        bound_at=r["b_bound_at"])
    return CredentialFacts(pass_=None if r["id"] is None else pass_from_row(r), binding=binding)


class PgPasses:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def add(self, p: Pass) -> None:
        await self.conn.execute(
            f"""INSERT INTO transit_passes ({_TICKET_COLS}) VALUES
                ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)""",
            p.id, p.user_id, p.card_id, p.product_id, int(p.kind), int(p.networks), p.route, p.category,
            p.category_qr, p.valid_from, p.valid_until, p.price_vnd, p.payment_ref, p.status.value, p.renewed_from,
            p.created_at, p.revoked_at, p.revoke_reason)

    async def get(self, pass_id: uuid.UUID, *, for_update: bool = False) -> Pass | None:
        lock = " FOR UPDATE" if for_update else ""
        r = await self.conn.fetchrow(f"SELECT {_TICKET_COLS} FROM transit_passes WHERE id = $1{lock}", pass_id)
        return pass_from_row(r) if r else None

    async def save(self, p: Pass) -> None:
        await self.conn.execute(
            "UPDATE transit_passes SET status = $2, revoked_at = $3, revoke_reason = $4 WHERE id = $1",
            p.id, p.status.value, p.revoked_at, p.revoke_reason)

    async def list_for(self, user_id: uuid.UUID) -> list[Pass]:
        rows = await self.conn.fetch(
            f"SELECT {_TICKET_COLS} FROM transit_passes WHERE user_id = $1 ORDER BY created_at DESC LIMIT 200", user_id)
        return [pass_from_row(r) for r in rows]

    async def page_for(self, user_id: uuid.UUID, after: Position | None, limit: int) -> list[Pass]:
        rows = await self.conn.fetch(
            f"SELECT {_TICKET_COLS} FROM transit_passes WHERE user_id = $1 {_BEFORE} "
            "ORDER BY created_at DESC, id DESC LIMIT $4", user_id, *_position(after), limit)
        return [pass_from_row(r) for r in rows]

    async def by_payment_ref(self, payment_ref: str, *, for_update: bool = False) -> Pass | None:
        lock = " FOR UPDATE" if for_update else ""
        r = await self.conn.fetchrow(f"SELECT {_TICKET_COLS} FROM transit_passes WHERE payment_ref = $1{lock}",
                                     payment_ref)
        return pass_from_row(r) if r else None

    async def expiring(self, start: datetime, end: datetime, limit: int) -> list[Pass]:
        rows = await self.conn.fetch(
            f"""SELECT {_TICKET_COLS} FROM transit_passes p WHERE status = 'active' AND valid_until BETWEEN $1 AND $2
                AND NOT EXISTS (SELECT 1 FROM transit_passes r WHERE r.renewed_from = p.id AND r.status = 'active')
                ORDER BY valid_until LIMIT $3""", start, end, limit)
        return [pass_from_row(r) for r in rows]

    async def credential_facts(self, user_id: uuid.UUID, pass_id: uuid.UUID) -> CredentialFacts:
        return _credential_facts(user_id, await self.conn.fetchrow(_CREDENTIAL_FACTS, user_id, pass_id))

    async def credential_facts_in_session(self, user_id: uuid.UUID, pass_id: uuid.UUID,
                                          session_id: uuid.UUID) -> CredentialFacts | None:
        """``credential_facts`` read only while the user's session ``session_id`` is live (None: it is not),
        in the same round trip."""
        r = await self.conn.fetchrow(_CREDENTIAL_FACTS_IN_SESSION, user_id, pass_id, session_id)
        return None if r is None else _credential_facts(user_id, r)


def _binding(r: asyncpg.Record) -> DeviceBinding:
    return DeviceBinding(id=r["id"], user_id=r["user_id"], public_key=bytes(r["public_key"]), platform=r["platform"],
                         bound_at=r["bound_at"], revoked_at=r["revoked_at"])


class PgBindings:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def active(self, user_id: uuid.UUID, *, for_update: bool = False) -> DeviceBinding | None:
        lock = " FOR UPDATE" if for_update else ""
        r = await self.conn.fetchrow(
            f"SELECT {_BINDING} FROM transit_device_bindings WHERE user_id = $1 AND revoked_at IS NULL{lock}", user_id)
        return _binding(r) if r else None

    async def add(self, b: DeviceBinding) -> None:
        await self.conn.execute(
            f"INSERT INTO transit_device_bindings ({_BINDING}) VALUES ($1, $2, $3, $4, $5, $6)",
            b.id, b.user_id, b.public_key, b.platform, b.bound_at, b.revoked_at)

    async def revoke(self, binding_id: uuid.UUID, at: datetime) -> None:
        await self.conn.execute(
            "UPDATE transit_device_bindings SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", binding_id, at)
