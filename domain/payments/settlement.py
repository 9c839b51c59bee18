"""The state machine of an intent and its refunds, applied under the intent's row lock.

Shared by provider notifications and reconciliation, so "the provider says X" has one meaning
whichever way we hear it. Out-of-order news is tolerated: anything that would move an intent
backwards (processing after succeeded, failed after succeeded) is *stale* and changes nothing.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain.payments.model import (
    CURRENCY,
    PAID,
    Instrument,
    IntentStatus,
    Mismatch,
    MismatchKind,
    Outcome,
    PaymentIntent,
    Refund,
    RefundStatus,
)
from domain.payments.ports import PaidObjectHandler, PaymentsStore
from domain.shared.ids import new_id

S = IntentStatus


class NoHandler(RuntimeError):
    """No context registered a PaidObjectHandler for this purpose (a wiring error, not a user's)."""


def handler_for(store: PaymentsStore, purpose: str) -> PaidObjectHandler:
    handler = store.handlers.for_purpose(purpose)
    if handler is None:
        raise NoHandler(f"no PaidObjectHandler registered for purpose {purpose!r}")
    return handler


def _changed(intent: PaymentIntent, now: datetime, **changes: object) -> PaymentIntent:
    return msgspec.structs.replace(intent, updated_at=now, version=intent.version + 1, **changes)


async def record_mismatch(store: PaymentsStore, intent: PaymentIntent, kind: MismatchKind, now: datetime, *,
                    reported: int | None = None, expected: int | None = None, detail: str = "") -> None:
    await store.mismatches.add(Mismatch(id=new_id(), kind=kind, intent_id=intent.id, provider=intent.provider,
                                        expected_amount=expected, reported_amount=reported, detail=detail[:200],
                                        created_at=now))


async def settle_succeeded(store: PaymentsStore, intent: PaymentIntent, now: datetime, *, amount: int,
                           currency: str, provider_ref: str | None, instrument: Instrument | None) -> Outcome:
    if amount != intent.amount or currency != CURRENCY:
        await record_mismatch(store, intent, MismatchKind.AMOUNT, now, reported=amount, expected=intent.amount,
                        detail=f"currency {currency[:8]}" if currency != CURRENCY else "payment amount")
        return Outcome.AMOUNT_MISMATCH
    if intent.status in PAID:
        if provider_ref and intent.provider_ref and provider_ref != intent.provider_ref:
            await record_mismatch(store, intent, MismatchKind.DOUBLE_PAYMENT, now, reported=amount,
                            expected=intent.amount, detail="second successful payment")
        return Outcome.STALE
    paid = _changed(intent, now, status=S.SUCCEEDED, paid_at=now, failure_code=None,
                    provider_ref=provider_ref or intent.provider_ref, instrument=instrument or intent.instrument)
    await store.intents.save(paid)
    if intent.status is S.CANCELED:
        # The order no longer exists on the owner's side: keep the money visible and flag it so
        # finance refunds it (the owner is not told "paid" for something it canceled).
        await record_mismatch(store, paid, MismatchKind.LATE_PAYMENT, now, reported=amount, expected=intent.amount,
                        detail="paid after cancellation")
        return Outcome.LATE_PAYMENT
    await handler_for(store, paid.purpose).on_paid(paid)
    return Outcome.APPLIED


async def settle_failed(store: PaymentsStore, intent: PaymentIntent, now: datetime, *,
                        failure_code: str | None, provider_ref: str | None) -> Outcome:
    if intent.status not in (S.REQUIRES_PAYMENT, S.PROCESSING):
        return Outcome.STALE
    await store.intents.save(_changed(intent, now, status=S.FAILED, failure_code=(failure_code or "failed")[:40],
                                      provider_ref=provider_ref or intent.provider_ref))
    return Outcome.APPLIED


async def settle_processing(store: PaymentsStore, intent: PaymentIntent, now: datetime, *,
                            provider_ref: str | None) -> Outcome:
    if intent.status not in (S.REQUIRES_PAYMENT, S.FAILED):
        return Outcome.STALE
    await store.intents.save(_changed(intent, now, status=S.PROCESSING, failure_code=None,
                                      provider_ref=provider_ref or intent.provider_ref))
    return Outcome.APPLIED


async def settle_refund(store: PaymentsStore, intent: PaymentIntent, refund: Refund, now: datetime, *,
                        succeeded: bool, amount: int | None, provider_ref: str | None,
                        failure_code: str | None) -> Outcome:
    if refund.status is not RefundStatus.PENDING:
        return Outcome.STALE
    if succeeded and amount is not None and amount != refund.amount:
        await record_mismatch(store, intent, MismatchKind.AMOUNT, now, reported=amount, expected=refund.amount,
                        detail="refund amount")
        return Outcome.AMOUNT_MISMATCH
    if not succeeded:
        await store.refunds.save(msgspec.structs.replace(
            refund, status=RefundStatus.FAILED, updated_at=now, provider_ref=provider_ref or refund.provider_ref,
            failure_code=(failure_code or "failed")[:40]))
        await record_mismatch(store, intent, MismatchKind.REFUND_FAILED, now, expected=refund.amount,
                        detail="provider refused the refund")
        return Outcome.APPLIED
    done = msgspec.structs.replace(refund, status=RefundStatus.SUCCEEDED, updated_at=now,
                                   provider_ref=provider_ref or refund.provider_ref)
    await store.refunds.save(done)
    total = intent.refunded_amount + refund.amount
    full = total >= intent.amount
    after = _changed(intent, now, refunded_amount=total, status=S.REFUNDED if full else S.PARTIALLY_REFUNDED)
    await store.intents.save(after)
    await handler_for(store, after.purpose).on_refunded(after, done, full=full)
    return Outcome.APPLIED
