"""Payments test support: in-memory fakes of the payments ports, a fake provider, a recording
PaidObjectHandler and helpers to build signed notifications."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec

from adapters.payments import signed_http
from adapters.payments.bank_notifications import WEBHOOK_TARGET, NotificationBody
from api.payments.wiring import DEV_PAYMENTS_SECRET, WEBHOOK_PATH
from domain.payments.errors import NotificationRejected, ProviderUnavailable
from domain.payments.model import (
    Checkout,
    CheckoutKind,
    EventType,
    Instrument,
    IntentStatus,
    Mismatch,
    PaymentIntent,
    ProviderEvent,
    ProviderPayment,
    ProviderRefund,
    ProviderStatus,
    RawNotification,
    Refund,
    RefundStatus,
    Totals,
)
from domain.payments.ports import PaidObjectHandler
from domain.shared.paging import Page, decode_id_cursor, encode_cursor


class FixedClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.t = now or datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi

    def now(self) -> datetime:
        return self.t

    def advance(self, **kw: float) -> None:
        self.t += timedelta(**kw)


class RecordingHandler:
    """What an owning context would do, recorded: (method, intent id, extra)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, uuid.UUID, Any]] = []
        self.fail_on: str | None = None

    async def on_paid(self, intent: PaymentIntent) -> None:
        self._call("paid", intent.id, intent.amount)

    async def on_refunded(self, intent: PaymentIntent, refund: Refund, *, full: bool) -> None:
        self._call("refunded", intent.id, (refund.amount, full))

    async def on_unpaid(self, intent: PaymentIntent) -> None:
        self._call("unpaid", intent.id, intent.status.value)

    def _call(self, name: str, intent_id: uuid.UUID, extra: Any) -> None:
        if self.fail_on == name:
            raise RuntimeError(f"owner failed on {name}")
        self.calls.append((name, intent_id, extra))

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]


class Handlers:
    def __init__(self, by_purpose: dict[str, PaidObjectHandler]) -> None:
        self.by_purpose = by_purpose

    def for_purpose(self, purpose: str) -> PaidObjectHandler | None:
        return self.by_purpose.get(purpose)


class FakeIntents:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    async def get(self, intent_id: uuid.UUID, *, for_update: bool = False) -> PaymentIntent | None:
        return self.db.intents.get(intent_id)

    async def get_by_ref(self, ref: str, *, for_update: bool = False) -> PaymentIntent | None:
        return next((i for i in self.db.intents.values() if i.ref == ref), None)

    async def get_for_order(self, purpose: str, object_id: str, *, for_update: bool = False) -> PaymentIntent | None:
        return next((i for i in self.db.intents.values() if (i.purpose, i.object_id) == (purpose, object_id)), None)

    async def add(self, intent: PaymentIntent) -> PaymentIntent:
        existing = await self.get_for_order(intent.purpose, intent.object_id)
        if existing is not None:
            return existing
        self.db.intents[intent.id] = intent
        return intent

    async def save(self, intent: PaymentIntent) -> None:
        assert intent.id in self.db.intents
        self.db.intents[intent.id] = intent

    async def due_to_expire(self, now: datetime, limit: int) -> list[PaymentIntent]:
        due = [i for i in self.db.intents.values()
               if i.status is IntentStatus.REQUIRES_PAYMENT and i.expires_at <= now]
        return sorted(due, key=lambda i: i.expires_at)[:limit]

    async def stuck(self, updated_before: datetime, limit: int) -> list[PaymentIntent]:
        rows = [i for i in self.db.intents.values()
                if i.status is IntentStatus.PROCESSING and i.updated_at < updated_before]
        return sorted(rows, key=lambda i: i.updated_at)[:limit]

    async def mine(self, owner_id: uuid.UUID, cursor: str | None, limit: int) -> Page[PaymentIntent]:
        after = decode_id_cursor(cursor)
        rows = sorted((i for i in self.db.intents.values()
                       if i.owner_id == owner_id and (after is None or i.id < after)), key=lambda i: i.id, reverse=True)
        items = rows[:limit]
        return Page(items=items, next_cursor=encode_cursor(str(items[-1].id)) if len(rows) > limit else None)

    async def claim_lapsed(self, lapsed_after: datetime, lapsed_before: datetime, checked_before: datetime,
                           now: datetime, limit: int) -> list[PaymentIntent]:
        lapsed = (IntentStatus.EXPIRED, IntentStatus.FAILED, IntentStatus.CANCELED)
        rows = [i for i in self.db.intents.values() if i.status in lapsed
                and lapsed_after < i.updated_at < lapsed_before
                and (i.id not in self.db.checked or self.db.checked[i.id] < checked_before)]
        claimed = sorted(rows, key=lambda i: i.updated_at)[:limit]
        for i in claimed:
            self.db.checked[i.id] = now
        return claimed


