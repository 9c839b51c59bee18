"""Payments use cases against in-memory fakes of the ports (no I/O)."""

from __future__ import annotations

import logging
import uuid
from datetime import date, timedelta

import msgspec
import pytest

from domain.payments.errors import (
    IdempotencyKeyReused,
    IntentNotFound,
    InvalidAmount,
    InvalidPurpose,
    NotCancelable,
    NotificationRejected,
    NotRefundable,
    OrderAlreadyPaid,
    OrderOwnedByAnother,
    PaymentInFlight,
    ProviderUnavailable,
    RefundExceedsBalance,
    UnknownIntent,
)
from domain.payments.intents import CancelPaymentIntent, CreateIntent, CreatePaymentIntent, GetPaymentIntent
from domain.payments.jobs import DailyMismatchReport, ExpireIntents, ReconcilePayments
from domain.payments.model import (
    DailyReport,
    EventType,
    IntentStatus,
    MismatchKind,
    Outcome,
    PaymentIntent,
    ProviderPayment,
    ProviderRefund,
    ProviderStatus,
    RawNotification,
    Refund,
    RefundStatus,
)
from domain.payments.notify import HandleNotification
from domain.payments.refunds import RefundRequest, RequestRefund
from tests.support.payments import (
    FakeDb,
    FakeProvider,
    FakeProviders,
    FixedClock,
    RecordingHandler,
    event,
    sign_body,
    signed,
    succeeded_answer,
)

OWNER = uuid.UUID("00000000-0000-7000-8000-000000000001")
OTHER = uuid.UUID("00000000-0000-7000-8000-000000000002")


class World:
    def __init__(self) -> None:
        self.clock = FixedClock()
        self.handler = RecordingHandler()
        self.db = FakeDb({"transit.pass": self.handler})
        self.provider = FakeProvider()
        self.providers = FakeProviders(self.provider)

    async def create(self, object_id: str = "pass-1", amount: int = 200_000, owner: uuid.UUID = OWNER,
                     **kw: object) -> PaymentIntent:
        async with self.db() as store:
            view = await CreatePaymentIntent(store.intents, self.providers, self.clock,
                                             default_provider="fake").execute(
                CreateIntent(owner_id=owner, purpose="transit.pass", object_id=object_id, amount=amount,
                             description="Monthly pass", **kw))  # type: ignore[arg-type]
        return view.intent

    async def notify(self, raw: RawNotification) -> Outcome:
        return await HandleNotification(self.db, self.providers, self.clock).execute("fake", raw)

    async def deliver(self, intent: PaymentIntent, type_: EventType, **kw: object) -> Outcome:
        return await HandleNotification(self.db, self.providers, self.clock).execute(
            "fake", signed(event(intent, type_, self.clock.now(), **kw)))  # type: ignore[arg-type]

    def intent(self, intent: PaymentIntent) -> PaymentIntent:
        return self.db.intents[intent.id]

    async def refund(self, intent: PaymentIntent, key: str, amount: int | None = None) -> Refund:
        return await RequestRefund(self.db, self.providers, self.clock).execute(
            RefundRequest(intent_id=intent.id, key=key, amount=amount, reason="cancelled by rider"))


@pytest.fixture
def w() -> World:
    return World()


# --- creating intents ---------------------------------------------------------------------------

async def test_one_intent_per_order(w: World) -> None:
    first = await w.create()
    again = await w.create()
    assert again.id == first.id
    assert again.ref == first.ref
    assert first.status is IntentStatus.REQUIRES_PAYMENT
    assert first.expires_at == w.clock.now() + timedelta(minutes=30)
    assert first.ref.startswith("TDS")
    assert len(first.ref) == 15
    assert len(w.db.intents) == 1
    other = await w.create("pass-2")
    assert other.id != first.id
    assert other.ref != first.ref


async def test_create_returns_checkout_only_while_payment_is_required(w: World) -> None:
    async with w.db() as store:
        creator = CreatePaymentIntent(store.intents, w.providers, w.clock, default_provider="fake")
        cmd = CreateIntent(owner_id=OWNER, purpose="transit.pass", object_id="p", amount=5_000, description="x")
        view = await creator.execute(cmd)
    assert view.checkout is not None
    assert view.checkout.url == f"https://pay.example/{view.intent.ref}"
    await w.deliver(view.intent, EventType.PAYMENT_SUCCEEDED)
    async with w.db() as store:
        paid = await CreatePaymentIntent(store.intents, w.providers, w.clock, default_provider="fake").execute(cmd)
    assert paid.intent.status is IntentStatus.SUCCEEDED
    assert paid.checkout is None


