"""Buying a pass through the payments context: the order travels as the payment intent's object
id, and the pass is created when (and only when) the payment succeeds; a refund revokes it.

The order key is ``<card id>:<product id>:<start date>``: one payment intent per order (the payments
context keeps one intent per purpose and object id), so buying the same thing twice reuses the
first intent instead of charging twice.
"""

from __future__ import annotations

import uuid
from datetime import date

from domain.errors import Conflict, InvalidInput, NotFound
from domain.identity.access import require_level
from domain.identity.principal import Principal, PrincipalKind
from domain.transit.model import ConcessionApplication, Pass
from domain.transit.rules import hanoi_date
from domain.transit.usecases.common import UseCase
from domain.transit.usecases.passes import ClaimFreePass, IssuePass, PassOrder, Quote, QuotePass, RevokePass

# The payments purpose of a transit pass (``domain.payments.model.PURPOSE_RE``).
PASS_PURPOSE = "transit.pass"  # noqa: S105 (a payment purpose, not a password)
REFUND_REASON = "refunded"


def order_key(order: PassOrder) -> str:
    return f"{order.card_id}:{order.product_id}:{order.start_date.isoformat()}"


def parse_order_key(key: str) -> PassOrder:
    try:
        card, product, start = key.split(":")
        return PassOrder(card_id=uuid.UUID(card), product_id=uuid.UUID(product), start_date=date.fromisoformat(start))
    except ValueError:
        raise InvalidInput("transit.invalid_order", field="object_id", rule="order_key") from None


def _owner(user_id: uuid.UUID) -> Principal:
    # The payer, as the purchase saw them: a level-2 citizen (checked when the order was placed).
    return Principal(kind=PrincipalKind.USER, id=user_id, level=2)


class PlaceOrder(UseCase):
    """Checks and prices an order to be paid (a free product is claimed, not bought)."""

    async def execute(self, principal: Principal, order: PassOrder) -> tuple[Quote, str]:
        self.require_citizen(principal)
        require_level(principal, 2)
        quote = await QuotePass(self.d).execute(principal, order)
        if quote.amount_vnd == 0:
            raise Conflict("transit.free_product", field="product_id", rule="claim_free_pass")
        return quote, order_key(order)


class ClaimFree(UseCase):
    async def execute(self, principal: Principal, card_id: uuid.UUID, product_id: uuid.UUID) -> Pass:
        self.require_citizen(principal)
        require_level(principal, 2)
        return await ClaimFreePass(self.d).execute(principal, card_id, product_id)


class ActivatePaidPass(UseCase):
    """The payment of an order succeeded: issue its pass (once, whatever the retries). An order
    paid after its start date starts today instead, so the rider gets the whole period paid for."""

    async def execute(self, owner_id: uuid.UUID, object_id: str, payment_ref: str) -> Pass:
        existing = await self.d.passes.by_payment_ref(payment_ref, for_update=True)
        if existing is not None:
            return existing
        order = parse_order_key(object_id)
        today = hanoi_date(self.d.clock.now())
        if order.start_date < today:
            order = PassOrder(card_id=order.card_id, product_id=order.product_id, start_date=today)
        return await IssuePass(self.d).execute(_owner(owner_id), order, payment_ref)


class RevokeRefundedPass(UseCase):
    """Money went back: the pass it bought stops (server at once, gates with the deny list)."""

    async def execute(self, payment_ref: str) -> Pass | None:
        p = await self.d.passes.by_payment_ref(payment_ref)
        if p is None:
            return None
        return await RevokePass(self.d).execute(_owner(p.user_id), p.id, REFUND_REASON)


class PendingApplications(UseCase):
    async def execute(self, principal: Principal, limit: int) -> list[ConcessionApplication]:
        self.require_staff(principal)
        return await self.d.applications.pending(limit)


class ApplicationForStaff(UseCase):
    async def execute(self, principal: Principal, application_id: uuid.UUID) -> ConcessionApplication:
        self.require_staff(principal)
        application = await self.d.applications.get(application_id)
        if application is None:
            raise NotFound("transit.application_not_found")
        return application
