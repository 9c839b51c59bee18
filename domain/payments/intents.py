"""Use cases other contexts call, inside their own transaction, to sell something."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import msgspec

from domain.errors import InvalidInput
from domain.payments.errors import (
    IntentNotFound,
    NotCancelable,
    OrderAlreadyPaid,
    OrderOwnedByAnother,
    PaymentInFlight,
    UnknownProvider,
)
from domain.payments.model import (
    PAID,
    REOPENABLE,
    Checkout,
    IntentStatus,
    PaymentIntent,
    check_amount,
    check_purpose,
    new_reference,
)
from domain.payments.ports import PaymentIntents, PaymentProvider, Providers
from domain.shared.ids import new_id
from domain.shared.paging import Page
from domain.shared.time import Clock

log = logging.getLogger("thudo.payments")

DEFAULT_TTL = timedelta(minutes=30)
MAX_TTL = timedelta(days=7)


class CreateIntent(msgspec.Struct, frozen=True, kw_only=True):
    owner_id: uuid.UUID
    purpose: str               # "judicial.fee", "transit.pass"
    object_id: str             # the order: one intent per (purpose, object_id)
    amount: int                # VND
    description: str           # shown to the citizen and in the transfer memo (ASCII is safest)
    provider: str | None = None
    ttl: timedelta | None = None


class IntentView(msgspec.Struct, frozen=True):
    intent: PaymentIntent
    checkout: Checkout | None   # None once nothing is left to pay


def _provider(providers: Providers, name: str) -> PaymentProvider:
    provider = providers.get(name)
    if provider is None:
        raise UnknownProvider(field="provider", rule="known")
    return provider


async def _view(providers: Providers, intent: PaymentIntent) -> IntentView:
    if intent.status is not IntentStatus.REQUIRES_PAYMENT:
        return IntentView(intent, None)
    return IntentView(intent, await _provider(providers, intent.provider).checkout(intent))


class CreatePaymentIntent:
    """Idempotent: the same order gives the same intent. An unpaid order whose intent failed,
    expired or was canceled is re-opened (new expiry, the new amount); a paid one is returned as
    is when the amount agrees and refused otherwise; one with a payment in flight cannot change."""

    def __init__(self, intents: PaymentIntents, providers: Providers, clock: Clock, *,
                 default_provider: str, default_ttl: timedelta = DEFAULT_TTL) -> None:
        self.intents = intents
        self.providers = providers
        self.clock = clock
        self.default_provider = default_provider
        self.default_ttl = default_ttl

    async def draft(self, cmd: CreateIntent) -> IntentView:
        """The intent the order gets if it has none yet, with its checkout; nothing is stored.

        For a caller that must know its answer before the write, to send it in the same statement
        (a retried purchase stores its idempotency row with the intent: one round trip for both).
        Pass it to ``execute``: it is stored as is if the order is new, and returned as is.
        """
        check_purpose(cmd.purpose)
        check_amount(cmd.amount)
        provider_name = cmd.provider or self.default_provider
        _provider(self.providers, provider_name)
        ttl = cmd.ttl or self.default_ttl
        if not timedelta(minutes=1) <= ttl <= MAX_TTL:
            raise InvalidInput("payments.invalid_ttl", field="ttl", rule="range")
        description = " ".join(cmd.description.split())[:140]
        now = self.clock.now()
        return await _view(self.providers, PaymentIntent(
            id=new_id(), ref=new_reference(), owner_id=cmd.owner_id, purpose=cmd.purpose,
            object_id=cmd.object_id, amount=cmd.amount, description=description, provider=provider_name,
            status=IntentStatus.REQUIRES_PAYMENT, created_at=now, updated_at=now, expires_at=now + ttl))

    async def execute(self, cmd: CreateIntent, draft: IntentView | None = None) -> IntentView:
        """``draft``: this command's ``draft`` (made by the caller beforehand); returned as is when stored."""
        if draft is None:
            draft = await self.draft(cmd)
        fresh = draft.intent
        if (fresh.owner_id, fresh.purpose, fresh.object_id, fresh.amount) != (
                cmd.owner_id, cmd.purpose, cmd.object_id, cmd.amount):
            raise ValueError("the draft is not this command's")
        # Insert-or-existing in one call (one round trip): the order's earlier intent, if any, comes
        # back instead of ours, locked, and is reused by the rules below.
        stored = await self.intents.add(fresh)
        if stored.id == fresh.id:
            return draft
        ttl = cmd.ttl or self.default_ttl
        return await self._reuse(stored, cmd, fresh.provider, fresh.description, ttl)

    async def _reuse(self, intent: PaymentIntent, cmd: CreateIntent, provider_name: str, description: str,
                     ttl: timedelta) -> IntentView:
        if intent.owner_id != cmd.owner_id:
            raise OrderOwnedByAnother()
        now = self.clock.now()
        if intent.status in PAID:
            if intent.amount != cmd.amount:
                raise OrderAlreadyPaid()
            return IntentView(intent, None)
        if intent.status is IntentStatus.PROCESSING:
            if intent.amount != cmd.amount:
                raise PaymentInFlight()
            return IntentView(intent, None)
        assert intent.status in REOPENABLE
        unchanged = (intent.status is IntentStatus.REQUIRES_PAYMENT and intent.expires_at > now
                     and intent.amount == cmd.amount and intent.provider == provider_name)
        if unchanged:
            return await _view(self.providers, intent)
        reopened = msgspec.structs.replace(
            intent, status=IntentStatus.REQUIRES_PAYMENT, amount=cmd.amount, description=description,
            provider=provider_name, expires_at=now + ttl, updated_at=now, failure_code=None,
            # A new attempt gets a new reference: a late transfer quoting the old one (and maybe
            # the old price) must not be mistaken for this attempt's payment.
            ref=new_reference(), attempt=intent.attempt + 1, provider_ref=None, version=intent.version + 1)
        await self.intents.save(reopened)
        log.info("payment intent reopened", extra={"intent_id": str(intent.id), "attempt": reopened.attempt})
        return await _view(self.providers, reopened)