async def test_repricing_an_unpaid_order_reopens_it_with_a_new_reference(w: World) -> None:
    first = await w.create(amount=200_000)
    repriced = await w.create(amount=230_000)
    assert repriced.id == first.id
    assert repriced.amount == 230_000
    assert repriced.ref != first.ref
    assert repriced.attempt == 2


async def test_expired_order_is_reopened_with_a_new_expiry(w: World) -> None:
    first = await w.create()
    w.clock.advance(minutes=31)
    assert await ExpireIntents(w.db, w.clock).execute() == 1
    again = await w.create()
    assert again.id == first.id
    assert again.status is IntentStatus.REQUIRES_PAYMENT
    assert again.expires_at == w.clock.now() + timedelta(minutes=30)
    assert again.attempt == 2


async def test_paid_order_cannot_be_repriced_and_in_flight_cannot_change(w: World) -> None:
    intent = await w.create()
    await w.deliver(intent, EventType.PAYMENT_PROCESSING)
    with pytest.raises(PaymentInFlight):
        await w.create(amount=1_000)
    assert (await w.create()).status is IntentStatus.PROCESSING
    await w.deliver(intent, EventType.PAYMENT_SUCCEEDED)
    with pytest.raises(OrderAlreadyPaid):
        await w.create(amount=1_000)
    assert (await w.create()).status is IntentStatus.SUCCEEDED


async def test_order_of_another_citizen_is_refused(w: World) -> None:
    await w.create()
    with pytest.raises(OrderOwnedByAnother):
        await w.create(owner=OTHER)


@pytest.mark.parametrize(("amount", "rule"), [(0, "positive"), (-5, "positive"), (500_000_001, "maximum")])
async def test_bad_amounts(w: World, amount: int, rule: str) -> None:
    with pytest.raises(InvalidAmount) as err:
        await w.create(amount=amount)
    assert err.value.rule == rule
    assert err.value.field == "amount"


async def test_bad_purpose(w: World) -> None:
    async with w.db() as store:
        with pytest.raises(InvalidPurpose):
            await CreatePaymentIntent(store.intents, w.providers, w.clock, default_provider="fake").execute(
                CreateIntent(owner_id=OWNER, purpose="Transit Pass", object_id="x", amount=1, description="x"))


async def test_get_is_owner_only(w: World) -> None:
    intent = await w.create()
    async with w.db() as store:
        getter = GetPaymentIntent(store.intents, w.providers)
        assert (await getter.execute(OWNER, intent.id)).intent.id == intent.id
        with pytest.raises(IntentNotFound):
            await getter.execute(OTHER, intent.id)
        with pytest.raises(IntentNotFound):
            await getter.execute(OWNER, uuid.uuid4())


async def test_cancel_unpaid_only(w: World) -> None:
    intent = await w.create()
    async with w.db() as store:
        canceled = await CancelPaymentIntent(store.intents, w.clock).execute("transit.pass", "pass-1")
    assert canceled is not None
    assert canceled.status is IntentStatus.CANCELED
    paid = await w.create("pass-2")
    await w.deliver(paid, EventType.PAYMENT_SUCCEEDED)
    async with w.db() as store:
        with pytest.raises(NotCancelable):
            await CancelPaymentIntent(store.intents, w.clock).execute("transit.pass", "pass-2")
    assert w.intent(intent).status is IntentStatus.CANCELED


# --- notifications ------------------------------------------------------------------------------

async def test_success_applies_once_and_tells_the_owner_in_the_same_transaction(w: World) -> None:
    intent = await w.create()
    ev = event(intent, EventType.PAYMENT_SUCCEEDED, w.clock.now(), event_id="evt-1")
    assert await w.notify(signed(ev)) is Outcome.APPLIED
    paid = w.intent(intent)
    assert paid.status is IntentStatus.SUCCEEDED
    assert paid.paid_at == w.clock.now()
    assert paid.provider_ref == "TXN-1"
    assert paid.instrument is not None
    assert paid.instrument.last_digits == "6789"
    assert w.handler.calls == [("paid", intent.id, 200_000)]
    # The same notification again (a provider retry or a replay inside the window): nothing changes.
    assert await w.notify(signed(ev)) is Outcome.DUPLICATE
    # Another notification saying the same thing: stale, nothing changes.
    assert await w.deliver(intent, EventType.PAYMENT_SUCCEEDED) is Outcome.STALE
    assert w.handler.names() == ["paid"]
    assert w.intent(intent).version == paid.version


