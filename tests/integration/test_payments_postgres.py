"""Payments on real PostgreSQL: the Postgres adapters under the real use cases, VietQR's signed
notifications delivered twice, out of order, forged and replayed; the owner's change committing (or
rolling back) with the intent's. The contract part runs the same scenarios on the in-memory fakes,
which keeps the fakes of the unit tests honest."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from adapters.payments import signed_http
from adapters.payments.bank_notifications import WEBHOOK_TARGET, VietQrConfig, VietQrProvider
from adapters.postgres.idempotency import PendingKey
from adapters.postgres.payments import PgPaymentIntents, PgPaymentsTransactions
from adapters.postgres.pool import create_pool
from domain.payments.errors import NotificationRejected
from domain.payments.intents import CreateIntent, CreatePaymentIntent
from domain.payments.jobs import DailyMismatchReport, ExpireIntents, ReconcilePayments
from domain.payments.model import (
    EventType,
    IntentStatus,
    Outcome,
    PaymentIntent,
    RawNotification,
    Refund,
    RefundStatus,
)
from domain.payments.notify import HandleNotification
from domain.payments.refunds import RefundRequest, RequestRefund
from domain.payments.settlement import settle_processing, settle_succeeded
from domain.shared.time import HANOI
from tests.support.notifications import make_user
from tests.support.payments import (
    FakeDb,
    FakeProvider,
    FakeProviders,
    FixedClock,
    event,
    signed,
    succeeded_answer,
)

SECRET = b"bank-shared-secret-for-tests"
ORDERS_DDL = """CREATE TABLE IF NOT EXISTS payments_test_orders (
    object_id text PRIMARY KEY, state text NOT NULL, refunded bigint NOT NULL DEFAULT 0)"""


class OrderHandler:
    """An owning context's handler writing its own row on the payments transaction's connection."""

    fail = False

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def on_paid(self, intent: PaymentIntent) -> None:
        await self.conn.execute("INSERT INTO payments_test_orders (object_id, state) VALUES ($1, 'active')",
                                intent.object_id)
        if OrderHandler.fail:
            raise RuntimeError("owner refused")

    async def on_refunded(self, intent: PaymentIntent, refund: Refund, *, full: bool) -> None:
        await self.conn.execute(
            "UPDATE payments_test_orders SET state = $2, refunded = $3 WHERE object_id = $1",
            intent.object_id, "revoked" if full else "active", intent.refunded_amount)

    async def on_unpaid(self, intent: PaymentIntent) -> None:
        await self.conn.execute("INSERT INTO payments_test_orders (object_id, state) VALUES ($1, $2)",
                                intent.object_id, intent.status.value)


class Env:
    def __init__(self, pool: Any, owner: uuid.UUID) -> None:
        self.pool = pool
        self.owner = owner
        self.clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
        self.tx = PgPaymentsTransactions(pool, {"transit.pass": OrderHandler})
        self.vietqr = VietQrProvider(VietQrConfig(bank_bin="970436", account_number="0011001234567",
                                                  account_name="SO TAI CHINH HA NOI", bank_api_url="http://bank.invalid",
                                                  secrets=[b"new-secret", SECRET]),
                                     httpx.AsyncClient())
        self.fake = FakeProvider()
        self.providers = FakeProviders(self.vietqr, self.fake)

    async def create(self, object_id: str = "pass-1", amount: int = 200_000, provider: str = "vietqr") -> PaymentIntent:
        async with self.pool.acquire() as conn, conn.transaction():
            view = await CreatePaymentIntent(PgPaymentIntents(conn), self.providers, self.clock,
                                             default_provider=provider).execute(
                CreateIntent(owner_id=self.owner, purpose="transit.pass", object_id=object_id, amount=amount,
                             description="Vé tháng"))
        return view.intent

    def bank_notification(self, intent: PaymentIntent, type_: EventType, *, event_id: str | None = None,
                          amount: int | None = None, at: datetime | None = None, secret: bytes = SECRET,
                          refund_id: uuid.UUID | None = None) -> RawNotification:
        nonce = event_id or uuid.uuid4().hex
        body = msgspec.json.encode({
            "event_id": nonce, "type": type_.value, "reference": intent.ref,
            "amount": intent.amount if amount is None else amount, "currency": "VND", "transaction_id": "FT2606912",
            "refund_id": str(refund_id) if refund_id else None, "bank_name": "Vietcombank",
            "account_last_digits": "0011009876543"})
        ts = int((at or self.clock.now()).timestamp())
        return RawNotification(body=body, headers=signed_http.sign(secret, WEBHOOK_TARGET, body, nonce=nonce,
                                                                   timestamp=ts), query={})

    async def deliver(self, raw: RawNotification) -> Outcome:
        return await HandleNotification(self.tx, self.providers, self.clock).execute("vietqr", raw)

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        async with self.pool.acquire() as conn:
            return list(await conn.fetch(sql, *args))

    async def intent(self, intent: PaymentIntent) -> PaymentIntent:
        async with self.pool.acquire() as conn:
            got = await PgPaymentIntents(conn).get(intent.id)
        assert got is not None
        return got

    async def order(self, object_id: str = "pass-1") -> tuple[str, int] | None:
        rows = await self.fetch("SELECT state, refunded FROM payments_test_orders WHERE object_id = $1", object_id)
        return (rows[0]["state"], rows[0]["refunded"]) if rows else None


@pytest.fixture
async def env(clean_db: str) -> AsyncIterator[Env]:
    pool = await create_pool(clean_db, min_size=1, max_size=4)
    async with pool.acquire() as conn:
        await conn.execute(ORDERS_DDL)
        owner = await make_user(conn)
    OrderHandler.fail = False
    try:
        yield Env(pool, owner)
    finally:
        await pool.close()


async def test_one_intent_per_order_even_when_two_requests_race(env: Env) -> None:
    first, second = await asyncio.gather(env.create(), env.create())
    assert first.id == second.id
    rows = await env.fetch("SELECT id, amount, status FROM payment_intents")
    assert [(r["id"], r["amount"], r["status"]) for r in rows] == [(first.id, 200_000, "requires_payment")]


async def test_webhook_twice_and_out_of_order(env: Env) -> None:
    intent = await env.create()
    success = env.bank_notification(intent, EventType.PAYMENT_SUCCEEDED, event_id="evt-success")
    processing = env.bank_notification(intent, EventType.PAYMENT_PROCESSING, event_id="evt-processing")
    assert await env.deliver(success) is Outcome.APPLIED
    assert await env.deliver(success) is Outcome.DUPLICATE
    assert await env.deliver(processing) is Outcome.STALE    # older news arriving late
    paid = await env.intent(intent)
    assert paid.status is IntentStatus.SUCCEEDED
    assert paid.provider_ref == "FT2606912"
    assert paid.instrument is not None
    assert (paid.instrument.bank_name, paid.instrument.last_digits) == ("Vietcombank", "6543")
    assert await env.order() == ("active", 0)
    rows = await env.fetch("SELECT event_id, outcome FROM payment_notifications ORDER BY received_at, event_id")
    assert sorted((r["event_id"], r["outcome"]) for r in rows) == [("evt-processing", "stale"),
                                                                  ("evt-success", "applied")]
    stored = await env.fetch("SELECT instrument_last_digits FROM payment_intents")
    assert stored[0]["instrument_last_digits"] == "6543"  # never the full account number


async def test_concurrent_duplicate_deliveries_apply_once(env: Env) -> None:
    intent = await env.create()
    raw = env.bank_notification(intent, EventType.PAYMENT_SUCCEEDED)
    outcomes = await asyncio.gather(*(env.deliver(raw) for _ in range(4)))
    assert sorted(o.value for o in outcomes) == ["applied", "duplicate", "duplicate", "duplicate"]
    assert await env.fetch("SELECT count(*) AS n FROM payments_test_orders") == [(1,)]


async def test_bad_signature_and_replays_are_refused_and_leave_nothing(env: Env) -> None:
    intent = await env.create()
    forged = env.bank_notification(intent, EventType.PAYMENT_SUCCEEDED, secret=b"attacker-secret")
    with pytest.raises(NotificationRejected) as err:
        await env.deliver(forged)
    assert err.value.reason == "bad_signature"
    good = env.bank_notification(intent, EventType.PAYMENT_SUCCEEDED)
    tampered = RawNotification(body=good.body.replace(b"200000", b"200001"), headers=good.headers, query={})
    with pytest.raises(NotificationRejected):
        await env.deliver(tampered)
    old = env.bank_notification(intent, EventType.PAYMENT_SUCCEEDED, at=env.clock.now() - timedelta(minutes=6))
    with pytest.raises(NotificationRejected) as err:
        await env.deliver(old)
    assert err.value.reason == "outside_replay_window"
    assert await env.fetch("SELECT count(*) AS n FROM payment_notifications") == [(0,)]
    assert (await env.intent(intent)).status is IntentStatus.REQUIRES_PAYMENT
    # The genuine one, replayed later inside the window, is applied once.
    assert await env.deliver(good) is Outcome.APPLIED
    env.clock.advance(minutes=2)
    assert await env.deliver(good) is Outcome.DUPLICATE
    env.clock.advance(minutes=4)
    with pytest.raises(NotificationRejected):
        await env.deliver(good)


async def test_owner_failure_rolls_back_the_payment_and_the_nonce(env: Env) -> None:
    intent = await env.create()
    raw = env.bank_notification(intent, EventType.PAYMENT_SUCCEEDED)
    OrderHandler.fail = True
    with pytest.raises(RuntimeError):
        await env.deliver(raw)
    assert (await env.intent(intent)).status is IntentStatus.REQUIRES_PAYMENT
    assert await env.fetch("SELECT count(*) AS n FROM payment_notifications") == [(0,)]
    assert await env.order() is None
    OrderHandler.fail = False
    assert await env.deliver(raw) is Outcome.APPLIED
    assert await env.order() == ("active", 0)


async def test_amount_mismatch_is_recorded_for_the_report(env: Env) -> None:
    intent = await env.create()
    assert await env.deliver(env.bank_notification(intent, EventType.PAYMENT_SUCCEEDED, amount=20_000)) \
        is Outcome.AMOUNT_MISMATCH
    rows = await env.fetch("SELECT kind, expected_amount, reported_amount FROM payment_mismatches")
    assert [tuple(r) for r in rows] == [("amount", 200_000, 20_000)]
    day = env.clock.now().astimezone(HANOI).date()
    env.clock.advance(days=1)
    report, stored = await DailyMismatchReport(env.tx, env.clock).execute(day)
    assert stored
    assert [(m.kind.value, m.reported_amount) for m in report.mismatches] == [("amount", 20_000)]
    saved = await env.fetch("SELECT day, report FROM payment_daily_reports")
    assert [(r["day"], r["report"]["mismatches"][0]["reported_amount"]) for r in saved] == [(day, 20_000)]


async def test_partial_then_full_refund_revokes_in_the_same_transaction(env: Env) -> None:
    intent = await env.create(provider="fake")
    async with env.tx() as store:
        locked = await store.intents.get(intent.id, for_update=True)
        assert locked is not None
        await settle_succeeded(store, locked, env.clock.now(), amount=200_000, currency="VND", provider_ref="T1",
                               instrument=None)
    refunder = RequestRefund(env.tx, env.providers, env.clock)
    first = await refunder.execute(RefundRequest(intent_id=intent.id, key="r1", amount=50_000, reason="đổi ý"))
    again = await refunder.execute(RefundRequest(intent_id=intent.id, key="r1", amount=50_000, reason="đổi ý"))
    assert first.id == again.id
    assert first.status is RefundStatus.SUCCEEDED
    assert await env.order() == ("active", 50_000)
    await refunder.execute(RefundRequest(intent_id=intent.id, key="r2", reason="hủy vé"))
    assert await env.order() == ("revoked", 200_000)
    assert (await env.intent(intent)).status is IntentStatus.REFUNDED
    rows = await env.fetch("SELECT key, amount, status FROM payment_refunds ORDER BY created_at, key")
    assert [tuple(r) for r in rows] == [("r1", 50_000, "succeeded"), ("r2", 150_000, "succeeded")]
    assert len(env.fake.refund_calls) == 2


async def test_expiry_and_reconciliation(env: Env) -> None:
    unpaid = await env.create("a", provider="fake")
    stuck = await env.create("b", provider="fake")
    async with env.tx() as store:
        locked = await store.intents.get(stuck.id, for_update=True)
        assert locked is not None
        await settle_processing(store, locked, env.clock.now(), provider_ref="T9")
    env.clock.advance(minutes=31)
    assert await ExpireIntents(env.tx, env.clock).execute() == 1
    assert (await env.intent(unpaid)).status is IntentStatus.EXPIRED
    assert await env.order("a") == ("expired", 0)
    env.fake.answers[stuck.ref] = succeeded_answer(200_000)
    summary = await ReconcilePayments(env.tx, env.providers, env.clock).execute()
    assert (summary.checked, summary.settled) == (1, 1)
    assert (await env.intent(stuck)).status is IntentStatus.SUCCEEDED
    assert await env.order("b") == ("active", 0)
    kinds = [r["kind"] for r in await env.fetch("SELECT kind FROM payment_mismatches")]
    assert kinds == ["provider_disagrees"]


# --- contract: the same scenario on the fakes and on PostgreSQL ----------------------------------



@pytest.fixture(params=["fake", "postgres"])
async def backend(request: pytest.FixtureRequest, clean_db: str) -> AsyncIterator[tuple[Any, Any, uuid.UUID]]:
    if request.param == "fake":
        db = FakeDb({"transit.pass": RecordingOwner()})
        yield db, db, uuid.uuid4()
        return
    pool = await create_pool(clean_db, min_size=1, max_size=2)
    async with pool.acquire() as conn:
        owner = await make_user(conn)
    try:
        yield PgPaymentsTransactions(pool, {"transit.pass": lambda conn: RecordingOwner()}), pool, owner
    finally:
        await pool.close()


class RecordingOwner:
    async def on_paid(self, intent: PaymentIntent) -> None: ...

    async def on_refunded(self, intent: PaymentIntent, refund: Refund, *, full: bool) -> None: ...

    async def on_unpaid(self, intent: PaymentIntent) -> None: ...


async def test_contract_repositories_behave_alike(backend: tuple[Any, Any, uuid.UUID]) -> None:
    tx, _, owner = backend
    clock = FixedClock(datetime(2026, 3, 10, 3, 0, tzinfo=UTC))
    providers = FakeProviders(FakeProvider())
    async with tx() as store:
        view = await CreatePaymentIntent(store.intents, providers, clock, default_provider="fake").execute(
            CreateIntent(owner_id=owner, purpose="transit.pass", object_id="o1", amount=9_000, description="x"))
        again = await store.intents.add(msgspec.structs.replace(view.intent, id=uuid.uuid4(), ref="TDSOTHER"))
        assert again.id == view.intent.id
        assert await store.intents.get_by_ref(view.intent.ref) == view.intent
        assert await store.intents.get_for_order("transit.pass", "o1") == view.intent
        assert await store.intents.due_to_expire(clock.now(), 10) == []
        assert [i.id for i in await store.intents.due_to_expire(clock.now() + timedelta(hours=1), 10)] == [
            view.intent.id]
    clock.advance(minutes=1)
    outcome = await HandleNotification(tx, providers, clock).execute(
        "fake", signed(event(view.intent, EventType.PAYMENT_PROCESSING, clock.now(), event_id="e1")))
    assert outcome is Outcome.APPLIED
    clock.advance(minutes=20)
    async with tx() as store:
        assert [i.id for i in await store.intents.stuck(clock.now(), 10)] == [view.intent.id]
        assert await store.intents.stuck(clock.now() - timedelta(hours=1), 10) == []
        assert await store.reports.count_stuck(clock.now()) == 1
    providers.by_name["fake"].answers[view.intent.ref] = succeeded_answer(9_000)
    await ReconcilePayments(tx, providers, clock).execute()
    refund = await RequestRefund(tx, providers, clock).execute(
        RefundRequest(intent_id=view.intent.id, key="k", amount=4_000, reason="r"))
    async with tx() as store:
        assert await store.refunds.for_intent(view.intent.id) == [refund]
        assert await store.refunds.pending_amount(view.intent.id) == 0
        got = await store.intents.get(view.intent.id)
        assert got is not None
        assert (got.status, got.refunded_amount, got.provider_ref) == (IntentStatus.PARTIALLY_REFUNDED, 4_000, "TXN-Q")
        totals = await store.reports.totals(clock.now() - timedelta(hours=1), clock.now() + timedelta(seconds=1))
        assert (totals.succeeded_count, totals.succeeded_amount, totals.refunded_amount) == (1, 9_000, 4_000)
        assert [m.kind.value for m in await store.reports.mismatches(clock.now() - timedelta(hours=1),
                                                                     clock.now() + timedelta(seconds=1))] == [
            "provider_disagrees"]
        assert await store.reports.save_report("2026-03-10", b'{"day": "2026-03-10"}') is True
        assert await store.reports.save_report("2026-03-10", b'{"day": "2026-03-10"}') is False


async def test_lapsed_intents_are_claimed_once_per_recheck(backend: tuple[Any, Any, uuid.UUID]) -> None:
    tx, _, owner = backend
    clock = FixedClock(datetime(2026, 3, 10, 3, 0, tzinfo=UTC))
    providers = FakeProviders(FakeProvider())
    async with tx() as store:
        view = await CreatePaymentIntent(store.intents, providers, clock, default_provider="fake").execute(
            CreateIntent(owner_id=owner, purpose="transit.pass", object_id="o2", amount=9_000, description="x"))
        open_one = await CreatePaymentIntent(store.intents, providers, clock, default_provider="fake").execute(
            CreateIntent(owner_id=owner, purpose="transit.pass", object_id="o3", amount=9_000, description="x",
                         ttl=timedelta(days=2)))
    clock.advance(hours=1)
    assert await ExpireIntents(tx, clock).execute() == 1
    lapsed_at = clock.now()
    async with tx() as store:
        def claim(now: datetime) -> Any:
            return store.intents.claim_lapsed(now - timedelta(days=1), now, now - timedelta(hours=1), now, 10)
        assert [i.id for i in await claim(clock.now() + timedelta(minutes=1))] == [view.intent.id]
        assert await claim(clock.now() + timedelta(minutes=2)) == []          # asked a minute ago
        assert [i.id for i in await claim(clock.now() + timedelta(hours=2))] == [view.intent.id]
        assert await claim(clock.now() + timedelta(days=2)) == []             # lapsed too long ago
        got = await store.intents.get(view.intent.id)
        assert got is not None
        assert got.updated_at == lapsed_at  # the bookkeeping is not a change of the intent
        assert open_one.intent.id not in [i.id for i in await claim(clock.now() + timedelta(hours=5))]


async def test_a_rider_row_is_stored_with_a_new_intent_only(env: Env) -> None:
    """The request's idempotency row rides in the intent's insert (api.platform.idempotency.idempotent_folded): stored
    if the intent is new, not tried if the order had one, refused if the key is taken."""
    principal = f"user:{env.owner}"

    async def create(object_id: str, key: str) -> tuple[PaymentIntent, PendingKey, int]:
        rider = PendingKey(principal, key, "f" * 64, 201, b'{"order":"' + object_id.encode() + b'"}')
        async with env.pool.acquire() as conn, conn.transaction():
            intents = PgPaymentIntents(conn, rider=rider)
            creator = CreatePaymentIntent(intents, env.providers, env.clock, default_provider="vietqr")
            cmd = CreateIntent(owner_id=env.owner, purpose="transit.pass", object_id=object_id, amount=10_000,
                               description="Ve ngay")
            draft = await creator.draft(cmd)
            view = await creator.execute(cmd, draft)
            assert intents.rider is None  # used once
            assert (view is draft) == (rider.stored is not None)  # the draft is the answer iff stored
        rows = await env.fetch("SELECT body FROM idempotency_keys WHERE principal = $1 AND key = $2", principal, key)
        return view.intent, rider, len(rows)

    first, rider, rows = await create("ride-1", "k1")
    assert (rider.stored, rows) == (True, 1)
    again, rider, rows = await create("ride-1", "k2")  # the order has its intent: the rider is not sent
    assert again.id == first.id
    assert (rider.stored, rows) == (None, 0)
    other, rider, rows = await create("ride-2", "k1")  # a new order under a key already stored
    assert rider.stored is False
    assert rows == 1
    assert (await env.fetch("SELECT body FROM idempotency_keys WHERE key = 'k1'"))[0]["body"] \
        == b'{"order":"ride-1"}'
    assert other.object_id == "ride-2"


async def test_a_draft_of_another_command_is_refused(env: Env) -> None:
    async with env.pool.acquire() as conn, conn.transaction():
        creator = CreatePaymentIntent(PgPaymentIntents(conn), env.providers, env.clock, default_provider="vietqr")
        cmd = CreateIntent(owner_id=env.owner, purpose="transit.pass", object_id="d-1", amount=10_000,
                           description="Ve ngay")
        draft = await creator.draft(msgspec.structs.replace(cmd, amount=20_000))
        with pytest.raises(ValueError, match="draft"):
            await creator.execute(cmd, draft)
    assert await env.fetch("SELECT 1 FROM payment_intents WHERE object_id = 'd-1'") == []
