"""Requests, steps, certificates, status lists, share codes and the verification log in PostgreSQL."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any, Protocol, TypeVar

import asyncpg
import msgspec

from adapters.postgres.idempotency import PendingKey
from adapters.postgres.notifications.notifier import COLUMNS as NOTIFICATION_COLUMNS
from adapters.postgres.notifications.notifier import PgNotifier
from domain.errors import Conflict, InvalidInput
from domain.judicial.model import (
    IN_PROCESS,
    Address,
    Applicant,
    Certificate,
    CertificateType,
    CrossCheckResult,
    DeadlineKind,
    Delivery,
    DocumentRef,
    FeeBreakdown,
    FeeCategory,
    Proxy,
    QueueItem,
    Request,
    ResidencePeriod,
    ShareCode,
    Status,
    StatusPurpose,
    StatusRef,
    Step,
    Verification,
    VerificationOutcome,
    is_overdue,
)
from domain.judicial.ports import QueueFilter
from domain.notifications.model import Notification
from domain.shared.ids import new_id
from domain.shared.paging import Page, decode_cursor, decode_id_cursor, encode_cursor
from domain.shared.time import HANOI

Conn = Any  # the unit of work's asyncpg connection

STATUS_LIST_SIZE = 131_072
# A list stops taking new positions at 90 % so random draws stay cheap; a new list opens.
FULL_AT = 0.9


class PiiCipher(Protocol):
    def encrypt(self, personal_id: str) -> bytes: ...

    def decrypt(self, blob: bytes) -> str: ...


def _json(value: Any) -> Any:
    return None if value is None else msgspec.to_builtins(value)


_REQ_COLS = """id, ref, requester_id, certificate_type, status, purpose, copies, delivery, postal_address,
    fee_category, fee_documents, applicant, id_number_enc, prefilled, residence_history, proxy, online,
    requester_level, authority_unit_id, authority_code, fee, amount_due, deadline_kind, deadline_reasons, due_at,
    paused_at, cross_check, rejection_reason, supplement_note, created_at, updated_at, submitted_at, closed_at,
    version"""

# The value objects (jsonb) are read as text and decoded by msgspec straight into their types, in C:
# no per-column codec callback building dicts that are then converted a second time (~35 µs of
# Python per row, 0.7 ms of CPU per queue page). Building the whole row as one JSON document in
# PostgreSQL (json_build_object) cut Python further but cost the database more than it saved.
_JSON_COLS: dict[str, Any] = {"postal_address": Address | None, "fee_documents": tuple[DocumentRef, ...],
                              "applicant": Applicant, "residence_history": tuple[ResidencePeriod, ...],
                              "proxy": Proxy | None, "fee": FeeBreakdown | None,
                              "cross_check": CrossCheckResult | None}
_DECODE = {name: msgspec.json.Decoder(kind).decode for name, kind in _JSON_COLS.items()}
_REQ_SELECT = ", ".join(f"{c}::text AS {c}" if c in _JSON_COLS else c
                        for c in (c.strip() for c in _REQ_COLS.split(",")))


class PgRequests:
    def __init__(self, conn: Conn, pii: PiiCipher, notifier: PgNotifier | None = None) -> None:
        self.conn = conn
        self.pii = pii
        # The request's idempotency row, sent with the next ``add`` only (then dropped), its ``blank``
        # filled with the reference the insert draws; ``rider.stored`` tells what became of it.
        self.rider: PendingKey | None = None
        # Writes the requester's notification within ``save``'s statement (same connection, same transaction).
        self._notifier = notifier or PgNotifier(conn)

    def _args(self, r: Request) -> tuple[Any, ...]:
        applicant, enc = r.applicant, None
        if applicant.id_document is not None and applicant.id_document.number:
            enc = self.pii.encrypt(applicant.id_document.number)
            applicant = msgspec.structs.replace(
                applicant, id_document=msgspec.structs.replace(applicant.id_document, number=""))
        return (r.id, r.ref, r.requester_id, r.certificate_type.value, r.status.value, r.purpose, r.copies,
                r.delivery.value, _json(r.postal_address), r.fee_category.value, _json(r.fee_documents),
                _json(applicant), enc, list(r.prefilled), _json(r.residence_history), _json(r.proxy), r.online,
                r.requester_level, r.authority_unit_id, r.authority_code, _json(r.fee),
                r.fee.amount_due if r.fee else None, r.deadline_kind.value, list(r.deadline_reasons), r.due_at,
                r.paused_at, _json(r.cross_check), r.rejection_reason, r.supplement_note, r.created_at,
                r.updated_at, r.submitted_at, r.closed_at, r.version)

    def _row(self, row: asyncpg.Record) -> Request:
        d = _DECODE
        applicant = d["applicant"](row["applicant"])
        if row["id_number_enc"] is not None and applicant.id_document is not None:
            applicant = msgspec.structs.replace(applicant, id_document=msgspec.structs.replace(
                applicant.id_document, number=self.pii.decrypt(row["id_number_enc"])))
        return Request(
            id=row["id"], ref=row["ref"], requester_id=row["requester_id"],
            certificate_type=CertificateType(row["certificate_type"]), status=Status(row["status"]),
            purpose=row["purpose"], copies=row["copies"], delivery=Delivery(row["delivery"]),
            postal_address=d["postal_address"](row["postal_address"]) if row["postal_address"] else None,
            fee_category=FeeCategory(row["fee_category"]), fee_documents=d["fee_documents"](row["fee_documents"]),
            applicant=applicant, prefilled=tuple(row["prefilled"]),
            residence_history=d["residence_history"](row["residence_history"]),
            proxy=d["proxy"](row["proxy"]) if row["proxy"] else None, online=row["online"],
            requester_level=row["requester_level"], authority_unit_id=row["authority_unit_id"],
            authority_code=row["authority_code"], fee=d["fee"](row["fee"]) if row["fee"] else None,
            deadline_kind=DeadlineKind(row["deadline_kind"]), deadline_reasons=tuple(row["deadline_reasons"]),
            due_at=row["due_at"], paused_at=row["paused_at"],
            cross_check=d["cross_check"](row["cross_check"]) if row["cross_check"] else None,
            rejection_reason=row["rejection_reason"], supplement_note=row["supplement_note"],
            created_at=row["created_at"], updated_at=row["updated_at"], submitted_at=row["submitted_at"],
            closed_at=row["closed_at"], version=row["version"])

    # The request (or its change) and its history step go in one statement: one round trip.
    _STEP_VALUES = "$35, $1, $36, $37, $38, $39, $40, $41, $42"

    @staticmethod
    def _step_args(s: Step) -> tuple[Any, ...]:
        return (s.id, s.from_status.value if s.from_status else None, s.to_status.value, s.actor_kind.value,
                s.actor_id, s.at, s.note, s.data)

    async def add(self, request: Request, first_step: Step) -> Request:
        year = request.created_at.astimezone(HANOI).year
        values = ", ".join(f"${i}" for i in range(1, 35)).replace(
            "$2,", f"'LLTP-{year:04d}-' || lpad(nextval('judicial_request_seq')::text, 6, '0') || $2,", 1)
        insert = f"""WITH r AS (INSERT INTO judicial_requests ({_REQ_COLS}) VALUES ({values}) RETURNING id, ref),
                     s AS (INSERT INTO judicial_steps (id, request_id, from_status, to_status, actor_kind, actor_id,
                                                       at, note, data)
                           SELECT {self._STEP_VALUES.replace("$1", "r.id")} FROM r)"""
        rider, self.rider = self.rider, None
        if rider is None:
            ref = await self.conn.fetchval(f"{insert} SELECT ref FROM r",
                                           *self._args(request), *self._step_args(first_step))
            return msgspec.structs.replace(request, ref=ref)
        # The key's row in the same statement (a draft is a write a phone retries: quality.md counts its
        # round trips), its body's blank replaced by the reference drawn above, all values parameters.
        also, extra = rider.insert_sql(43, "true", fill="SELECT ref FROM r")
        row = await self.conn.fetchrow(
            f"{insert}, k AS ({also}) SELECT ref, EXISTS (SELECT 1 FROM k) AS rider_stored FROM r",
            *self._args(request), *self._step_args(first_step), *extra)
        ref = row["ref"]
        rider.stored = bool(row["rider_stored"])
        if rider.stored:
            rider.filled(ref)
        return msgspec.structs.replace(request, ref=ref)

    async def get(self, request_id: uuid.UUID, *, for_update: bool = False) -> Request | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self.conn.fetchrow(f"SELECT {_REQ_SELECT} FROM judicial_requests WHERE id = $1{lock}", request_id)
        return self._row(row) if row else None

    async def save(self, request: Request, step: Step | None = None,
                   notification: Notification | None = None) -> None:
        sets = ", ".join(f"{c.strip()} = ${i}" for i, c in enumerate(_REQ_COLS.split(","), 1) if i > 3)
        update = (f"UPDATE judicial_requests SET {sets}"
                  " WHERE id = $1 AND ref = $2 AND requester_id = $3 AND version = $34 - 1")
        if step is None:
            assert notification is None
            updated = await self.conn.fetchval(f"WITH u AS ({update} RETURNING 1) SELECT count(*) FROM u",
                                               *self._args(request))
            if updated != 1:
                raise Conflict("judicial.concurrent_update")
            return
        assert step.request_id == request.id
        ctes = f"""u AS ({update} RETURNING id),
                   s AS (INSERT INTO judicial_steps (id, request_id, from_status, to_status, actor_kind,
                                                     actor_id, at, note, data)
                         SELECT {self._STEP_VALUES.replace("$1", "u.id")} FROM u)"""
        args = (*self._args(request), *self._step_args(step))
        if notification is None:
            updated = await self.conn.fetchval(f"WITH {ctes} SELECT count(*) FROM u", *args)
            if updated != 1:
                raise Conflict("judicial.concurrent_update")
            return
        # The requester's notification (inbox + push rows + their preferences) rides in the same statement,
        # written only if the request was (selected from ``u``): one round trip for the whole transition.
        pending = self._notifier.pending(notification)
        row = await self.conn.fetchrow(
            f"WITH {ctes}, {pending.ctes(len(args) + 1, source='u')}\n"
            f"SELECT (SELECT count(*) FROM u) AS updated, {NOTIFICATION_COLUMNS}", *args, *pending.args)
        if row["updated"] != 1:
            raise Conflict("judicial.concurrent_update")
        await pending.settle(self.conn, row)

    async def delete_draft(self, request_id: uuid.UUID) -> None:
        await self.conn.execute("DELETE FROM judicial_requests WHERE id = $1 AND status = 'draft'", request_id)

    async def steps(self, request_id: uuid.UUID) -> list[Step]:
        rows = await self.conn.fetch(
            "SELECT id, request_id, from_status, to_status, actor_kind, actor_id, at, note, data FROM judicial_steps"
            " WHERE request_id = $1 ORDER BY at, id", request_id)
        return [msgspec.convert(dict(r), Step) for r in rows]

    async def mine(self, requester_id: uuid.UUID, cursor: str | None, limit: int) -> Page[Request]:
        after = decode_id_cursor(cursor) if cursor else None
        rows = await self.conn.fetch(
            f"SELECT {_REQ_SELECT} FROM judicial_requests WHERE requester_id = $1 AND ($2::uuid IS NULL OR id < $2)"
            " ORDER BY id DESC LIMIT $3", requester_id, after, limit + 1)
        items = [self._row(r) for r in rows[:limit]]
        return Page(items=items, next_cursor=encode_cursor(str(items[-1].id)) if len(rows) > limit else None)

    async def _queue_rows(self, select: str, f: QueueFilter, now: datetime, cursor: str | None,
                          limit: int) -> list[asyncpg.Record]:
        after_due, after_id = None, None
        if cursor:
            due_s, id_s = decode_cursor(cursor, 2)
            try:
                after_due, after_id = datetime.fromisoformat(due_s), uuid.UUID(id_s)
            except ValueError:
                raise InvalidInput(field="cursor", rule="cursor") from None
        statuses = [s.value for s in (f.statuses or IN_PROCESS)]
        day_from = datetime.combine(f.submitted_from, datetime.min.time(), HANOI) if f.submitted_from else None
        day_to = (datetime.combine(f.submitted_to, datetime.max.time(), HANOI) if f.submitted_to else None)
        rows: list[asyncpg.Record] = await self.conn.fetch(
            f"""SELECT {select} FROM judicial_requests
                WHERE authority_unit_id = ANY($1::uuid[]) AND status = ANY($2::text[])
                  AND status IN ('submitted', 'received', 'verifying', 'supplement_requested', 'supplemented',
                                 'approved')
                  AND ($3::text IS NULL OR certificate_type = $3)
                  AND (NOT $4 OR (due_at < $5 AND paused_at IS NULL))
                  AND ($6::timestamptz IS NULL OR submitted_at >= $6)
                  AND ($7::timestamptz IS NULL OR submitted_at <= $7)
                  AND ($8::timestamptz IS NULL OR (due_at, id) > ($8, $9::uuid))
                ORDER BY due_at, id LIMIT $10""",
            list(f.authority_unit_ids), statuses, f.certificate_type.value if f.certificate_type else None,
            f.overdue_only, now, day_from, day_to, after_due, after_id, limit + 1)
        return rows

    async def queue(self, f: QueueFilter, now: datetime, cursor: str | None, limit: int) -> Page[Request]:
        rows = await self._queue_rows(_REQ_SELECT, f, now, cursor, limit)
        return _queue_page([self._row(r) for r in rows[:limit]], more=len(rows) > limit)

    async def queue_items(self, f: QueueFilter, now: datetime, cursor: str | None,
                          limit: int) -> Page[QueueItem]:
        rows = await self._queue_rows(_ITEM_SELECT, f, now, cursor, limit)
        return _queue_page([self._item(r, now) for r in rows[:limit]], more=len(rows) > limit)

    def _item(self, r: asyncpg.Record, now: datetime) -> QueueItem:
        """A row of ``_ITEM_SELECT`` (``QueueItem``'s order), positionally: the value objects decoded by
        msgspec in C, enums looked up, the id number decrypted — what ``_row`` does, without the entity."""
        applicant = _DECODE_APPLICANT(r[10])
        if r[31] is not None and applicant.id_document is not None:
            applicant = msgspec.structs.replace(applicant, id_document=msgspec.structs.replace(
                applicant.id_document, number=self.pii.decrypt(r[31])))
        status, due_at, paused_at = _STATUS[r[14]], r[22], r[23]
        proxy = _DECODE_PROXY(r[13]) if r[13] is not None else None
        return QueueItem(
            r[0], r[1], r[2], _CERTIFICATE_TYPE[r[3]], r[4], r[5], _DELIVERY[r[6]],
            _DECODE_ADDRESS(r[7]) if r[7] is not None else None, _FEE_CATEGORY[r[8]], _DECODE_DOCUMENTS(r[9]),
            applicant, tuple(r[11]), _DECODE_HISTORY(r[12]), proxy, status, r[15], r[16], r[17], r[18],
            _DECODE_FEE(r[19]) if r[19] is not None else None, _DEADLINE_KIND[r[20]], tuple(r[21]), due_at,
            paused_at, _DECODE_CROSS_CHECK(r[24]) if r[24] is not None else None, r[25], r[26], r[27], r[28],
            r[29], r[30], is_overdue(status, due_at, paused_at, now), proxy is not None)


_Queued = TypeVar("_Queued", Request, QueueItem)


def _queue_page(items: list[_Queued], *, more: bool) -> Page[_Queued]:
    """A queue page (entities or read-model items) with the (due_at, id) cursor of its last item when more follow."""
    last = items[-1] if items else None
    nxt = encode_cursor(last.due_at.isoformat(), str(last.id)) if more and last and last.due_at is not None else None
    return Page(items=items, next_cursor=nxt)


# The queue's read model: ``QueueItem``'s fields in its order (``overdue`` and ``by_proxy`` are computed), then
# the encrypted id number.
_ITEM_COLUMNS = [*QueueItem.__struct_fields__[:-2], "id_number_enc"]
_ITEM_SELECT = ", ".join(f"{c}::text AS {c}" if c in _JSON_COLS else c for c in _ITEM_COLUMNS)
_DECODE_ADDRESS, _DECODE_DOCUMENTS, _DECODE_APPLICANT, _DECODE_HISTORY, _DECODE_PROXY, _DECODE_FEE, \
    _DECODE_CROSS_CHECK = (_DECODE[c] for c in ("postal_address", "fee_documents", "applicant", "residence_history",
                                                "proxy", "fee", "cross_check"))
# ``_item`` reads these positions by number: they must be where ``QueueItem`` has those fields.
if [_ITEM_COLUMNS[i] for i in (3, 6, 7, 8, 9, 10, 12, 13, 14, 19, 20, 22, 23, 24, 31)] != [
        "certificate_type", "delivery", "postal_address", "fee_category", "fee_documents", "applicant",
        "residence_history", "proxy", "status", "fee", "deadline_kind", "due_at", "paused_at", "cross_check",
        "id_number_enc"]:
    raise RuntimeError("QueueItem's fields moved: update PgRequests._item")
_STATUS = {e.value: e for e in Status}
_CERTIFICATE_TYPE = {e.value: e for e in CertificateType}
_DELIVERY = {e.value: e for e in Delivery}
_FEE_CATEGORY = {e.value: e for e in FeeCategory}
_DEADLINE_KIND = {e.value: e for e in DeadlineKind}


_CERT_COLS = """id, request_id, holder_id, number, certificate_type, authority_unit_id, authority_code, date_of_birth,
    issued_at, valid_until, vc_jwt, pdf_key, verify_token, status_refs, revoked_at, suspended_at, status_reason"""


def _cert(row: asyncpg.Record) -> Certificate:
    return msgspec.convert(dict(row), Certificate)


class PgCertificates:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def add(self, c: Certificate) -> None:
        await self.conn.execute(
            f"INSERT INTO judicial_certificates ({_CERT_COLS}) VALUES "
            "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            c.id, c.request_id, c.holder_id, c.number, c.certificate_type.value, c.authority_unit_id,
            c.authority_code, c.date_of_birth, c.issued_at, c.valid_until, c.vc_jwt, c.pdf_key, c.verify_token,
            _json(c.status_refs), c.revoked_at, c.suspended_at, c.status_reason)

    async def _one(self, where: str, arg: Any, lock: bool = False) -> Certificate | None:
        row = await self.conn.fetchrow(
            f"SELECT {_CERT_COLS} FROM judicial_certificates WHERE {where} = $1{' FOR UPDATE' if lock else ''}", arg)
        return _cert(row) if row else None

    async def get(self, certificate_id: uuid.UUID, *, for_update: bool = False) -> Certificate | None:
        return await self._one("id", certificate_id, for_update)

    async def by_request(self, request_id: uuid.UUID) -> Certificate | None:
        return await self._one("request_id", request_id)

    async def by_verify_token(self, token: str) -> Certificate | None:
        return await self._one("verify_token", token)

    async def mine(self, holder_id: uuid.UUID) -> list[Certificate]:
        rows = await self.conn.fetch(
            f"SELECT {_CERT_COLS} FROM judicial_certificates WHERE holder_id = $1 ORDER BY issued_at DESC LIMIT 200",
            holder_id)
        return [_cert(r) for r in rows]

    async def save_status(self, c: Certificate) -> None:
        await self.conn.execute(
            "UPDATE judicial_certificates SET revoked_at = $2, suspended_at = $3, status_reason = $4 WHERE id = $1",
            c.id, c.revoked_at, c.suspended_at, c.status_reason)


class StatusListView(msgspec.Struct, frozen=True):
    id: uuid.UUID
    authority_code: str
    purpose: str
    size: int
    version: int
    set_indexes: list[int]


class PgStatusLists:
    def __init__(self, conn: Conn, size: int = STATUS_LIST_SIZE) -> None:
        self.conn = conn
        self.size = size

    async def _open_list(self, authority_code: str, purpose: StatusPurpose) -> uuid.UUID:
        await self.conn.execute(
            "INSERT INTO judicial_status_lists (id, authority_code, purpose, size) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (authority_code, purpose) WHERE NOT is_full DO NOTHING",
            new_id(), authority_code, purpose.value, self.size)
        # Counting the allocation up front takes the row lock, so a list fills exactly once.
        row = await self.conn.fetchrow(
            """UPDATE judicial_status_lists SET allocated = allocated + 1, is_full = allocated + 1 >= $3::integer
               WHERE authority_code = $1 AND purpose = $2 AND NOT is_full RETURNING id""",
            authority_code, purpose.value, int(self.size * FULL_AT))
        return uuid.UUID(str(row["id"]))

    async def allocate(self, authority_code: str, purpose: StatusPurpose) -> StatusRef:
        list_id = await self._open_list(authority_code, purpose)
        while True:
            index = secrets.randbelow(self.size)   # random positions: herd privacy
            got = await self.conn.fetchval(
                "INSERT INTO judicial_status_entries (list_id, idx) VALUES ($1, $2) ON CONFLICT DO NOTHING"
                " RETURNING idx", list_id, index)
            if got is not None:
                return StatusRef(list_id=list_id, purpose=purpose, index=index)

    async def set(self, ref: StatusRef, value: bool) -> None:
        await self.conn.execute(
            """WITH e AS (UPDATE judicial_status_entries SET value = $3 WHERE list_id = $1 AND idx = $2
                          AND value IS DISTINCT FROM $3 RETURNING list_id)
               UPDATE judicial_status_lists SET version = version + 1 WHERE id IN (SELECT list_id FROM e)""",
            ref.list_id, ref.index, value)

    async def view(self, list_id: uuid.UUID) -> StatusListView | None:
        row = await self.conn.fetchrow(
            """SELECT l.id, l.authority_code, l.purpose, l.size, l.version,
                      COALESCE((SELECT array_agg(idx) FROM judicial_status_entries e
                                WHERE e.list_id = l.id AND e.value), '{}') AS set_indexes
               FROM judicial_status_lists l WHERE l.id = $1""", list_id)
        return msgspec.convert(dict(row), StatusListView) if row else None


_SHARE_COLS = """id, certificate_id, holder_id, code_hash, hint, purpose, created_at, expires_at, revoked_at,
    failed_attempts, locked_until"""


def _share(row: asyncpg.Record) -> ShareCode:
    return ShareCode(**dict(row))


class PgShareCodes:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def add(self, s: ShareCode) -> None:
        await self.conn.execute(
            f"INSERT INTO judicial_share_codes ({_SHARE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            s.id, s.certificate_id, s.holder_id, s.code_hash, s.hint, s.purpose, s.created_at, s.expires_at,
            s.revoked_at, s.failed_attempts, s.locked_until)

    async def by_hash(self, code_hash: bytes, *, for_update: bool = False) -> ShareCode | None:
        row = await self.conn.fetchrow(
            f"SELECT {_SHARE_COLS} FROM judicial_share_codes WHERE code_hash = $1{' FOR UPDATE' if for_update else ''}",
            code_hash)
        return _share(row) if row else None

    async def get(self, share_id: uuid.UUID, *, for_update: bool = False) -> ShareCode | None:
        row = await self.conn.fetchrow(
            f"SELECT {_SHARE_COLS} FROM judicial_share_codes WHERE id = $1{' FOR UPDATE' if for_update else ''}",
            share_id)
        return _share(row) if row else None

    async def save(self, s: ShareCode) -> None:
        await self.conn.execute(
            "UPDATE judicial_share_codes SET revoked_at = $2, failed_attempts = $3, locked_until = $4 WHERE id = $1",
            s.id, s.revoked_at, s.failed_attempts, s.locked_until)

    async def for_holder(self, holder_id: uuid.UUID) -> list[ShareCode]:
        rows = await self.conn.fetch(
            f"SELECT {_SHARE_COLS} FROM judicial_share_codes WHERE holder_id = $1 ORDER BY created_at DESC LIMIT 200",
            holder_id)
        return [_share(r) for r in rows]


class PgVerifications:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def add(self, v: Verification) -> None:
        await self.conn.execute(
            "INSERT INTO judicial_verifications (id, share_code_id, certificate_id, holder_id, outcome,"
            " certificate_status, purpose, verifier, client, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            v.id, v.share_code_id, v.certificate_id, v.holder_id, v.outcome.value,
            v.certificate_status.value if v.certificate_status else None, v.purpose, v.verifier, v.client, v.at)

    async def for_holder(self, holder_id: uuid.UUID, certificate_id: uuid.UUID | None = None,
                         limit: int = 100) -> list[Verification]:
        rows = await self.conn.fetch(
            """SELECT id, share_code_id, certificate_id, holder_id, outcome, certificate_status, purpose, verifier,
                      client, at FROM judicial_verifications
               WHERE holder_id = $1 AND ($2::uuid IS NULL OR certificate_id = $2) ORDER BY at DESC, id DESC
               LIMIT $3""", holder_id, certificate_id, limit)
        return [msgspec.convert(dict(r), Verification) for r in rows]


__all__ = ["PgCertificates", "PgRequests", "PgShareCodes", "PgStatusLists", "PgVerifications",
           "StatusListView", "VerificationOutcome"]
