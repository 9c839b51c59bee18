"""Refunds, full or partial, idempotent by the caller's key, through the provider.

The refund row is committed *before* the provider is called, and its id is derived from
(intent, key): a retry — even after a crash between the two — asks the provider for the very same
refund, which the provider deduplicates. The result is applied in a second transaction, together
with the owning context's revocation (``PaidObjectHandler.on_refunded``).
"""

from __future__ import annotations

import logging
import uuid

import msgspec

from domain.errors import DomainError
from domain.payments.errors import (
    IdempotencyKeyReused,
    IntentNotFound,
    NotRefundable,
    ProviderUnavailable,
    RefundExceedsBalance,
    RefundNotFound,
    UnknownProvider,
)
from domain.payments.model import (
    PAID,
    IntentStatus,
    PaymentIntent,
    ProviderRefund,
    Refund,
    RefundStatus,
    check_amount,
    refund_id,
)
from domain.payments.ports import PaymentProvider, PaymentsTransactions, Providers
from domain.payments.settlement import settle_refund
from domain.shared.time import Clock

log = logging.getLogger("thudo.payments")


class RefundRequest(msgspec.Struct, frozen=True, kw_only=True):
    intent_id: uuid.UUID
    key: str                         # idempotency key: same key → same refund
    amount: int | None = None        # None: everything still refundable
    reason: str
    requested_by: uuid.UUID | None = None


async def apply_refund_result(transactions: PaymentsTransactions, clock: Clock, rid: uuid.UUID,
                              result: ProviderRefund) -> Refund:
    async with transactions() as store:
        found = await store.refunds.get(rid)
        if found is None:
            raise RefundNotFound()
        intent = await store.intents.get(found.intent_id, for_update=True)
        refund = await store.refunds.get(rid, for_update=True)
        if intent is None or refund is None:
            raise RefundNotFound()
        now = clock.now()
        if result.status is RefundStatus.PENDING:
            if result.provider_ref and result.provider_ref != refund.provider_ref:
                refund = msgspec.structs.replace(refund, provider_ref=result.provider_ref, updated_at=now)
                await store.refunds.save(refund)
            return refund
        await settle_refund(store, intent, refund, now, succeeded=result.status is RefundStatus.SUCCEEDED,
                            amount=None, provider_ref=result.provider_ref, failure_code=result.failure_code)
        after = await store.refunds.get(rid)
        assert after is not None
        return after


def provider_of(providers: Providers, intent: PaymentIntent) -> PaymentProvider:
    provider = providers.get(intent.provider)
    if provider is None:
        raise UnknownProvider(field="provider", rule="known")
    return provider


class RequestRefund:
    def __init__(self, transactions: PaymentsTransactions, providers: Providers, clock: Clock) -> None:
        self.transactions = transactions
        self.providers = providers
        self.clock = clock

    async def execute(self, req: RefundRequest) -> Refund:
        reason = " ".join(req.reason.split())[:200]
        async with self.transactions() as store:
            intent = await store.intents.get(req.intent_id, for_update=True)
            if intent is None:
                raise IntentNotFound()
            rid = refund_id(intent.id, req.key)
            refund = await store.refunds.get(rid)
            if refund is not None:
                if (req.amount is not None and req.amount != refund.amount) or reason != refund.reason:
                    raise IdempotencyKeyReused()
                if refund.status is not RefundStatus.PENDING:
                    return refund
            else:
                if intent.status not in PAID or intent.status is IntentStatus.REFUNDED:
                    raise NotRefundable()
                available = intent.amount - intent.refunded_amount - await store.refunds.pending_amount(intent.id)
                amount = available if req.amount is None else req.amount
                if amount <= 0 and req.amount is None:
                    raise NotRefundable()
                check_amount(amount)
                if amount > available:
                    raise RefundExceedsBalance(field="amount", rule="maximum", maximum=available)
                now = self.clock.now()
                refund = Refund(id=rid, intent_id=intent.id, key=req.key, amount=amount, reason=reason,
                                status=RefundStatus.PENDING, requested_by=req.requested_by, created_at=now,
                                updated_at=now)
                await store.refunds.add(refund)
        provider = provider_of(self.providers, intent)
        try:
            result = await provider.refund(intent, refund)
        except (ProviderUnavailable, DomainError) as exc:
            # Stays pending: the reconciliation job asks again (same refund id) until it settles.
            log.warning("refund left pending", extra={"refund_id": str(refund.id), "code": exc.code})
            return refund
        return await apply_refund_result(self.transactions, self.clock, refund.id, result)