class FakeRefunds:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    async def get(self, refund_id: uuid.UUID, *, for_update: bool = False) -> Refund | None:
        return self.db.refunds.get(refund_id)

    async def add(self, refund: Refund) -> None:
        assert refund.id not in self.db.refunds
        self.db.refunds[refund.id] = refund

    async def save(self, refund: Refund) -> None:
        self.db.refunds[refund.id] = refund

    async def pending_amount(self, intent_id: uuid.UUID) -> int:
        return sum(r.amount for r in self.db.refunds.values()
                   if r.intent_id == intent_id and r.status is RefundStatus.PENDING)

    async def pending(self, created_before: datetime, limit: int) -> list[Refund]:
        rows = [r for r in self.db.refunds.values()
                if r.status is RefundStatus.PENDING and r.created_at < created_before]
        return sorted(rows, key=lambda r: r.created_at)[:limit]

    async def for_intent(self, intent_id: uuid.UUID) -> list[Refund]:
        return sorted((r for r in self.db.refunds.values() if r.intent_id == intent_id), key=lambda r: r.created_at)


class FakeNotifications:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    async def record(self, event: ProviderEvent, intent_id: uuid.UUID, received_at: datetime) -> bool:
        key = (event.provider, event.event_id)
        if key in self.db.notifications:
            return False
        self.db.notifications[key] = ""
        return True

    async def set_outcome(self, provider: str, event_id: str, outcome: str) -> None:
        self.db.notifications[(provider, event_id)] = outcome


class FakeMismatches:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    async def add(self, mismatch: Mismatch) -> None:
        self.db.mismatches.append(mismatch)


class FakeReports:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    async def mismatches(self, start: datetime, end: datetime) -> list[Mismatch]:
        return [m for m in self.db.mismatches if start <= m.created_at < end]

    async def totals(self, start: datetime, end: datetime) -> Totals:
        paid = [i for i in self.db.intents.values() if i.paid_at and start <= i.paid_at < end]
        refunded = sum(r.amount for r in self.db.refunds.values()
                       if r.status is RefundStatus.SUCCEEDED and start <= r.updated_at < end)
        return Totals(len(paid), sum(i.amount for i in paid), refunded)

    async def count_stuck(self, updated_before: datetime) -> int:
        return sum(1 for i in self.db.intents.values()
                   if i.status is IntentStatus.PROCESSING and i.updated_at < updated_before)

    async def count_pending_refunds(self) -> int:
        return sum(1 for r in self.db.refunds.values() if r.status is RefundStatus.PENDING)

    async def save_report(self, day: str, report: bytes) -> bool:
        if day in self.db.reports:
            return False
        self.db.reports[day] = report
        return True


class FakeStore:
    def __init__(self, db: FakeDb) -> None:
        self.intents = FakeIntents(db)
        self.refunds = FakeRefunds(db)
        self.notifications = FakeNotifications(db)
        self.mismatches = FakeMismatches(db)
        self.reports = FakeReports(db)
        self.handlers = db.handlers


class FakeDb:
    """All payments state; ``transaction()`` restores it when the block raises (a rollback)."""

    def __init__(self, handlers: dict[str, PaidObjectHandler] | None = None) -> None:
        self.intents: dict[uuid.UUID, PaymentIntent] = {}
        self.refunds: dict[uuid.UUID, Refund] = {}
        self.notifications: dict[tuple[str, str], str] = {}
        self.mismatches: list[Mismatch] = []
        self.reports: dict[str, bytes] = {}
        self.checked: dict[uuid.UUID, datetime] = {}  # claim_lapsed's bookkeeping
        self.handlers = Handlers(handlers or {})
        self.commits = 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[FakeStore]:
        saved = (dict(self.intents), dict(self.refunds), dict(self.notifications), list(self.mismatches),
                 dict(self.reports))
        try:
            yield FakeStore(self)
        except BaseException:
            self.intents, self.refunds, self.notifications, self.mismatches, self.reports = saved
            raise
        self.commits += 1

    def __call__(self) -> Any:
        return self.transaction()


