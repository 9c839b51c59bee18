"""The judicial fee through the payment port: one intent per request for amount_due, paid /
refunded / lapsed on the payments handler's calls, idempotent, never downgraded."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import msgspec
import pytest

from domain.errors import Conflict
from domain.identity.principal import StaffRole
from domain.judicial.fee_payment import (
    PURPOSE,
    FeePaidHandler,
    FeePayment,
    FeeStatus,
    OpenFeePayment,
    may_issue,
)
from domain.judicial.model import Address, Delivery, Status
from domain.judicial.usecases import citizen as c
from domain.judicial.usecases import staff as s
from domain.payments.intents import CreatePaymentIntent
from domain.payments.model import IntentStatus, Refund, RefundStatus
from tests.support.judicial import World, applicant, history
from tests.support.judicial import citizen as new_citizen
from tests.support.judicial import staff as new_staff
from tests.support.payments import FakeDb, FakeIntents, FakeProvider, FakeProviders, FixedClock


class FakeFees:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, FeePayment] = {}

    async def get(self, request_id: uuid.UUID, *, for_update: bool = False) -> FeePayment | None:
        return self.rows.get(request_id)

    async def put(self, payment: FeePayment) -> None:
        self.rows[payment.request_id] = payment


def _world() -> tuple[FakeDb, FakeFees, FixedClock, OpenFeePayment]:
    db, fees, clock = FakeDb(), FakeFees(), FixedClock()
    create = CreatePaymentIntent(FakeIntents(db), FakeProviders(FakeProvider()), clock, default_provider="fake")
    return db, fees, clock, OpenFeePayment(create, fees, clock)


def test_nothing_owed_creates_no_intent() -> None:
    db, fees, _, opener = _world()
    got = asyncio.run(opener.execute(request_id=uuid.uuid4(), ref="LLTP-1", owner_id=uuid.uuid4(), amount_due=0))
    assert got is None
    assert db.intents == {}
    assert fees.rows == {}


def test_one_intent_per_request_for_amount_due_even_when_retried() -> None:
    db, fees, _, opener = _world()
    rid, owner = uuid.uuid4(), uuid.uuid4()

    async def twice() -> tuple[object, object]:
        a = await opener.execute(request_id=rid, ref="LLTP-7", owner_id=owner, amount_due=30_000)
        b = await opener.execute(request_id=rid, ref="LLTP-7", owner_id=owner, amount_due=30_000)
        return a, b

    a, b = asyncio.run(twice())
    assert a is not None
    assert b is not None
    assert a.intent.id == b.intent.id  # type: ignore[attr-defined]
    [intent] = db.intents.values()
    assert (intent.purpose, intent.object_id, intent.amount, intent.owner_id) == (PURPOSE, str(rid), 30_000, owner)
    assert intent.description == "Le phi LLTP LLTP-7"
    assert fees.rows[rid].status is FeeStatus.PENDING
    assert fees.rows[rid].intent_id == intent.id


def _paid_world() -> tuple[FakeFees, FixedClock, FeePaidHandler, object]:
    _, fees, clock, opener = _world()
    rid = uuid.uuid4()
    view = asyncio.run(opener.execute(request_id=rid, ref="LLTP-9", owner_id=uuid.uuid4(), amount_due=30_000))
    assert view is not None
    return fees, clock, FeePaidHandler(fees, clock), view.intent


def test_payment_marks_the_fee_paid_once_and_allows_issuing() -> None:
    fees, clock, handler, intent = _paid_world()
    paid = msgspec.structs.replace(intent, status=IntentStatus.SUCCEEDED, paid_at=clock.now())  # type: ignore[type-var]
    rid = uuid.UUID(paid.object_id)
    assert not may_issue(30_000, fees.rows[rid])
    asyncio.run(handler.on_paid(paid))
    first = fees.rows[rid]
    clock.advance(minutes=5)
    asyncio.run(handler.on_paid(paid))  # a retried payments transaction
    assert fees.rows[rid] == first
    assert first.status is FeeStatus.PAID
    assert first.paid_at == paid.paid_at
    assert may_issue(30_000, first)
    assert may_issue(0, None)


def test_late_unpaid_event_never_downgrades_a_paid_fee_and_lapse_is_recorded_otherwise() -> None:
    fees, clock, handler, intent = _paid_world()
    rid = uuid.UUID(intent.object_id)  # type: ignore[attr-defined]
    expired = msgspec.structs.replace(intent, status=IntentStatus.EXPIRED)  # type: ignore[type-var]
    clock.advance(minutes=31)
    asyncio.run(handler.on_unpaid(expired))
    assert fees.rows[rid].status is FeeStatus.LAPSED
    assert fees.rows[rid].updated_at == clock.now()
    asyncio.run(handler.on_paid(msgspec.structs.replace(expired, status=IntentStatus.SUCCEEDED)))  # a late transfer
    assert fees.rows[rid].status is FeeStatus.PAID
    asyncio.run(handler.on_unpaid(expired))
    assert fees.rows[rid].status is FeeStatus.PAID


def test_refunds_partial_keeps_paid_full_marks_refunded() -> None:
    fees, clock, handler, intent = _paid_world()
    rid = uuid.UUID(intent.object_id)  # type: ignore[attr-defined]
    paid = msgspec.structs.replace(intent, status=IntentStatus.SUCCEEDED, paid_at=clock.now())  # type: ignore[type-var]
    asyncio.run(handler.on_paid(paid))
    refund = Refund(id=uuid.uuid4(), intent_id=paid.id, key="k", amount=10_000, reason="bưu phí",
                    status=RefundStatus.SUCCEEDED, requested_by=None, created_at=clock.now(), updated_at=clock.now())
    partial = msgspec.structs.replace(paid, status=IntentStatus.PARTIALLY_REFUNDED, refunded_amount=10_000)
    asyncio.run(handler.on_refunded(partial, refund, full=False))
    assert (fees.rows[rid].status, fees.rows[rid].refunded_amount) == (FeeStatus.PAID, 10_000)
    full = msgspec.structs.replace(paid, status=IntentStatus.REFUNDED, refunded_amount=30_000)
    clock.advance(hours=1)
    asyncio.run(handler.on_refunded(full, msgspec.structs.replace(refund, amount=20_000), full=True))
    assert (fees.rows[rid].status, fees.rows[rid].refunded_amount) == (FeeStatus.REFUNDED, 30_000)
    assert not may_issue(30_000, fees.rows[rid])


# --- wired into the judicial use cases (Deps.fee_payments / Deps.open_fee_payment) ---------------


def test_submit_with_postage_opens_one_intent_and_issue_waits_for_payment() -> None:
    async def go() -> None:
        w = World()
        db, fees = FakeDb(), FakeFees()
        create = CreatePaymentIntent(FakeIntents(db), FakeProviders(FakeProvider()), w.clock,
                                     default_provider="fake")
        deps = dataclasses.replace(w.deps, fee_payments=fees, open_fee_payment=OpenFeePayment(create, fees, w.clock))
        me = new_citizen()
        d = await c.StartDraft(deps).execute(me, c.DraftInput(
            purpose="Xin việc", applicant=applicant(), residence_history=history(), delivery=Delivery.POST,
            postal_address=Address(text="Số 1 Tràng Tiền, Hà Nội", province_code="01")))
        r = await c.Submit(deps).execute(me, d.id, accepted_amount_due=30_000)
        [intent] = db.intents.values()
        assert (intent.object_id, intent.amount, intent.owner_id) == (str(r.id), 30_000, me.id)
        assert fees.rows[r.id].status is FeeStatus.PENDING
        assert r.authority_unit_id is not None
        boss = new_staff(r.authority_unit_id, StaffRole.HANDLER, StaffRole.SUPERVISOR)
        for step in (s.Receive, s.StartVerification, s.Approve):
            r = await step(deps).execute(boss, r.id)
        with pytest.raises(Conflict) as e:
            await s.Issue(deps).execute(boss, r.id)
        assert e.value.code == "judicial.fee_unpaid"
        assert e.value.params == {"amount_due": 30_000}
        await FeePaidHandler(fees, w.clock).on_paid(
            msgspec.structs.replace(intent, status=IntentStatus.SUCCEEDED, paid_at=w.clock.now()))
        r, _ = await s.Issue(deps).execute(boss, r.id)
        assert r.status is Status.ISSUED

    asyncio.run(go())


def test_nothing_owed_submit_creates_no_intent_and_issue_does_not_wait() -> None:
    async def go() -> None:
        w = World()
        db, fees = FakeDb(), FakeFees()
        create = CreatePaymentIntent(FakeIntents(db), FakeProviders(FakeProvider()), w.clock,
                                     default_provider="fake")
        deps = dataclasses.replace(w.deps, fee_payments=fees, open_fee_payment=OpenFeePayment(create, fees, w.clock))
        me = new_citizen()
        d = await c.StartDraft(deps).execute(me, c.DraftInput(purpose="Xin việc", applicant=applicant(),
                                                                residence_history=history()))
        r = await c.Submit(deps).execute(me, d.id, accepted_amount_due=0)
        assert db.intents == {}
        assert r.authority_unit_id is not None
        boss = new_staff(r.authority_unit_id, StaffRole.HANDLER, StaffRole.SUPERVISOR)
        for step in (s.Receive, s.StartVerification, s.Approve):
            r = await step(deps).execute(boss, r.id)
        r, _ = await s.Issue(deps).execute(boss, r.id)
        assert r.status is Status.ISSUED

    asyncio.run(go())