async def test_out_of_order_notifications_never_move_an_intent_backwards(w: World) -> None:
    intent = await w.create()
    assert await w.deliver(intent, EventType.PAYMENT_SUCCEEDED) is Outcome.APPLIED
    assert await w.deliver(intent, EventType.PAYMENT_PROCESSING) is Outcome.STALE
    assert await w.deliver(intent, EventType.PAYMENT_FAILED) is Outcome.STALE
    assert w.intent(intent).status is IntentStatus.SUCCEEDED


async def test_a_failure_reported_before_the_retry_that_succeeded(w: World) -> None:
    intent = await w.create()
    assert await w.deliver(intent, EventType.PAYMENT_FAILED) is Outcome.APPLIED
    assert w.intent(intent).status is IntentStatus.FAILED
    assert await w.deliver(intent, EventType.PAYMENT_SUCCEEDED) is Outcome.APPLIED
    assert w.intent(intent).status is IntentStatus.SUCCEEDED
    assert w.handler.names() == ["paid"]


async def test_money_after_expiry_still_pays_the_order(w: World) -> None:
    intent = await w.create()
    w.clock.advance(hours=1)
    await ExpireIntents(w.db, w.clock).execute()
    assert await w.deliver(intent, EventType.PAYMENT_SUCCEEDED) is Outcome.APPLIED
    assert w.handler.names() == ["unpaid", "paid"]


async def test_money_after_cancellation_is_flagged_not_delivered(w: World) -> None:
    intent = await w.create()
    async with w.db() as store:
        await CancelPaymentIntent(store.intents, w.clock).execute("transit.pass", "pass-1")
    assert await w.deliver(intent, EventType.PAYMENT_SUCCEEDED) is Outcome.LATE_PAYMENT
    assert w.intent(intent).status is IntentStatus.SUCCEEDED  # refundable by finance
    assert w.handler.calls == []
    assert [m.kind for m in w.db.mismatches] == [MismatchKind.LATE_PAYMENT]


@pytest.mark.parametrize(("amount", "currency"), [(199_999, "VND"), (200_000, "USD"), (2_000_000, "VND")])
async def test_amount_or_currency_mismatch_is_recorded_not_applied(w: World, amount: int, currency: str) -> None:
    intent = await w.create()
    outcome = await w.deliver(intent, EventType.PAYMENT_SUCCEEDED, amount=amount, currency=currency)
    assert outcome is Outcome.AMOUNT_MISMATCH
    assert w.intent(intent).status is IntentStatus.REQUIRES_PAYMENT
    assert w.handler.calls == []
    [mismatch] = w.db.mismatches
    assert (mismatch.kind, mismatch.expected_amount, mismatch.reported_amount) == (MismatchKind.AMOUNT, 200_000,
                                                                                  amount)
    assert list(w.db.notifications.values()) == ["amount_mismatch"]


async def test_second_payment_with_another_transaction_is_flagged(w: World) -> None:
    intent = await w.create()
    await w.deliver(intent, EventType.PAYMENT_SUCCEEDED, provider_ref="TXN-1")
    assert await w.deliver(intent, EventType.PAYMENT_SUCCEEDED, provider_ref="TXN-2") is Outcome.STALE
    assert [m.kind for m in w.db.mismatches] == [MismatchKind.DOUBLE_PAYMENT]