FAKE_SECRET = b"fake-provider-secret"


class FakeProvider:
    """A provider whose notifications are JSON bodies signed with HMAC-SHA256 in ``x-signature``."""

    def __init__(self, name: str = "fake", replay_window_s: int = 300) -> None:
        self.name = name
        self.replay_window_s = replay_window_s
        self.answers: dict[str, ProviderPayment] = {}
        self.refund_answer: ProviderRefund | Exception = ProviderRefund(status=RefundStatus.SUCCEEDED,
                                                                        provider_ref="R-1")
        self.refund_calls: list[uuid.UUID] = []
        self.query_calls: list[str] = []

    async def checkout(self, intent: PaymentIntent) -> Checkout:
        return Checkout(kind=CheckoutKind.REDIRECT, url=f"https://pay.example/{intent.ref}")

    def verify(self, raw: RawNotification) -> ProviderEvent:
        given = raw.headers.get("x-signature", "")
        if not given:
            raise NotificationRejected("unsigned")
        expected = hmac.new(FAKE_SECRET, raw.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given, expected):
            raise NotificationRejected("bad_signature")
        try:
            return msgspec.json.decode(raw.body, type=ProviderEvent)
        except msgspec.ValidationError:
            raise NotificationRejected("malformed") from None

    async def query(self, intent: PaymentIntent) -> ProviderPayment:
        self.query_calls.append(intent.ref)
        answer = self.answers.get(intent.ref)
        if answer is None:
            raise ProviderUnavailable()
        return answer

    async def refund(self, intent: PaymentIntent, refund: Refund) -> ProviderRefund:
        self.refund_calls.append(refund.id)
        if isinstance(self.refund_answer, Exception):
            raise self.refund_answer
        return self.refund_answer


class FakeProviders:
    def __init__(self, *providers: Any) -> None:
        self.by_name = {p.name: p for p in providers}

    def get(self, name: str) -> Any:
        return self.by_name.get(name)


def sign_body(body: bytes, secret: bytes = FAKE_SECRET) -> dict[str, str]:
    return {"x-signature": hmac.new(secret, body, hashlib.sha256).hexdigest()}


def signed(event: ProviderEvent, secret: bytes = FAKE_SECRET) -> RawNotification:
    body = msgspec.json.encode(event)
    return RawNotification(body=body, headers=sign_body(body, secret), query={})


def event(intent: PaymentIntent, type_: EventType, sent_at: datetime, *, event_id: str | None = None,
          amount: int | None = None, currency: str = "VND", provider_ref: str | None = "TXN-1",
          refund_id: uuid.UUID | None = None, provider: str = "fake") -> ProviderEvent:
    return ProviderEvent(provider=provider, event_id=event_id or uuid.uuid4().hex, sent_at=sent_at, type=type_,
                         intent_ref=intent.ref, amount=intent.amount if amount is None else amount,
                         currency=currency, provider_ref=provider_ref, refund_id=refund_id,
                         instrument=Instrument(bank_name="Vietcombank", last_digits="6789"))


def succeeded_answer(amount: int, ref: str = "TXN-Q") -> ProviderPayment:
    return ProviderPayment(status=ProviderStatus.SUCCEEDED, amount=amount, currency="VND", provider_ref=ref)


def notify(http: httpx.Client, ref: str, amount: int, type_: EventType = EventType.PAYMENT_SUCCEEDED, *,
           event_id: str | None = None, secret: bytes = DEV_PAYMENTS_SECRET,
           timestamp: int | None = None) -> httpx.Response:
    """The local bank's signed notification about the payment ``ref`` (``WEBHOOK_PATH``), over HTTP."""
    event_id = event_id or uuid.uuid4().hex
    body = msgspec.json.encode(NotificationBody(event_id=event_id, type=type_, reference=ref, amount=amount,
                                                currency="VND", transaction_id="FT" + event_id[:10].upper()))
    headers = signed_http.sign(secret, WEBHOOK_TARGET, body, nonce=event_id, timestamp=timestamp)
    return http.post(WEBHOOK_PATH, content=body, headers={**headers, "content-type": "application/json"})
