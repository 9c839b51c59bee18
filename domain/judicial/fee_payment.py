"""The judicial side of paying what the citizen still owes (``amount_due`` of the stored fee, e.g.
postage under Resolution 77/2025) through the shared payment port (docs/payments.md).

Rules:
* one payment intent per request, purpose ``judicial.fee``, ``object_id`` = the request id, for
  exactly ``amount_due``; nothing is created when ``amount_due`` is 0;
* the intent succeeding marks the fee **paid** (the workflow may go on to issue);
* a full refund (e.g. after withdrawal) marks it **refunded**; a partial refund keeps it paid and
  records the running total;
* an intent that expires or is canceled unpaid marks the fee **lapsed**, which staff see; a fee
  already paid is never downgraded by a late "unpaid" event;
* everything is idempotent: the payments transaction may call a handler again after a retry.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Protocol

import msgspec

from domain.payments.intents import CreateIntent, CreatePaymentIntent, IntentView
from domain.payments.model import PaymentIntent, Refund
from domain.shared.time import Clock

PURPOSE = "judicial.fee"


class FeeStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    REFUNDED = "refunded"
    LAPSED = "lapsed"


class FeePayment(msgspec.Struct, frozen=True, kw_only=True):
    request_id: uuid.UUID
    intent_id: uuid.UUID
    amount: int
    status: FeeStatus
    refunded_amount: int = 0
    paid_at: datetime | None = None
    updated_at: datetime


class FeePayments(Protocol):
    async def get(self, request_id: uuid.UUID, *, for_update: bool = False) -> FeePayment | None: ...

    async def put(self, payment: FeePayment) -> None:
        """Insert or replace the row of ``payment.request_id``."""
        ...


def request_of(intent: PaymentIntent) -> uuid.UUID:
    if intent.purpose != PURPOSE:
        raise ValueError(f"not a judicial fee: {intent.purpose}")
    return uuid.UUID(intent.object_id)


def description(ref: str) -> str:
    """The transfer memo: ASCII (banks mangle diacritics), the request's reference."""
    return f"Le phi LLTP {ref}"


class OpenFeePayment:
    """After submit, in the same unit of work: the intent for ``amount_due`` (same one on retry)."""

    def __init__(self, create: CreatePaymentIntent, fees: FeePayments, clock: Clock) -> None:
        self.create = create
        self.fees = fees
        self.clock = clock

    async def execute(self, *, request_id: uuid.UUID, ref: str, owner_id: uuid.UUID,
                      amount_due: int) -> IntentView | None:
        if amount_due <= 0:
            return None
        view = await self.create.execute(CreateIntent(owner_id=owner_id, purpose=PURPOSE, object_id=str(request_id),
                                                      amount=amount_due, description=description(ref)))
        current = await self.fees.get(request_id, for_update=True)
        if current is None or current.intent_id != view.intent.id or current.status is FeeStatus.LAPSED:
            await self.fees.put(FeePayment(request_id=request_id, intent_id=view.intent.id, amount=amount_due,
                                           status=FeeStatus.PENDING, updated_at=self.clock.now()))
        return view


class FeePaidHandler:
    """``PaidObjectHandler`` for ``judicial.fee``, run inside the payments transaction."""

    def __init__(self, fees: FeePayments, clock: Clock) -> None:
        self.fees = fees
        self.clock = clock

    async def _current(self, intent: PaymentIntent) -> FeePayment:
        request_id = request_of(intent)
        found = await self.fees.get(request_id, for_update=True)
        if found is not None:
            return found
        # The intent exists but our row was never written (cannot happen when both commit together;
        # kept total so a payment is never lost).
        return FeePayment(request_id=request_id, intent_id=intent.id, amount=intent.amount,
                          status=FeeStatus.PENDING, updated_at=self.clock.now())

    async def on_paid(self, intent: PaymentIntent) -> None:
        current = await self._current(intent)
        if current.status is FeeStatus.PAID and current.intent_id == intent.id:
            return
        await self.fees.put(msgspec.structs.replace(
            current, intent_id=intent.id, amount=intent.amount, status=FeeStatus.PAID,
            paid_at=intent.paid_at or self.clock.now(), updated_at=self.clock.now()))

    async def on_refunded(self, intent: PaymentIntent, refund: Refund, *, full: bool) -> None:
        current = await self._current(intent)
        status = FeeStatus.REFUNDED if full else FeeStatus.PAID
        await self.fees.put(msgspec.structs.replace(
            current, intent_id=intent.id, status=status, refunded_amount=intent.refunded_amount,
            updated_at=self.clock.now()))

    async def on_unpaid(self, intent: PaymentIntent) -> None:
        current = await self._current(intent)
        if current.status is not FeeStatus.PENDING:  # paid, refunded or already lapsed: unchanged
            return
        await self.fees.put(msgspec.structs.replace(current, status=FeeStatus.LAPSED, updated_at=self.clock.now()))


def may_issue(amount_due: int, payment: FeePayment | None) -> bool:
    """The certificate is issued only when nothing is owed or the fee is paid."""
    return amount_due <= 0 or (payment is not None and payment.status is FeeStatus.PAID)