async def test_bad_unsigned_malformed_and_stale_notifications_are_refused_and_logged_without_secrets(
        w: World, caplog: pytest.LogCaptureFixture) -> None:
    intent = await w.create()
    ev = event(intent, EventType.PAYMENT_SUCCEEDED, w.clock.now())
    good = signed(ev)
    forged = RawNotification(body=good.body.replace(b"200000", b"2000"), headers=good.headers, query={})
    unsigned = RawNotification(body=good.body, headers={}, query={})
    wrong_key = signed(ev, secret=b"attacker")
    malformed = RawNotification(body=b"{}", headers=sign_body(b"{}"), query={})
    caplog.set_level(logging.WARNING, "thudo.payments")
    reasons = []
    for raw in (forged, unsigned, wrong_key, malformed):
        with pytest.raises(NotificationRejected) as err:
            await w.notify(raw)
        reasons.append(err.value.reason)
    assert reasons == ["bad_signature", "unsigned", "bad_signature", "malformed"]
    old = signed(event(intent, EventType.PAYMENT_SUCCEEDED, w.clock.now() - timedelta(seconds=301)))
    future = signed(event(intent, EventType.PAYMENT_SUCCEEDED, w.clock.now() + timedelta(seconds=301)))
    for raw in (old, future):
        with pytest.raises(NotificationRejected) as err:
            await w.notify(raw)
        assert err.value.reason == "outside_replay_window"
    with pytest.raises(NotificationRejected):
        await HandleNotification(w.db, w.providers, w.clock).execute("nobody", good)
    assert w.intent(intent).status is IntentStatus.REQUIRES_PAYMENT
    assert not w.db.notifications
    logged = " ".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert "payment notification refused" in logged
    assert good.headers["x-signature"] not in logged
    assert intent.ref not in logged
    assert "200000" not in logged


async def test_authentic_notification_for_an_unknown_intent_is_refused(w: World) -> None:
    ghost = msgspec.structs.replace(await w.create(), ref="TDSNOSUCHREF999")
    with pytest.raises(UnknownIntent):
        await w.deliver(ghost, EventType.PAYMENT_SUCCEEDED)
    assert not w.db.notifications


async def test_owner_failure_rolls_back_the_intent_and_the_nonce_so_the_retry_applies(w: World) -> None:
    intent = await w.create()
    ev = event(intent, EventType.PAYMENT_SUCCEEDED, w.clock.now(), event_id="evt-x")
    w.handler.fail_on = "paid"
    with pytest.raises(RuntimeError):
        await w.notify(signed(ev))
    assert w.intent(intent).status is IntentStatus.REQUIRES_PAYMENT
    assert not w.db.notifications
    w.handler.fail_on = None
    assert await w.notify(signed(ev)) is Outcome.APPLIED
    assert w.handler.names() == ["paid"]


# --- refunds ------------------------------------------------------------------------------------

async def paid(w: World, object_id: str = "pass-1") -> PaymentIntent:
    intent = await w.create(object_id)
    await w.deliver(intent, EventType.PAYMENT_SUCCEEDED)
    return w.intent(intent)


async def test_full_refund_revokes_through_the_owner(w: World) -> None:
    intent = await paid(w)
    refund = await w.refund(intent, "k1")
    assert refund.status is RefundStatus.SUCCEEDED
    assert refund.amount == 200_000
    assert w.intent(intent).status is IntentStatus.REFUNDED
    assert w.intent(intent).refunded_amount == 200_000
    assert w.handler.calls[-1] == ("refunded", intent.id, (200_000, True))
    with pytest.raises(NotRefundable):
        await w.refund(intent, "k2")


async def test_partial_refunds_add_up_and_are_idempotent_by_key(w: World) -> None:
    intent = await paid(w)
    first = await w.refund(intent, "k1", 50_000)
    again = await w.refund(intent, "k1", 50_000)
    assert first == again
    assert len(w.provider.refund_calls) == 1
    assert w.intent(intent).status is IntentStatus.PARTIALLY_REFUNDED
    with pytest.raises(IdempotencyKeyReused):
        await w.refund(intent, "k1", 60_000)
    with pytest.raises(RefundExceedsBalance):
        await w.refund(intent, "k2", 150_001)
    rest = await w.refund(intent, "k2")
    assert rest.amount == 150_000
    assert w.intent(intent).status is IntentStatus.REFUNDED
    assert [c[2] for c in w.handler.calls if c[0] == "refunded"] == [(50_000, False), (150_000, True)]


async def test_unpaid_intent_cannot_be_refunded(w: World) -> None:
    intent = await w.create()
    with pytest.raises(NotRefundable):
        await w.refund(intent, "k1")
    with pytest.raises(IntentNotFound):
        await RequestRefund(w.db, w.providers, w.clock).execute(
            RefundRequest(intent_id=uuid.uuid4(), key="k", reason="x"))


