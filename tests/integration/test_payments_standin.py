"""The local bank stand-in against the production VietQR adapter and the real use cases: a citizen
"pays" the QR the intent shows; notifications arrive signed, duplicated, reordered, failed or not at
all; status queries and refunds go over HTTP, signed both ways."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from litestar import Litestar

from adapters.dev.payments_standin import PaymentsStandin, payments_standin_router
from adapters.payments.bank_notifications import VietQrConfig, VietQrProvider
from domain.errors import DomainError
from domain.payments.intents import CreateIntent, CreatePaymentIntent
from domain.payments.jobs import ReconcilePayments
from domain.payments.model import IntentStatus, Outcome, PaymentIntent, RawNotification, RefundStatus
from domain.payments.notify import HandleNotification
from domain.payments.refunds import RefundRequest, RequestRefund
from domain.payments.settlement import settle_processing
from tests.support.payments import FakeDb, FakeProviders, FixedClock, RecordingHandler

SECRET = b"standin-shared-secret"


class World:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.clock = FixedClock(datetime.now(UTC))
        self.handler = RecordingHandler()
        self.db = FakeDb({"judicial.fee": self.handler})
        self.provider = VietQrProvider(VietQrConfig(bank_bin="970436", account_number="0011001234567",
                                                    account_name="SO TU PHAP HA NOI",
                                                    bank_api_url="http://bank/dev/payments", secrets=[SECRET]), http)
        self.providers = FakeProviders(self.provider)
        self.outcomes: list[str] = []
        self.http = http

    async def webhook(self, body: bytes, headers: dict[str, str]) -> int:
        """What the API's webhook endpoint does with a delivery (status codes as the bank sees them)."""
        try:
            outcome = await HandleNotification(self.db, self.providers, self.clock).execute(
                "vietqr", RawNotification(body=body, headers=headers, query={}))
        except DomainError as exc:
            self.outcomes.append(exc.code)
            return 401 if exc.code == "payments.notification_rejected" else 404
        self.outcomes.append(outcome.value)
        return 200

    async def create(self, object_id: str = "LLTP-1", amount: int = 200_000) -> tuple[PaymentIntent, str]:
        async with self.db() as store:
            view = await CreatePaymentIntent(store.intents, self.providers, self.clock,
                                             default_provider="vietqr").execute(
                CreateIntent(owner_id=uuid.uuid4(), purpose="judicial.fee", object_id=object_id, amount=amount,
                             description="Le phi LLTP"))
        assert view.checkout is not None
        assert view.checkout.qr_payload is not None
        return view.intent, view.checkout.qr_payload

    async def behave(self, **kw: object) -> None:
        resp = await self.http.put("http://bank/dev/payments/behaviour", json=kw)
        assert resp.status_code == 200

    async def scan_and_pay(self, qr: str) -> dict[str, object]:
        resp = await self.http.post("http://bank/dev/payments/simulate", json={"qr_payload": qr})
        assert resp.status_code == 200, resp.text
        await self.standin.settle()
        return dict(resp.json())

    standin: PaymentsStandin


@pytest.fixture
async def w() -> AsyncIterator[World]:
    holder: list[World] = []

    async def deliver(body: bytes, headers: dict[str, str]) -> int:
        return await holder[0].webhook(body, headers)

    standin = PaymentsStandin(secret=SECRET, deliver=deliver)
    app = Litestar(route_handlers=[payments_standin_router(standin)])
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # Litestar's ASGI types are narrower
    async with httpx.AsyncClient(transport=transport) as http:
        world = World(http)
        world.standin = standin
        holder.append(world)
        yield world


async def test_scan_pay_and_get_notified(w: World) -> None:
    intent, qr = await w.create()
    paid = await w.scan_and_pay(qr)
    assert paid["reference"] == intent.ref
    assert paid["amount"] == 200_000
    assert w.outcomes == ["applied", "applied"]           # processing, then succeeded
    assert w.db.intents[intent.id].status is IntentStatus.SUCCEEDED
    assert w.handler.names() == ["paid"]
    resp = await w.http.get("http://bank/dev/payments/deliveries")
    assert [d["status"] for d in resp.json()] == [200, 200]


