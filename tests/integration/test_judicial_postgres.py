"""Judicial adapters against real PostgreSQL with the real signer, PDF renderer and blob store:
a request from draft to issued, revocation visible in the served status list, share codes and the
verification log, the queue's filters and index, and the ID number encrypted at rest."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from adapters.blobs.local import LocalBlobStore
from adapters.calendar.vietnam import VietnamHolidays
from adapters.dev.judicial_standins import CrossCheckAnswer, StandInCrossCheck, StandInPopulation
from adapters.postgres.idempotency import PendingKey
from adapters.postgres.judicial.authorities import load_default_schedule
from adapters.postgres.judicial.repositories import (
    PgCertificates,
    PgRequests,
    PgShareCodes,
    PgStatusLists,
    PgVerifications,
)
from adapters.postgres.notifications.notifier import PgNotifier
from adapters.postgres.pool import connect
from adapters.signing.keys import KeyRingError
from adapters.signing.pii import AesPiiProtector
from adapters.vc.credential import Issuers, VcJwtSigner
from adapters.vc.dev_ca import ensure_dev_pki
from adapters.vc.pdf import PadesSigner, PdfRenderer
from adapters.vc.setup import build
from adapters.vc.status_list import bit, decode, signed_list
from domain.errors import Conflict
from domain.feedback.calendar import WorkingCalendar
from domain.identity.principal import Principal, PrincipalKind, StaffGrant, StaffRole
from domain.judicial.authority import default_schedule
from domain.judicial.model import (
    Applicant,
    CertificateStatus,
    CertificateType,
    Conviction,
    CrossCheckOutcome,
    Status,
    StatusPurpose,
    VerificationOutcome,
)
from domain.judicial.usecases import citizen as c
from domain.judicial.usecases import sharing as sh
from domain.judicial.usecases import staff as s
from domain.judicial.usecases.common import Deps, Settings
from tests.support.judicial import FakeClock, applicant, history
from tests.support.notifications import make_devices, make_user

PII = AesPiiProtector(b"k" * 32)


def run(database_url: str, body: Callable[[asyncpg.Connection[Any]], Awaitable[None]]) -> None:
    async def go() -> None:
        conn = await connect(database_url)
        tx = conn.transaction()
        await tx.start()
        try:
            await body(conn)
        finally:
            await tx.rollback()
            await conn.close()
    asyncio.run(go())


class World:
    def __init__(self, conn: Any, tmp: Path, units: dict[str, uuid.UUID]) -> None:
        self.clock = FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
        self.issuers = Issuers.load(tmp / "vc", ("S-TP", "CA-TP"), "https://thudo.example", generate=True)
        key, cert, root = ensure_dev_pki(tmp / "pki", "S-TP", "So Tu phap Ha Noi")
        self.cross = StandInCrossCheck()
        self.status_lists = PgStatusLists(conn)
        notifier = PgNotifier(conn, self.clock)
        self.deps = Deps(
            requests=PgRequests(conn, PII, notifier), certificates=PgCertificates(conn), status_lists=self.status_lists,
            share_codes=PgShareCodes(conn), verifications=PgVerifications(conn), cross_check=self.cross,
            population=StandInPopulation(conn, PII, extra=applicant()), signer=VcJwtSigner(self.issuers),
            renderer=PdfRenderer({"S-TP": PadesSigner.from_files(key, cert, (root,), "Sở Tư pháp")}),
            blobs=LocalBlobStore(tmp / "blobs"), notifier=notifier, clock=self.clock,
            calendar=WorkingCalendar(VietnamHolidays()), authorities=default_schedule(units),
            settings=Settings(verify_base_url="https://thudo.example/judicial/verify"))


async def _units(conn: Any) -> dict[str, uuid.UUID]:
    rows = await conn.fetch("SELECT code, id FROM units WHERE code IN ('S-TP', 'CA-TP')")
    return {r["code"]: r["id"] for r in rows}


async def _people(conn: Any, doj: uuid.UUID) -> tuple[Principal, Principal]:
    me = Principal(kind=PrincipalKind.USER, id=await make_user(conn), level=2)
    a = applicant()
    assert a.id_document is not None
    await conn.execute("UPDATE users SET full_name = $2, date_of_birth = $3, personal_id_enc = $4 WHERE id = $1",
                       me.id, a.full_name, a.date_of_birth, PII.encrypt(a.id_document.number))
    boss_id = await make_user(conn)
    for role in ("handler", "supervisor"):
        await conn.execute("INSERT INTO staff_grants (user_id, unit_id, role) VALUES ($1, $2, $3)", boss_id, doj, role)
    boss = Principal(kind=PrincipalKind.USER, id=boss_id, level=2,
                     grants=(StaffGrant(doj, StaffRole.HANDLER), StaffGrant(doj, StaffRole.SUPERVISOR)))
    return me, boss


def test_request_to_certificate_revocation_and_sharing(database_url: str, tmp_path: Path) -> None:
    async def body(conn: asyncpg.Connection[Any]) -> None:
        units = await _units(conn)
        w = World(conn, tmp_path, units)
        me, boss = await _people(conn, units["S-TP"])
        a = applicant()
        w.cross.configure(CrossCheckAnswer(full_name=a.full_name or "", date_of_birth=a.date_of_birth or datetime.min,
                                           outcome=CrossCheckOutcome.RECORDS, convictions=(Conviction(
                                               judgment="Bản án 7/2022/HS-ST", offence="Đánh bạc",
                                               sentence="Phạt tiền"),)))
        # The population stand-in pre-fills name, date of birth and ID number from the users row.
        assert a.id_document is not None
        draft = await c.StartDraft(w.deps).execute(me, c.DraftInput(
            purpose="Xin việc", copies=3, applicant=Applicant(sex=a.sex, father=a.father, mother=a.mother,
                                                              phone=a.phone),
            residence_history=history()))
        assert {"full_name", "date_of_birth", "id_document"} <= set(draft.prefilled)
        assert draft.ref.startswith("LLTP-2026-")
        stored = await conn.fetchrow("SELECT applicant, id_number_enc FROM judicial_requests WHERE id = $1", draft.id)
        assert stored["applicant"]["id_document"]["number"] == ""
        assert stored["id_number_enc"] is not None
        assert PII.decrypt(stored["id_number_enc"]) == a.id_document.number
        r = await c.Submit(w.deps).execute(me, draft.id, accepted_amount_due=0)
        got = await w.deps.requests.get(r.id)
        assert got == r  # every field round-trips, the ID number decrypted
        assert r.fee is not None
        assert r.fee.fee == 205_000
        assert r.fee.city_support == 205_000
        assert await conn.fetchval("SELECT amount_due FROM judicial_requests WHERE id = $1", r.id) == 0
        for step in (s.Receive, s.StartVerification, s.Approve):
            r = await step(w.deps).execute(boss, r.id)
        r, cert = await s.Issue(w.deps).execute(boss, r.id)
        assert r.status is Status.ISSUED
        steps = await w.deps.requests.steps(r.id)
        assert [x.to_status for x in steps][-4:] == [Status.RECEIVED, Status.VERIFYING, Status.APPROVED,
                                                     Status.ISSUED]
        assert all(x.actor_id == boss.id for x in steps[-4:])
        assert await conn.fetchval("SELECT count(*) FROM notification_inbox WHERE user_id = $1", me.id) == 5
        assert await w.deps.certificates.get(cert.id) == cert
        claims = jose_jwt.decode(cert.vc_jwt, KeySet.import_key_set(w.issuers.jwks)).claims
        assert claims["credentialSubject"]["judicialRecord"]["convictions"][0]["offence"] == "Đánh bạc"
        pdf = await w.deps.blobs.get(cert.pdf_key)
        assert pdf is not None
        assert pdf.startswith(b"%PDF")

        # Sharing and the log.
        share, code = await sh.CreateShareCode(w.deps).execute(me, cert.id, "Tuyển dụng")
        res = await sh.VerifyShareCode(w.deps).execute(sh.VerifyInput(
            code=code, date_of_birth=cert.date_of_birth, client="h1", verifier="Công ty A"))
        assert res.outcome is VerificationOutcome.SHOWN
        assert res.status is CertificateStatus.VALID
        wrong = await sh.VerifyShareCode(w.deps).execute(sh.VerifyInput(
            code=code, date_of_birth=cert.date_of_birth + timedelta(days=1), client="h2"))
        assert wrong.outcome is VerificationOutcome.WRONG_DATE_OF_BIRTH
        assert (await w.deps.share_codes.get(share.id)).failed_attempts == 1  # type: ignore[union-attr]
        log = await sh.MyVerifications(w.deps).execute(me)
        assert [v.outcome for v in log] == [VerificationOutcome.WRONG_DATE_OF_BIRTH, VerificationOutcome.SHOWN]

        # Revocation flips the bit in the list the verifier downloads.
        rev = next(x for x in cert.status_refs if x.purpose is StatusPurpose.REVOCATION)
        before = await w.status_lists.view(rev.list_id)
        assert before is not None
        assert rev.index not in before.set_indexes
        await s.ChangeCertificateStatus(w.deps).execute(boss, cert.id, "revoke", "Cấp sai")
        after = await w.status_lists.view(rev.list_id)
        assert after is not None
        assert after.set_indexes == [rev.index]
        assert after.version == before.version + 1
        token = signed_list(w.issuers, after.authority_code, after.id, after.purpose, after.size,
                            after.set_indexes, w.clock.now())
        encoded = jose_jwt.decode(token, KeySet.import_key_set(w.issuers.jwks)).claims["credentialSubject"]
        assert bit(decode(encoded["encodedList"]), rev.index)
        res = await sh.VerifyShareCode(w.deps).execute(sh.VerifyInput(
            code=code, date_of_birth=cert.date_of_birth, client="h1"))
        assert res.status is CertificateStatus.REVOKED
    run(database_url, body)


def test_queue_filters_overdue_paging_and_index(clean_db: str, tmp_path: Path) -> None:
    # clean_db: the queue reads every request of the authority, so none may be left by earlier tests.
    async def body(conn: asyncpg.Connection[Any]) -> None:
        units = await _units(conn)
        w = World(conn, tmp_path, units)
        me, boss = await _people(conn, units["S-TP"])
        ids = []
        for i in range(3):
            d = await c.StartDraft(w.deps).execute(me, c.DraftInput(
                purpose="Xin việc", applicant=applicant(), residence_history=history(),
                certificate_type=CertificateType.NO2 if i == 2 else CertificateType.NO1))
            ids.append((await c.Submit(w.deps).execute(me, d.id)).id)
            w.clock.t += timedelta(days=1)
        page = await s.Queue(w.deps).execute(boss, s.QueueQuery(), None, 2)
        assert [x.id for x in page.items] == ids[:2]
        assert page.next_cursor
        rest = await s.Queue(w.deps).execute(boss, s.QueueQuery(), page.next_cursor, 2)
        assert [x.id for x in rest.items] == ids[2:]
        assert rest.next_cursor is None
        no2 = await s.Queue(w.deps).execute(boss, s.QueueQuery(certificate_type=CertificateType.NO2), None, 10)
        assert [x.id for x in no2.items] == ids[2:]
        assert (await s.Queue(w.deps).execute(boss, s.QueueQuery(overdue_only=True), None, 10)).items == []
        w.clock.t = datetime(2026, 4, 1, tzinfo=UTC)
        assert len((await s.Queue(w.deps).execute(boss, s.QueueQuery(overdue_only=True), None, 10)).items) == 3
        await s.RequestSupplement(w.deps).execute(boss, ids[0], "Bổ sung")  # paused: not overdue
        assert len((await s.Queue(w.deps).execute(boss, s.QueueQuery(overdue_only=True), None, 10)).items) == 2
        police = Principal(kind=PrincipalKind.USER, id=uuid.uuid4(), level=2,
                           grants=(StaffGrant(units["CA-TP"], StaffRole.SUPERVISOR),))
        assert (await s.Queue(w.deps).execute(police, s.QueueQuery(), None, 10)).items == []
        await conn.execute("ANALYZE judicial_requests")
        await conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r[0] for r in await conn.fetch(
            "EXPLAIN SELECT id FROM judicial_requests WHERE authority_unit_id = ANY($1::uuid[]) AND status IN "
            "('submitted', 'received', 'verifying', 'supplement_requested', 'supplemented', 'approved') "
            "ORDER BY due_at, id LIMIT 20", [units["S-TP"]]))
        assert "judicial_requests_queue" in plan
    run(clean_db, body)


def test_optimistic_version_and_status_list_allocation(database_url: str, tmp_path: Path) -> None:
    async def body(conn: asyncpg.Connection[Any]) -> None:
        units = await _units(conn)
        w = World(conn, tmp_path, units)
        me, _ = await _people(conn, units["S-TP"])
        d = await c.StartDraft(w.deps).execute(me, c.DraftInput(purpose="x", applicant=applicant()))
        stale = msgspec.structs.replace(d, purpose="y", version=d.version + 2)
        with pytest.raises(Conflict):
            await w.deps.requests.save(stale)
        small = PgStatusLists(conn, size=131_072)
        refs = [await small.allocate("S-TP", StatusPurpose.SUSPENSION) for _ in range(50)]
        assert len({r.index for r in refs}) == 50
        assert len({r.list_id for r in refs}) == 1
        assert sorted(r.index for r in refs) != list(range(50))  # random, not sequential
        assert await conn.fetchval("SELECT allocated FROM judicial_status_lists WHERE id = $1", refs[0].list_id) == 50
        # At 90 % a list closes and the next allocation opens a new one.
        await conn.execute("UPDATE judicial_status_lists SET allocated = $2 WHERE id = $1", refs[0].list_id,
                           int(131_072 * 0.9) - 1)
        last = await small.allocate("S-TP", StatusPurpose.SUSPENSION)
        assert last.list_id == refs[0].list_id
        assert await conn.fetchval("SELECT is_full FROM judicial_status_lists WHERE id = $1", refs[0].list_id)
        fresh = await small.allocate("S-TP", StatusPurpose.SUSPENSION)
        assert fresh.list_id != refs[0].list_id
    run(database_url, body)


def test_a_transition_and_its_notice_go_in_one_statement_with_the_preferences(database_url: str,
                                                                             tmp_path: Path) -> None:
    """Submit writes the request, its step and the requester's notice (inbox + one push row per device in
    its locale) in one statement; the requester's quiet hours still delay the push (their second
    statement); a stale version writes none of them."""
    async def body(conn: asyncpg.Connection[Any]) -> None:
        units = await _units(conn)
        w = World(conn, tmp_path, units)  # 09:00 in Hanoi
        me, _ = await _people(conn, units["S-TP"])
        await make_devices(conn, me.id, 1, locale="vi")
        await make_devices(conn, me.id, 1, locale="en")
        await conn.execute("INSERT INTO notification_preferences (user_id, opted_out, quiet_start, quiet_end) "
                           "VALUES ($1, '{judicial}', '08:00', '10:00')", me.id)
        d = await c.StartDraft(w.deps).execute(me, c.DraftInput(purpose="x", residence_history=history(),
                                                                applicant=applicant()))
        r = await c.Submit(w.deps).execute(me, d.id, accepted_amount_due=0)
        inbox = await conn.fetch("SELECT id, template, object_id FROM notification_inbox WHERE user_id = $1", me.id)
        assert [(x["template"], x["object_id"]) for x in inbox] == [("judicial.submitted", str(r.id))]
        pushes = await conn.fetch("SELECT payload, available_at FROM push_outbox WHERE inbox_id = $1", inbox[0]["id"])
        assert len({x["payload"]["title"] for x in pushes}) == 2  # one per device, each in its own locale
        # Legally required: the opt-out does not drop it, the quiet hours delay it to 10:00 in Hanoi.
        assert {x["available_at"] for x in pushes} == {datetime(2026, 3, 2, 3, 0, tzinfo=UTC)}
        stale = msgspec.structs.replace(r, status=Status.RECEIVED, version=r.version + 2)
        with pytest.raises(Conflict):
            await s.Receive(w.deps).move(stale, stale, None)
        assert await conn.fetchval("SELECT count(*) FROM notification_inbox WHERE user_id = $1", me.id) == 1
        assert [x.to_status for x in await w.deps.requests.steps(r.id)] == [Status.DRAFT, Status.SUBMITTED]
    run(database_url, body)


def test_setup_builds_keys_signers_and_the_authority_schedule(database_url: str, tmp_path: Path) -> None:
    async def body(conn: asyncpg.Connection[Any]) -> None:
        schedule = await load_default_schedule(conn)
        assert [p.code for p in schedule.periods] == ["S-TP", "CA-TP"]
        built = build(tmp_path, schedule, "https://thudo.example", generate=True)
        assert len(built.issuers.jwks["keys"]) == 2  # one ES256 key per authority
        assert len(built.trust_roots) == 1
        assert set(built.renderer.signers) == {"S-TP", "CA-TP"}
        # Production generates nothing: provisioned VC keys and PDF signers must be there.
        with pytest.raises(ValueError, match="no PDF signer"):
            build(tmp_path, schedule, "https://thudo.example", generate=False)
        with pytest.raises(KeyRingError):
            build(tmp_path / "empty", schedule, "https://thudo.example", generate=False)
    run(database_url, body)


def test_the_draft_insert_stores_a_key_row_with_the_reference_it_draws(database_url: str, tmp_path: Path) -> None:
    """``PgRequests.add`` with a rider (the request's idempotency row, api.platform.idempotency.idempotent_folded):
    one statement inserts the request, its first step and the row, the row's blank replaced by the
    reference the insert draws; a key already taken is not overwritten (``stored`` False)."""
    async def body(conn: asyncpg.Connection[Any]) -> None:
        units = await _units(conn)
        w = World(conn, tmp_path, units)
        me, _ = await _people(conn, units["S-TP"])
        requests = w.deps.requests
        assert isinstance(requests, PgRequests)
        start = c.StartDraft(w.deps)
        cmd = c.DraftInput(purpose="blank-0 is not the blank", applicant=applicant())
        draft, step = await start.draft(me, cmd)
        blank = "blank-" + uuid.uuid4().hex
        content = msgspec.json.encode({"ref": blank, "again": [blank], "purpose": draft.purpose})
        requests.rider = rider = PendingKey("user:x", "k1", "fp", 201, content, {"location": "/x"}, blank=blank)
        r = await start.execute(me, cmd, (draft, step))  # one statement: the bench smoke counts it
        assert requests.rider is None  # sent with this add only
        assert rider.stored is True
        expected = msgspec.json.encode({"ref": r.ref, "again": [r.ref], "purpose": draft.purpose})
        assert rider.body == expected
        row = await conn.fetchrow("SELECT status, body, headers::text AS h FROM idempotency_keys"
                                  " WHERE principal = 'user:x' AND key = 'k1'")
        assert (row["status"], bytes(row["body"]), msgspec.json.decode(row["h"])) == (201, expected, {"location": "/x"})
        assert await conn.fetchval("SELECT count(*) FROM judicial_steps WHERE request_id = $1", r.id) == 1

        again, again_step = await start.draft(me, cmd)
        requests.rider = taken = PendingKey("user:x", "k1", "fp2", 201, content, blank=blank)
        other = await start.execute(me, cmd, (again, again_step))
        assert taken.stored is False
        assert taken.body == content  # not filled: the caller replays the first row instead
        assert other.ref != r.ref
        assert bytes(await conn.fetchval("SELECT body FROM idempotency_keys WHERE key = 'k1'")) == expected
    run(database_url, body)


def test_the_queue_read_model_is_the_entitys_view(clean_db: str, tmp_path: Path) -> None:
    """``queue_items`` decodes the same rows as ``queue`` straight into ``QueueItem``: equal to the entity's
    read model field for field (id number decrypted, overdue as the entity says), same order and cursor."""
    from domain.judicial.model import queue_item

    async def body(conn: asyncpg.Connection[Any]) -> None:
        units = await _units(conn)
        w = World(conn, tmp_path, units)
        me, boss = await _people(conn, units["S-TP"])
        for i in range(3):
            d = await c.StartDraft(w.deps).execute(me, c.DraftInput(
                purpose=f"Xin việc {i}", applicant=applicant(), residence_history=history()))
            await c.Submit(w.deps).execute(me, d.id)
            w.clock.t += timedelta(days=1)
        w.clock.t = datetime(2026, 4, 1, tzinfo=UTC)  # overdue by now
        first = await s.Queue(w.deps).execute(boss, s.QueueQuery(), None, 2)
        items = await s.QueueItems(w.deps).execute(boss, s.QueueQuery(), None, 2)
        assert items.items == [queue_item(r, w.clock.now()) for r in first.items]
        assert items.next_cursor == first.next_cursor is not None
        rest = await s.Queue(w.deps).execute(boss, s.QueueQuery(), first.next_cursor, 2)
        rest_items = await s.QueueItems(w.deps).execute(boss, s.QueueQuery(), items.next_cursor, 2)
        assert rest_items.items == [queue_item(r, w.clock.now()) for r in rest.items]
        assert len(rest_items.items) == 1
        assert rest_items.next_cursor is None
        everything = [*items.items, *rest_items.items]
        assert all(x.overdue for x in everything)
        number = applicant().id_document.number  # type: ignore[union-attr]
        assert all(x.applicant.id_document is not None and x.applicant.id_document.number == number
                   for x in everything)
        police = Principal(kind=PrincipalKind.USER, id=uuid.uuid4(), level=2,
                           grants=(StaffGrant(units["CA-TP"], StaffRole.SUPERVISOR),))
        assert (await s.QueueItems(w.deps).execute(police, s.QueueQuery(), None, 10)).items == []
    run(clean_db, body)