async def test_refund_left_pending_when_provider_is_down_then_reconciled(w: World) -> None:
    intent = await paid(w)
    w.provider.refund_answer = ProviderUnavailable()
    refund = await w.refund(intent, "k1")
    assert refund.status is RefundStatus.PENDING
    assert w.intent(intent).status is IntentStatus.SUCCEEDED
    # Pending money counts against what is left to refund.
    with pytest.raises(RefundExceedsBalance):
        await w.refund(intent, "k2", 1)
    w.provider.refund_answer = ProviderRefund(status=RefundStatus.SUCCEEDED, provider_ref="R-9")
    w.clock.advance(minutes=20)
    summary = await ReconcilePayments(w.db, w.providers, w.clock).execute()
    assert summary.refunds_retried == 1
    assert w.provider.refund_calls == [refund.id, refund.id]
    assert w.intent(intent).status is IntentStatus.REFUNDED


async def test_refund_settled_by_notification(w: World) -> None:
    intent = await paid(w)
    w.provider.refund_answer = ProviderRefund(status=RefundStatus.PENDING, provider_ref="R-7")
    refund = await w.refund(intent, "k1", 20_000)
    assert refund.status is RefundStatus.PENDING
    outcome = await w.deliver(intent, EventType.REFUND_SUCCEEDED, amount=20_000, provider_ref="R-7",
                              refund_id=refund.id)
    assert outcome is Outcome.APPLIED
    assert w.db.refunds[refund.id].provider_ref == "R-7"
    assert w.intent(intent).status is IntentStatus.PARTIALLY_REFUNDED
    assert await w.deliver(intent, EventType.REFUND_FAILED, amount=20_000,
                           refund_id=refund.id) is Outcome.STALE
    assert await w.deliver(intent, EventType.REFUND_SUCCEEDED, refund_id=uuid.uuid4()) is Outcome.UNKNOWN_REFUND
    assert [m.kind for m in w.db.mismatches] == [MismatchKind.UNKNOWN_REFUND]


async def test_refund_refused_by_provider_is_failed_and_reported(w: World) -> None:
    intent = await paid(w)
    w.provider.refund_answer = ProviderRefund(status=RefundStatus.FAILED, failure_code="insufficient_funds")
    refund = await w.refund(intent, "k1")
    assert refund.status is RefundStatus.FAILED
    assert w.intent(intent).status is IntentStatus.SUCCEEDED
    assert [m.kind for m in w.db.mismatches] == [MismatchKind.REFUND_FAILED]


# --- jobs ---------------------------------------------------------------------------------------

async def test_expiry_tells_the_owner_and_leaves_processing_alone(w: World) -> None:
    a = await w.create("a")
    b = await w.create("b")
    await w.deliver(b, EventType.PAYMENT_PROCESSING)
    w.clock.advance(minutes=29)
    assert await ExpireIntents(w.db, w.clock).execute() == 0
    w.clock.advance(minutes=2)
    assert await ExpireIntents(w.db, w.clock).execute() == 1
    assert w.intent(a).status is IntentStatus.EXPIRED
    assert w.intent(b).status is IntentStatus.PROCESSING
    assert w.handler.calls == [("unpaid", a.id, "expired")]


async def test_reconciliation_settles_stuck_intents_by_asking_the_provider(w: World) -> None:
    intents = [await w.create(str(i)) for i in range(5)]
    for i in intents:
        await w.deliver(i, EventType.PAYMENT_PROCESSING)
    w.provider.answers[intents[0].ref] = succeeded_answer(200_000)
    w.provider.answers[intents[1].ref] = ProviderPayment(status=ProviderStatus.FAILED, failure_code="declined")
    w.provider.answers[intents[2].ref] = ProviderPayment(status=ProviderStatus.PENDING)
    w.provider.answers[intents[3].ref] = succeeded_answer(1_000)   # wrong amount
    # intents[4]: the provider is unreachable
    w.clock.advance(minutes=10)
    assert (await ReconcilePayments(w.db, w.providers, w.clock).execute()).checked == 0  # not stuck yet
    w.clock.advance(minutes=10)
    summary = await ReconcilePayments(w.db, w.providers, w.clock).execute()
    assert (summary.checked, summary.settled, summary.pending, summary.errors) == (4, 2, 1, 1)
    statuses = [w.intent(i).status for i in intents]
    assert statuses == [IntentStatus.SUCCEEDED, IntentStatus.FAILED, IntentStatus.PROCESSING,
                        IntentStatus.PROCESSING, IntentStatus.PROCESSING]
    assert w.handler.names() == ["paid"]
    kinds = sorted(m.kind.value for m in w.db.mismatches)
    assert kinds == ["amount", "provider_disagrees", "provider_disagrees"]