class GetPaymentIntent:
    """The citizen's view of their own intent; anyone else's is not found."""

    def __init__(self, intents: PaymentIntents, providers: Providers) -> None:
        self.intents = intents
        self.providers = providers

    async def execute(self, owner_id: uuid.UUID, intent_id: uuid.UUID) -> IntentView:
        intent = await self.intents.get(intent_id)
        if intent is None or intent.owner_id != owner_id:
            raise IntentNotFound()
        return await _view(self.providers, intent)


class MyPayments:
    """The citizen's payments, newest first, each with its checkout while unpaid."""

    def __init__(self, intents: PaymentIntents, providers: Providers) -> None:
        self.intents = intents
        self.providers = providers

    async def execute(self, owner_id: uuid.UUID, cursor: str | None, limit: int) -> Page[IntentView]:
        page = await self.intents.mine(owner_id, cursor, limit)
        return Page(items=[await _view(self.providers, i) for i in page.items], next_cursor=page.next_cursor)


class CancelPaymentIntent:
    """The owning context withdrew the order before it was paid (e.g. a withdrawn request)."""

    def __init__(self, intents: PaymentIntents, clock: Clock) -> None:
        self.intents = intents
        self.clock = clock

    async def execute(self, purpose: str, object_id: str) -> PaymentIntent | None:
        intent = await self.intents.get_for_order(purpose, object_id, for_update=True)
        if intent is None or intent.status is IntentStatus.CANCELED:
            return intent
        if intent.status not in (IntentStatus.REQUIRES_PAYMENT, IntentStatus.FAILED, IntentStatus.EXPIRED):
            raise NotCancelable()
        now = self.clock.now()
        canceled = msgspec.structs.replace(intent, status=IntentStatus.CANCELED, updated_at=now,
                                           version=intent.version + 1)
        await self.intents.save(canceled)
        return canceled
