"""The citizen's view of a payment, shared by ``GET /api/v1/payments/intents/{id}`` and the contexts
that show an order's payment in their own views (a judicial request's fee)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from adapters.postgres.payments import PgPaymentIntents
from api.payments.wiring import services
from domain.payments.intents import GetPaymentIntent, IntentView, MyPayments
from domain.payments.model import Checkout
from domain.shared.paging import Page

if TYPE_CHECKING:
    from api.platform.container import Container


class PaymentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    ref: str
    purpose: str
    object_id: str
    amount: int
    currency: str
    description: str
    status: str
    expires_at: datetime
    paid_at: datetime | None
    refunded_amount: int
    checkout: Checkout | None
    qr_image_url: str | None  # the checkout's VietQR as a PNG (for a screen other than the banking app's)


def payment_out(view: IntentView) -> PaymentOut:
    i = view.intent
    qr = view.checkout is not None and view.checkout.qr_payload is not None
    return PaymentOut(id=i.id, ref=i.ref, purpose=i.purpose, object_id=i.object_id, amount=i.amount,
                      currency=i.currency, description=i.description, status=i.status.value,
                      expires_at=i.expires_at, paid_at=i.paid_at, refunded_amount=i.refunded_amount,
                      checkout=view.checkout, qr_image_url=f"/api/v1/payments/intents/{i.id}/qr.png" if qr else None)


async def my_payment(container: Container, conn: Any, owner_id: uuid.UUID, intent_id: uuid.UUID) -> PaymentOut:
    """The owner's intent with its checkout while unpaid; anyone else's is ``payments.intent_not_found``."""
    view = await GetPaymentIntent(PgPaymentIntents(conn), services(container).providers).execute(owner_id, intent_id)
    return payment_out(view)


async def my_payments(container: Container, conn: Any, owner_id: uuid.UUID, cursor: str | None,
                      limit: int) -> Page[PaymentOut]:
    page = await MyPayments(PgPaymentIntents(conn), services(container).providers).execute(owner_id, cursor, limit)
    return Page(items=[payment_out(v) for v in page.items], next_cursor=page.next_cursor)