async def test_duplicated_and_reordered_notifications_apply_once(w: World) -> None:
    intent, qr = await w.create()
    await w.behave(duplicate=2, reorder=True)
    await w.scan_and_pay(qr)
    assert w.outcomes == ["applied", "duplicate", "duplicate", "stale", "duplicate", "duplicate"]
    assert w.db.intents[intent.id].status is IntentStatus.SUCCEEDED
    assert w.handler.names() == ["paid"]


async def test_declined_transfer_fails_the_intent_and_a_retry_can_succeed(w: World) -> None:
    intent, qr = await w.create()
    await w.behave(fail=True)
    await w.scan_and_pay(qr)
    assert w.db.intents[intent.id].status is IntentStatus.FAILED
    await w.behave()
    await w.scan_and_pay(qr)
    assert w.db.intents[intent.id].status is IntentStatus.SUCCEEDED


async def test_notifications_signed_with_another_secret_are_refused(w: World) -> None:
    intent, qr = await w.create()
    w.standin.secret = b"not-the-shared-secret"
    await w.scan_and_pay(qr)
    assert w.outcomes == ["payments.notification_rejected"] * 2
    assert w.db.intents[intent.id].status is IntentStatus.REQUIRES_PAYMENT


async def test_lost_notifications_are_found_by_reconciliation(w: World) -> None:
    intent, qr = await w.create()
    await w.behave(drop=True)
    await w.scan_and_pay(qr)
    assert w.outcomes == []
    async with w.db() as store:   # the app had seen the payment start (e.g. a gateway redirect)
        await settle_processing(store, w.db.intents[intent.id], w.clock.now(), provider_ref=None)
    w.clock.advance(minutes=20)
    summary = await ReconcilePayments(w.db, w.providers, w.clock).execute()
    assert (summary.checked, summary.settled) == (1, 1)
    paid = w.db.intents[intent.id]
    assert paid.status is IntentStatus.SUCCEEDED
    assert paid.provider_ref is not None
    assert paid.provider_ref.startswith("FT")
    assert paid.instrument is not None
    assert paid.instrument.last_digits == "6543"


async def test_refunds_through_the_bank_are_idempotent(w: World) -> None:
    intent, qr = await w.create()
    await w.scan_and_pay(qr)
    refunder = RequestRefund(w.db, w.providers, w.clock)
    first = await refunder.execute(RefundRequest(intent_id=intent.id, key="k1", amount=50_000, reason="thua"))
    assert first.status is RefundStatus.SUCCEEDED
    assert first.provider_ref is not None
    # The same request again reaches the bank with the same refund id only if still pending; the
    # bank itself also answers the first result for a known id.
    assert await refunder.execute(RefundRequest(intent_id=intent.id, key="k1", amount=50_000, reason="thua")) == first
    assert len(w.standin.refunds) == 1
    rest = await refunder.execute(RefundRequest(intent_id=intent.id, key="k2", reason="huy"))
    assert rest.amount == 150_000
    assert w.db.intents[intent.id].status is IntentStatus.REFUNDED
    assert [c[2] for c in w.handler.calls if c[0] == "refunded"] == [(50_000, False), (150_000, True)]


async def test_bank_api_refuses_unsigned_calls(w: World) -> None:
    intent, qr = await w.create()
    await w.scan_and_pay(qr)
    resp = await w.http.get(f"http://bank/dev/payments/v1/payments/{intent.ref}")
    assert resp.status_code == 401
    resp = await w.http.post("http://bank/dev/payments/simulate", json={"qr_payload": qr[:-4] + "0000"})
    assert resp.status_code == 400
    assert Outcome.APPLIED.value in w.outcomes
