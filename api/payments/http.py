"""Payments over HTTP: the bank's signed notifications (webhook) and the citizen's own payments.

The webhook is mounted at the fixed path the bank's signature covers (``POST /payments/webhooks/vietqr``),
outside ``/api/v1`` and the OpenAPI document: it is a contract with the bank, not with apps.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

import api.payments.texts  # noqa: F401  (registers the error texts)
from api.identity.auth import CurrentUser
from api.payments.views import PaymentOut, my_payment, my_payments
from api.payments.wiring import PROVIDER, WEBHOOK_PATH, services, transactions
from api.platform.deps import AppContainer, UnitOfWork
from api.platform.params import Limit
from domain.errors import Conflict
from domain.payments.model import RawNotification
from domain.payments.notify import HandleNotification
from domain.shared.paging import Page

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


class Received(msgspec.Struct):
    """What the bank gets back: the notification was authentic and recorded (``outcome`` says what it did)."""

    received: bool
    outcome: str


class BankWebhook(Controller):
    path = WEBHOOK_PATH
    include_in_schema = False

    @post("", operation_id="paymentsWebhookVietqr", status_code=200)
    async def notify(self, request: Request[Any, Any, Any], container: AppContainer) -> Received:
        raw = RawNotification(body=await request.body(),
                              headers={k.lower(): v for k, v in request.headers.items()},
                              query=dict(request.query_params))
        outcome = await HandleNotification(transactions(container), services(container).providers,
                                           container.clock).execute(PROVIDER, raw)
        return Received(received=True, outcome=outcome.value)


class MyPayments(Controller):
    path = "/payments"
    tags = ["payments"]
    security = BEARER

    @get("/intents/{intent_id:uuid}", operation_id="paymentsIntentGet",
         summary="One of my payments: status and, while unpaid, how to pay (VietQR payload)")
    async def intent(self, principal: CurrentUser, uow: UnitOfWork, container: AppContainer,
                     intent_id: FromPath[uuid.UUID]) -> PaymentOut:
        return await my_payment(container, uow.conn, principal.id, intent_id)

    @get("/intents", operation_id="paymentsIntentList", summary="My payments, newest first (cursor paged)")
    async def mine(self, principal: CurrentUser, uow: UnitOfWork, container: AppContainer,
                   cursor: FromQuery[str | None] = None, limit: Limit = 20) -> Page[PaymentOut]:
        return await my_payments(container, uow.conn, principal.id, cursor, limit)

    @get("/intents/{intent_id:uuid}/qr.png", operation_id="paymentsIntentQr", media_type="image/png",
         summary="The VietQR of one of my unpaid payments as a PNG (scan it with any banking app)")
    async def qr(self, principal: CurrentUser, uow: UnitOfWork, container: AppContainer,
                 intent_id: FromPath[uuid.UUID]) -> Response[bytes]:
        out = await my_payment(container, uow.conn, principal.id, intent_id)
        if out.checkout is None or out.checkout.qr_payload is None:
            raise Conflict("payments.nothing_to_pay")
        # qrcode (and Pillow) load on the first QR, not at start-up.
        from adapters.payments.vietqr import render_png

        return Response(render_png(out.checkout.qr_payload), media_type="image/png",
                        headers={"Cache-Control": "private, no-store"})
