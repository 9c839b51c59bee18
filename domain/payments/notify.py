"""Provider notifications (webhooks / IPN): authenticate, refuse replays, apply once, in any order."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from domain.payments.errors import NotificationRejected, UnknownIntent
from domain.payments.model import EventType, MismatchKind, Outcome, ProviderEvent, RawNotification
from domain.payments.ports import PaymentsStore, PaymentsTransactions, Providers
from domain.payments.settlement import (
    record_mismatch,
    settle_failed,
    settle_processing,
    settle_refund,
    settle_succeeded,
)
from domain.shared.time import Clock

log = logging.getLogger("thudo.payments")


def _refuse(provider: str, reason: str) -> NotificationRejected:
    # Only the provider name and the reason: never the body, signature or headers.
    log.warning("payment notification refused", extra={"provider": provider[:32], "reason": reason})
    return NotificationRejected(reason)


class HandleNotification:
    """One verified notification, applied in one transaction under the intent's row lock.

    * signature: checked by the provider adapter (constant-time compare); failure → refused;
    * replay window: the signed timestamp must be within ``provider.replay_window_s`` of now,
      and the nonce (event id) must be new — a repeat within the window changes nothing;
    * amount and currency must equal the intent's, else the event is recorded as a mismatch and
      not applied;
    * a stale event (older state than the intent's) is recorded and ignored.
    """

    def __init__(self, transactions: PaymentsTransactions, providers: Providers, clock: Clock) -> None:
        self.transactions = transactions
        self.providers = providers
        self.clock = clock

    async def execute(self, provider_name: str, raw: RawNotification) -> Outcome:
        provider = self.providers.get(provider_name)
        if provider is None:
            raise _refuse(provider_name, "unknown_provider")
        try:
            event = provider.verify(raw)
        except NotificationRejected as exc:
            raise _refuse(provider.name, exc.reason) from None
        if event.provider != provider.name:
            raise _refuse(provider.name, "provider_mismatch")
        now = self.clock.now()
        if abs(now - event.sent_at) > timedelta(seconds=provider.replay_window_s):
            raise _refuse(provider.name, "outside_replay_window")
        async with self.transactions() as store:
            outcome = await self._apply(store, event, now)
        log.info("payment notification", extra={"provider": provider.name, "type": event.type.value,
                                                "outcome": outcome.value})
        return outcome

    async def _apply(self, store: PaymentsStore, event: ProviderEvent, now: datetime) -> Outcome:
        intent = await store.intents.get_by_ref(event.intent_ref, for_update=True)
        if intent is None or intent.provider != event.provider:
            log.warning("payment notification for an unknown intent", extra={"provider": event.provider})
            raise UnknownIntent()
        if not await store.notifications.record(event, intent.id, now):
            return Outcome.DUPLICATE
        outcome: Outcome
        if event.type is EventType.PAYMENT_SUCCEEDED:
            outcome = await settle_succeeded(store, intent, now, amount=event.amount, currency=event.currency,
                                             provider_ref=event.provider_ref, instrument=event.instrument)
        elif event.type is EventType.PAYMENT_FAILED:
            outcome = await settle_failed(store, intent, now, failure_code=event.failure_code,
                                          provider_ref=event.provider_ref)
        elif event.type is EventType.PAYMENT_PROCESSING:
            outcome = await settle_processing(store, intent, now, provider_ref=event.provider_ref)
        else:
            refund = await store.refunds.get(event.refund_id, for_update=True) if event.refund_id else None
            if refund is None or refund.intent_id != intent.id:
                log.warning("refund notification for an unknown refund", extra={"provider": event.provider})
                await record_mismatch(store, intent, MismatchKind.UNKNOWN_REFUND, now, reported=event.amount,
                                      detail="refund notification for an unknown refund")
                outcome = Outcome.UNKNOWN_REFUND
            else:
                outcome = await settle_refund(store, intent, refund, now,
                                              succeeded=event.type is EventType.REFUND_SUCCEEDED,
                                              amount=event.amount, provider_ref=event.provider_ref,
                                              failure_code=event.failure_code)
        await store.notifications.set_outcome(event.provider, event.event_id, outcome.value)
        return outcome
