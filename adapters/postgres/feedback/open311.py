"""Postgres side of Open311: partner reporter accounts, partner links (token, contact, media URL),
places named by code or address, and the public-safe reads behind GET requests and
servicerequestupdates.

Visibility is decided in SQL, once: a report is listed when its reporter agreed to publication and
staff did not hide it, or when the calling partner submitted it.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from adapters.postgres.feedback.queries import _event, _Sql
from adapters.postgres.feedback.repositories import REPORT_COLS, Conn, report_from_row
from domain.feedback.model import ActorKind, Event, EventKind, Status
from domain.feedback.open311 import (
    UPDATE_KINDS,
    Contact,
    PartnerLink,
    Place,
    RequestQuery,
    RequestView,
    UpdateView,
)
from domain.identity.ports import PiiProtector
from domain.shared.ids import new_id

PARTNER_ISSUER = "urn:thudo:open311"
_R_COLS = ", ".join(f"r.{c.strip()}" for c in REPORT_COLS.split(","))
_VISIBLE = "((r.publishable AND NOT r.hidden) OR o.key_id = ?)"
# Unit names without their kind ("Phường Hàng Bạc" → "Hàng Bạc"), as people write them in addresses.
_SHORT_VI = r"lower(regexp_replace(name_vi, '^(Phường|Xã|Thị trấn|Quận|Huyện|Thị xã) ', ''))"
_SHORT_EN = r"lower(regexp_replace(name_en, ' (Ward|Commune|Town|District)$', ''))"


def _partner_id_hash(key_id: uuid.UUID) -> bytes:
    # 33 bytes: never equal to a 32-byte HMAC of a real personal id number.
    return b"open311-partner::" + hashlib.sha256(key_id.bytes).digest()[:16]


def _place(row: asyncpg.Record | None) -> Place | None:
    return Place(row["id"], row["kind"] == "ward", row["lat"], row["lon"]) if row else None


class PgOpen311:
    def __init__(self, conn: Conn, pii: PiiProtector) -> None:
        self.conn = conn
        self.pii = pii

    # --- partners -------------------------------------------------------------------------------

    async def reporter_account(self, key_id: uuid.UUID) -> uuid.UUID:
        found = await self.conn.fetchval("SELECT user_id FROM open311_partner_reporters WHERE key_id = $1", key_id)
        if found is not None:
            return found  # type: ignore[no-any-return]
        # Racing first submissions of one partner: the unique (issuer, subject) makes the second
        # INSERT wait for the first and then do nothing; both read the same row afterwards.
        await self.conn.execute(
            """INSERT INTO users (id, eid_issuer, eid_subject, personal_id_hash, personal_id_enc, full_name, level)
               SELECT $1, $2, $3, $4, ''::bytea, 'Open311: ' || k.name, 1 FROM open311_keys k WHERE k.id = $5
               ON CONFLICT DO NOTHING""",
            new_id(), PARTNER_ISSUER, str(key_id), _partner_id_hash(key_id), key_id)
        user_id = await self.conn.fetchval("SELECT id FROM users WHERE eid_issuer = $1 AND eid_subject = $2",
                                           PARTNER_ISSUER, str(key_id))
        await self.conn.execute(
            "INSERT INTO open311_partner_reporters (key_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            key_id, user_id)
        return user_id  # type: ignore[no-any-return]

    async def add_link(self, link: PartnerLink) -> None:
        contact = None if link.contact.empty else self.pii.encrypt(msgspec.json.encode(link.contact).decode())
        await self.conn.execute(
            """INSERT INTO open311_requests (report_id, key_id, token, account_id, contact_enc, media_url, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            link.report_id, link.key_id, link.token, link.account_id, contact, link.media_url, link.created_at)

    async def partner_contact(self, report_id: uuid.UUID) -> tuple[str, str | None, Contact] | None:
        """(partner name, its account_id, the person's contact) for staff of the routed unit only."""
        row = await self.conn.fetchrow(
            """SELECT k.name, o.account_id, o.contact_enc FROM open311_requests o
               JOIN open311_keys k ON k.id = o.key_id WHERE o.report_id = $1""", report_id)
        if row is None:
            return None
        blob = row["contact_enc"]
        contact = msgspec.json.decode(self.pii.decrypt(blob), type=Contact) if blob else Contact()
        return row["name"], row["account_id"], contact

    async def ref_for_token(self, token: str) -> str | None:
        return await self.conn.fetchval(  # type: ignore[no-any-return]
            """SELECT r.ref FROM open311_requests o JOIN feedback_reports r ON r.id = o.report_id
               WHERE o.token = $1""", token)

    # --- places ---------------------------------------------------------------------------------

    async def place_by_code(self, code: str) -> Place | None:
        return _place(await self.conn.fetchrow(
            """SELECT id, kind, lat, lon FROM units WHERE code = $1 AND active AND kind IN ('ward', 'district')
               AND lat IS NOT NULL""", code))

    async def place_in_address(self, address: str) -> Place | None:
        """The ward (else district) whose name appears in a free-text address; a few hundred rows."""
        return _place(await self.conn.fetchrow(
            f"""SELECT id, kind, lat, lon FROM units
                WHERE kind IN ('ward', 'district') AND active AND lat IS NOT NULL
                  AND (strpos(lower($1), {_SHORT_VI}) > 0 OR strpos(lower($1), {_SHORT_EN}) > 0)
                ORDER BY kind = 'ward' DESC, length(name_vi) DESC, code LIMIT 1""", address))

    # --- reads ----------------------------------------------------------------------------------

    async def requests(self, q: RequestQuery) -> list[RequestView]:
        sql = _Sql()
        sql.add(_VISIBLE, q.viewer_key_id)
        if q.refs:
            sql.add("r.ref = ANY(?::text[])", list(q.refs))
        else:
            if q.category_ids:
                sql.add("r.category_id = ANY(?::uuid[])", list(q.category_ids))
            if q.statuses:
                sql.add("r.status = ANY(?::text[])", [s.value for s in q.statuses])
            if q.created_from is not None:
                sql.add("r.created_at >= ?", q.created_from)
            if q.created_to is not None:
                sql.add("r.created_at <= ?", q.created_to)
        sql.args.extend([q.offset, q.limit])
        n = len(sql.args)
        rows = await self.conn.fetch(
            f"""SELECT {_R_COLS}, c.code AS service_code, c.name_vi AS service_name_vi,
                       c.name_en AS service_name_en, u.name_vi AS agency_vi, u.name_en AS agency_en,
                       w.code AS ward_code, o.key_id AS partner_key_id, o.media_url AS partner_media_url,
                       (SELECT a.id FROM feedback_attachments a WHERE a.report_id = r.id AND a.kind = 'photo'
                        ORDER BY a.id LIMIT 1) AS photo_id
                FROM feedback_reports r
                JOIN feedback_categories c ON c.id = r.category_id
                JOIN units u ON u.id = r.unit_id
                LEFT JOIN units w ON w.id = r.ward_id
                LEFT JOIN open311_requests o ON o.report_id = r.id
                WHERE {sql.where()}
                ORDER BY r.created_at DESC, r.id DESC OFFSET ${n - 1} LIMIT ${n}""", *sql.args)
        return [_view(row, q.viewer_key_id) for row in rows]

    async def notes(self, report_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
        """Public status events of these reports, oldest first (for ``extensions=true``)."""
        rows = await self.conn.fetch(
            """SELECT * FROM feedback_events WHERE report_id = ANY($1::uuid[]) AND public
               AND kind = ANY($2::text[]) ORDER BY report_id, id""",
            report_ids, [k.value for k in UPDATE_KINDS])
        out: dict[uuid.UUID, list[Any]] = {}
        for row in rows:
            out.setdefault(row["report_id"], []).append(_event(row))
        return out

    async def updates(self, start: datetime, end: datetime, limit: int,
                      viewer_key_id: uuid.UUID | None) -> list[UpdateView]:
        rows = await self.conn.fetch(
            f"""SELECT e.id AS e_id, e.report_id AS e_report_id, e.kind AS e_kind, e.status AS e_status,
                       e.actor_kind AS e_actor_kind, e.text AS e_text, e.data AS e_data,
                       e.created_at AS e_created_at, {_R_COLS}, o.key_id AS partner_key_id
                FROM feedback_events e
                JOIN feedback_reports r ON r.id = e.report_id
                LEFT JOIN open311_requests o ON o.report_id = r.id
                WHERE e.public AND e.created_at >= $1 AND e.created_at <= $2 AND e.kind = ANY($3::text[])
                  AND ((r.publishable AND NOT r.hidden) OR o.key_id = $4)
                ORDER BY e.created_at, e.id LIMIT $5""",
            start, end, [k.value for k in UPDATE_KINDS], viewer_key_id, limit)
        out = []
        for row in rows:
            # Only what a public update needs: the actor stays unknown to Open311.
            event = Event(id=row["e_id"], report_id=row["e_report_id"], kind=EventKind(row["e_kind"]),
                          status=Status(row["e_status"]), actor_kind=ActorKind(row["e_actor_kind"]), actor_id=None,
                          public=True, text=row["e_text"], data=row["e_data"], created_at=row["e_created_at"])
            own = viewer_key_id is not None and row["partner_key_id"] == viewer_key_id
            out.append(UpdateView(event=event, report=report_from_row(row), own=own))
        return out


def _view(row: asyncpg.Record, viewer: uuid.UUID | None) -> RequestView:
    return RequestView(
        report=report_from_row(row), service_code=row["service_code"], service_name_vi=row["service_name_vi"],
        service_name_en=row["service_name_en"], agency_vi=row["agency_vi"], agency_en=row["agency_en"],
        address_id=row["ward_code"], own=viewer is not None and row["partner_key_id"] == viewer,
        media_url=row["partner_media_url"], photo_id=row["photo_id"])
