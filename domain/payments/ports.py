"""Ports of the payments context.

Two audiences:

* Contexts that sell something use ``PaymentIntents`` (on their own unit-of-work connection, so the
  intent is created in the same transaction as their order) and register one ``PaidObjectHandler``
  per purpose, through which they react to payment, refund and non-payment in the payments
  transaction.
* The payments use cases themselves use ``PaymentProvider`` adapters and ``PaymentsStore``
  (everything one transaction touches), opened by ``PaymentsTransactions``.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from domain.payments.model import (
    Checkout,
    Mismatch,
    PaymentIntent,
    ProviderEvent,
    ProviderPayment,
    ProviderRefund,
    RawNotification,
    Refund,
    Totals,
)
from domain.shared.paging import Page


class PaymentIntents(Protocol):
    async def get(self, intent_id: uuid.UUID, *, for_update: bool = False) -> PaymentIntent | None: ...

    async def get_by_ref(self, ref: str, *, for_update: bool = False) -> PaymentIntent | None: ...

    async def get_for_order(self, purpose: str, object_id: str, *,
                            for_update: bool = False) -> PaymentIntent | None: ...

    async def add(self, intent: PaymentIntent) -> PaymentIntent:
        """Insert, unless the order already has an intent: then return that one, locked until
        commit (one intent per order, also under races; the caller tells them apart by ``id``)."""
        ...

    async def save(self, intent: PaymentIntent) -> None:
        """Write ``intent`` (whose ``version`` was bumped by the state change)."""
        ...

    async def due_to_expire(self, now: datetime, limit: int) -> list[PaymentIntent]:
        """Open ``requires_payment`` intents past their expiry, locked (``SKIP LOCKED``)."""
        ...

    async def stuck(self, updated_before: datetime, limit: int) -> list[PaymentIntent]:
        """``processing`` intents unchanged since ``updated_before`` (oldest first; not locked)."""
        ...

    async def mine(self, owner_id: uuid.UUID, cursor: str | None, limit: int) -> Page[PaymentIntent]:
        """The owner's intents, newest first (cursor paged)."""
        ...

    async def claim_lapsed(self, lapsed_after: datetime, lapsed_before: datetime, checked_before: datetime,
                           now: datetime, limit: int) -> list[PaymentIntent]:
        """Unpaid intents (expired, failed, canceled) that lapsed between the two instants and were not
        asked about since ``checked_before``, least recently asked first; marks them asked at ``now``."""
        ...


class Refunds(Protocol):
    async def get(self, refund_id: uuid.UUID, *, for_update: bool = False) -> Refund | None: ...

    async def add(self, refund: Refund) -> None: ...

    async def save(self, refund: Refund) -> None: ...

    async def pending_amount(self, intent_id: uuid.UUID) -> int: ...

    async def pending(self, created_before: datetime, limit: int) -> list[Refund]: ...

    async def for_intent(self, intent_id: uuid.UUID) -> list[Refund]: ...


class ReceivedNotifications(Protocol):
    async def record(self, event: ProviderEvent, intent_id: uuid.UUID, received_at: datetime) -> bool:
        """Remember a verified notification by (provider, event id); False if it was seen before."""
        ...

    async def set_outcome(self, provider: str, event_id: str, outcome: str) -> None: ...


class Mismatches(Protocol):
    async def add(self, mismatch: Mismatch) -> None: ...


class PaymentReports(Protocol):
    async def mismatches(self, start: datetime, end: datetime) -> list[Mismatch]: ...

    async def totals(self, start: datetime, end: datetime) -> Totals: ...

    async def count_stuck(self, updated_before: datetime) -> int: ...

    async def count_pending_refunds(self) -> int: ...

    async def save_report(self, day: str, report: bytes) -> bool:
        """Store the day's report once; False when it was already stored."""
        ...


class PaidObjectHandler(Protocol):
    """The owning context's side of a purchase, called inside the payments transaction.

    Implementations run on the same connection as the intent's change, so "intent succeeded" and
    "certificate request paid" / "pass activated" commit together or not at all. Each method may
    be called again for the same intent after a crash-and-retry of the whole transaction, never
    twice in one committed history. Raising rolls back the intent's change too.
    """

    async def on_paid(self, intent: PaymentIntent) -> None: ...

    async def on_refunded(self, intent: PaymentIntent, refund: Refund, *, full: bool) -> None:
        """Money went back (``intent.refunded_amount`` is the total so far): revoke what it bought."""
        ...

    async def on_unpaid(self, intent: PaymentIntent) -> None:
        """The intent expired or was canceled without payment (release reservations)."""
        ...


class PaidObjectHandlers(Protocol):
    def for_purpose(self, purpose: str) -> PaidObjectHandler | None: ...


class PaymentsStore(Protocol):
    """Everything the payments use cases touch inside one transaction."""

    intents: PaymentIntents
    refunds: Refunds
    notifications: ReceivedNotifications
    mismatches: Mismatches
    reports: PaymentReports
    handlers: PaidObjectHandlers


class PaymentsTransactions(Protocol):
    def __call__(self) -> AbstractAsyncContextManager[PaymentsStore]:
        """A new transaction: committed when the block exits normally, rolled back on an exception."""
        ...


class PaymentProvider(Protocol):
    """A payment provider: VietQR with the bank's notifications, a gateway (VNPay), the stand-in.

    Every answer that changes money state is authenticated by the adapter (signature checked in
    constant time) before the domain sees it.
    """

    name: str
    # How old a signed notification may be and still be accepted (its nonce is kept longer).
    replay_window_s: int

    async def checkout(self, intent: PaymentIntent) -> Checkout:
        """How the citizen pays (QR payload or redirect URL); no money moves yet."""
        ...

    def verify(self, raw: RawNotification) -> ProviderEvent:
        """Authenticate and parse one notification; ``NotificationRejected`` when it is not signed
        by the provider or malformed."""
        ...

    async def query(self, intent: PaymentIntent) -> ProviderPayment:
        """The provider's (signed) view of the intent, for reconciliation."""
        ...

    async def refund(self, intent: PaymentIntent, refund: Refund) -> ProviderRefund:
        """Ask for (or look up: idempotent by ``refund.id``) a refund."""
        ...


class Providers(Protocol):
    def get(self, name: str) -> PaymentProvider | None: ...
