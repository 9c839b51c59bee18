"""One contract, two implementations: the in-memory fakes the unit tests use and the Postgres
adapters must behave the same (round trips, optimistic versions, ownership lists, lookups)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from adapters.postgres.judicial.repositories import PgRequests, PgShareCodes
from adapters.postgres.pool import connect
from adapters.signing.pii import AesPiiProtector
from domain.errors import Conflict
from domain.judicial.model import (
    ActorKind,
    Address,
    CertificateType,
    CrossCheckOutcome,
    CrossCheckResult,
    DeadlineKind,
    Delivery,
    DocumentRef,
    FeeBreakdown,
    FeeCategory,
    FeeLine,
    Proxy,
    ProxyRelation,
    Request,
    ShareCode,
    Status,
    Step,
)
from domain.shared.ids import new_id
from tests.support.judicial import FakeRequests, FakeShareCodes, applicant, history
from tests.support.notifications import make_user

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)

Body = Callable[[Any, Any, Callable[[], Awaitable[uuid.UUID]]], Awaitable[None]]


def both(database_url: str, kind: str, body: Body) -> None:
    async def go() -> None:
        if kind == "fake":
            await body(FakeRequests(), FakeShareCodes(), lambda: _uuid())
            return
        conn = await connect(database_url)
        tx = conn.transaction()
        await tx.start()
        try:
            await body(PgRequests(conn, AesPiiProtector(b"c" * 32)), PgShareCodes(conn), lambda: make_user(conn))
        finally:
            await tx.rollback()
            await conn.close()
    asyncio.run(go())


async def _uuid() -> uuid.UUID:
    return new_id()


def draft(owner: uuid.UUID) -> tuple[Request, Step]:
    r = Request(id=new_id(), ref="", requester_id=owner, purpose="Xin việc", applicant=applicant(),
                prefilled=("full_name", "date_of_birth"), residence_history=history(), created_at=T0, updated_at=T0)
    return r, Step(id=new_id(), request_id=r.id, from_status=None, to_status=Status.DRAFT,
                   actor_kind=ActorKind.CITIZEN, actor_id=owner, at=T0)


@pytest.mark.parametrize("kind", ["fake", "postgres"])
def test_requests_contract(database_url: str, kind: str) -> None:
    async def body(requests: Any, _: Any, user: Callable[[], Awaitable[uuid.UUID]]) -> None:
        me, other = await user(), await user()
        first = await requests.add(*draft(me))
        second = await requests.add(*draft(me))
        await requests.add(*draft(other))
        assert first.ref.startswith("LLTP-2026-")
        assert first.ref != second.ref
        assert await requests.get(first.id) == first
        changed = msgspec.structs.replace(first, purpose="Du học", version=1)
        await requests.save(changed)
        assert (await requests.get(first.id)).purpose == "Du học"
        with pytest.raises(Conflict):
            await requests.save(msgspec.structs.replace(first, purpose="stale", version=1))
        page = await requests.mine(me, None, 1)
        assert [r.id for r in page.items] == [second.id]
        assert page.next_cursor
        rest = await requests.mine(me, page.next_cursor, 1)
        assert [r.id for r in rest.items] == [first.id]
        assert rest.next_cursor is None
        assert [s.to_status for s in await requests.steps(first.id)] == [Status.DRAFT]
        await requests.delete_draft(first.id)
        assert await requests.get(first.id) is None
    both(database_url, kind, body)


@pytest.mark.parametrize("kind", ["fake", "postgres"])
def test_every_value_object_comes_back_as_saved(database_url: str, kind: str) -> None:
    """The Postgres adapter reads the value objects as JSON text decoded by typed decoders: every field
    (value objects, dates, timestamps, arrays, the decrypted id number) must come back unchanged."""
    async def body(requests: Any, _: Any, user: Callable[[], Awaitable[uuid.UUID]]) -> None:
        me = await user()
        base, step = draft(me)
        doc = DocumentRef(key="judicial/x/1", content_type="application/pdf", size=12, sha256="ab" * 32)
        full = msgspec.structs.replace(
            base, certificate_type=CertificateType.NO1, copies=3, delivery=Delivery.POST,
            postal_address=Address(text="Số 2 Hàng Bài", province_code="01"), fee_category=FeeCategory.STUDENT,
            fee_documents=(doc,), proxy=Proxy(relation=ProxyRelation.PARENT, document=doc), online=False,
            requester_level=2, fee=FeeBreakdown(priced_on=date(2026, 3, 2), category=FeeCategory.STUDENT, copies=3,
                                                lines=(FeeLine(code="base", amount=200_000, source="TT 244"),),
                                                fee=100_000, city_support=-100_000, postage=25_000,
                                                amount_due=25_000),
            deadline_kind=DeadlineKind.EXTENDED, deadline_reasons=("abroad",),
            due_at=T0 + timedelta(days=15, microseconds=7), paused_at=T0 + timedelta(days=1),
            cross_check=CrossCheckResult(outcome=CrossCheckOutcome.CLEAR, sources=("police",), checked_at=T0),
            rejection_reason="lý do", supplement_note="ghi chú", submitted_at=T0, closed_at=T0 + timedelta(days=20))
        added = await requests.add(full, step)
        assert await requests.get(added.id) == added
        assert (await requests.mine(me, None, 5)).items == [added]
    both(database_url, kind, body)


@pytest.mark.parametrize("kind", ["fake", "postgres"])
def test_share_codes_contract(database_url: str, kind: str) -> None:
    async def body(requests: Any, shares: Any, user: Callable[[], Awaitable[uuid.UUID]]) -> None:
        async def certificate(owner: uuid.UUID) -> uuid.UUID:
            """A certificate row for the share code to point at (the fake needs none)."""
            cert_id = new_id()
            if kind == "postgres":
                request = await requests.add(*draft(owner))
                conn = requests.conn
                await conn.execute(
                    """INSERT INTO judicial_certificates (id, request_id, holder_id, number, certificate_type,
                           authority_unit_id, authority_code, date_of_birth, issued_at, valid_until, vc_jwt, pdf_key,
                           verify_token, status_refs)
                       SELECT $1, $2, $3, $4, '1', id, code, '1995-03-14', $5::timestamptz,
                              $5::timestamptz + interval '180 days', 'jwt', 'k', $4, '[]'
                       FROM units WHERE code = 'S-TP'""",
                    cert_id, request.id, owner, f"N-{cert_id}", T0)
            return cert_id

        me = await user()
        cert_id = await certificate(me)
        s = ShareCode(id=new_id(), certificate_id=cert_id, holder_id=me, code_hash=b"h" * 32, hint="XYZ",
                      purpose="Xin việc", created_at=T0, expires_at=T0 + timedelta(days=30))
        await shares.add(s)
        assert await shares.by_hash(b"h" * 32) == s
        await shares.save(msgspec.structs.replace(s, failed_attempts=2))
        assert (await shares.get(s.id)).failed_attempts == 2
        assert [x.id for x in await shares.for_holder(me)] == [s.id]
    both(database_url, kind, body)