async def test_reconciliation_fails_intents_the_provider_never_saw_after_a_grace(w: World) -> None:
    intent = await w.create()
    await w.deliver(intent, EventType.PAYMENT_PROCESSING)
    w.provider.answers[intent.ref] = ProviderPayment(status=ProviderStatus.NOT_FOUND)
    w.clock.advance(minutes=20)
    await ReconcilePayments(w.db, w.providers, w.clock).execute()
    assert w.intent(intent).status is IntentStatus.PROCESSING
    w.clock.advance(hours=2)
    await ReconcilePayments(w.db, w.providers, w.clock).execute()
    assert w.intent(intent).status is IntentStatus.FAILED
    assert w.intent(intent).failure_code == "not_found"


async def test_reconciliation_settles_lapsed_intents_the_provider_was_paid_for(w: World) -> None:
    expired, canceled, unpaid = await w.create("a"), await w.create("b"), await w.create("c")
    async with w.db() as store:
        await CancelPaymentIntent(store.intents, w.clock).execute("transit.pass", "b")
    w.clock.advance(minutes=31)
    assert await ExpireIntents(w.db, w.clock).execute() == 2  # a and c lapse unpaid
    w.provider.answers[expired.ref] = succeeded_answer(200_000)   # the transfer arrived; its notification did not
    w.provider.answers[canceled.ref] = succeeded_answer(200_000, ref="TXN-B")
    w.provider.answers[unpaid.ref] = ProviderPayment(status=ProviderStatus.NOT_FOUND)
    w.clock.advance(minutes=20)
    summary = await ReconcilePayments(w.db, w.providers, w.clock).execute()
    assert (summary.checked, summary.settled) == (3, 2)
    assert [w.intent(i).status for i in (expired, canceled, unpaid)] == [
        IntentStatus.SUCCEEDED, IntentStatus.SUCCEEDED, IntentStatus.EXPIRED]
    assert w.handler.names() == ["unpaid", "unpaid", "paid"]  # the canceled order's owner is not told "paid"
    assert sorted(m.kind.value for m in w.db.mismatches) == ["late_payment", "provider_disagrees"]
    # The one still unpaid is asked again only after an hour, and not at all after a day.
    w.clock.advance(minutes=10)
    assert (await ReconcilePayments(w.db, w.providers, w.clock).execute()).checked == 0
    w.clock.advance(hours=1)
    assert (await ReconcilePayments(w.db, w.providers, w.clock).execute()).checked == 1
    w.clock.advance(days=1)
    assert (await ReconcilePayments(w.db, w.providers, w.clock).execute()).checked == 0
    assert w.provider.query_calls.count(unpaid.ref) == 2


async def test_daily_report_covers_the_hanoi_business_day_and_is_stored_once(w: World) -> None:
    # 10 March 2026 23:30 in Hanoi is 16:30 UTC; 11 March 00:30 Hanoi is 17:30 UTC on the 10th.
    w.clock.t = w.clock.t.replace(hour=16, minute=30)
    a = await paid(w, "a")
    await w.deliver(await w.create("x"), EventType.PAYMENT_SUCCEEDED, amount=1)  # mismatch on the 10th
    w.clock.advance(hours=1)
    await paid(w, "b")
    await w.refund(w.intent(a), "k", 10_000)
    w.clock.advance(days=1)
    report, stored = await DailyMismatchReport(w.db, w.clock).execute()
    assert stored
    assert report.day == "2026-03-11"
    assert (report.totals.succeeded_count, report.totals.succeeded_amount, report.totals.refunded_amount) == (
        1, 200_000, 10_000)
    assert report.mismatches == []
    earlier, _ = await DailyMismatchReport(w.db, w.clock).execute(date(2026, 3, 10))
    assert earlier.totals.succeeded_count == 1
    assert [m.kind for m in earlier.mismatches] == [MismatchKind.AMOUNT]
    _, stored_again = await DailyMismatchReport(w.db, w.clock).execute()
    assert not stored_again
    assert msgspec.json.decode(w.db.reports["2026-03-11"], type=DailyReport).totals.refunded_amount == 10_000
