"""Local stand-in for the bank behind VietQR (development, tests and the bench only).

It speaks the signed bank protocol of ``adapters.payments.signed_http`` in both directions, so the
production adapter (``adapters.payments.bank_notifications.VietQrProvider``) runs unchanged against
it; only the bank API URL and the secret differ.

* ``POST /dev/payments/simulate`` — "a citizen's banking app paid": the body gives either the
  scanned ``qr_payload`` (parsed like a banking app would: amount from tag 54, memo from tag 62) or a
  ``reference`` and ``amount``. The bank records the transfer and notifies the webhook.
* ``PUT /dev/payments/behaviour`` — how the next payments go: ``fail`` (the transfer is declined),
  ``delay_s`` (notify later), ``duplicate`` (extra copies of each notification, same nonce),
  ``reorder`` (a stale ``payment.processing`` is delivered *after* the final notification),
  ``drop`` (no notification at all: only reconciliation will find the payment).
* ``GET /dev/payments/v1/payments/{reference}`` and ``POST /dev/payments/v1/refunds`` — the bank API
  our adapter calls: signed requests, signed answers; refunds are idempotent by ``refund_id``.
* ``GET /dev/payments/deliveries`` — what was sent to the webhook and the status code it got.

Mounted only when ``STANDINS`` is on (never in production).
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
from litestar import Request, Response, Router, get, post, put
from litestar.params import FromPath

from adapters.payments import signed_http
from adapters.payments.bank_notifications import (
    WEBHOOK_TARGET,
    NotificationBody,
    PaymentStatusBody,
    RefundRequestBody,
    RefundStatusBody,
    answer_headers,
)
from adapters.payments.vietqr import VietQrError, check_crc, parse_fields
from domain.payments.model import EventType, ProviderStatus, RefundStatus

STANDIN_PATH = "/dev/payments"
STANDIN_BANK = "Ngân hàng Thử nghiệm (stand-in)"

# Sends one signed notification; returns the HTTP status the webhook answered.
Deliver = Callable[[bytes, dict[str, str]], Awaitable[int]]


class Behaviour(msgspec.Struct, forbid_unknown_fields=True):
    fail: bool = False
    delay_s: float = msgspec.field(default=0.0)
    duplicate: int = 0
    reorder: bool = False
    drop: bool = False


class Simulate(msgspec.Struct, forbid_unknown_fields=True):
    qr_payload: str | None = None
    reference: str | None = None
    amount: int | None = None
    payer_account: str = "0011009876543"


@dataclass
class _Payment:
    reference: str
    amount: int
    transaction_id: str
    status: ProviderStatus
    payer_account: str


@dataclass
class PaymentsStandin:
    secret: bytes
    deliver: Deliver
    behaviour: Behaviour = field(default_factory=Behaviour)
    payments: dict[str, _Payment] = field(default_factory=dict)
    refunds: dict[uuid.UUID, RefundStatusBody] = field(default_factory=dict)
    deliveries: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=500))
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    refunded: dict[uuid.UUID, tuple[str, int]] = field(default_factory=dict)   # refund id -> (reference, amount)

    def _notification(self, payment: _Payment, type_: EventType, *, amount: int | None = None,
                      refund_id: uuid.UUID | None = None, transaction_id: str | None = None,
                      failure_code: str | None = None) -> tuple[bytes, dict[str, str]]:
        nonce = secrets.token_hex(16)
        body = msgspec.json.encode(NotificationBody(
            event_id=nonce, type=type_, reference=payment.reference,
            amount=payment.amount if amount is None else amount, currency="VND",
            transaction_id=transaction_id or payment.transaction_id, refund_id=refund_id, bank_name=STANDIN_BANK,
            account_last_digits=payment.payer_account[-4:], failure_code=failure_code))
        return body, signed_http.sign(self.secret, WEBHOOK_TARGET, body, nonce=nonce)

    async def _send_all(self, messages: list[tuple[bytes, dict[str, str]]], delay_s: float) -> None:
        if delay_s:
            await asyncio.sleep(delay_s)
        for body, headers in messages:
            try:
                status = await self.deliver(body, headers)
            except httpx.HTTPError:
                status = 0
            self.deliveries.appendleft({"event_id": headers[signed_http.NONCE],
                                        "type": msgspec.json.decode(body)["type"], "status": status})

    def _schedule(self, messages: list[tuple[bytes, dict[str, str]]]) -> None:
        b = self.behaviour
        if b.drop:
            return
        copies = [m for m in messages for _ in range(1 + b.duplicate)]
        task = asyncio.get_running_loop().create_task(self._send_all(copies, b.delay_s))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def settle(self) -> None:
        """Wait until every scheduled notification was delivered (tests)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks))

    def pay(self, reference: str, amount: int, payer_account: str) -> _Payment:
        b = self.behaviour
        payment = _Payment(reference, amount, "FT" + secrets.token_hex(6).upper(),
                           ProviderStatus.FAILED if b.fail else ProviderStatus.SUCCEEDED, payer_account)
        self.payments[reference] = payment
        final = self._notification(payment, EventType.PAYMENT_FAILED if b.fail else EventType.PAYMENT_SUCCEEDED,
                                   failure_code="declined" if b.fail else None)
        processing = self._notification(payment, EventType.PAYMENT_PROCESSING)
        self._schedule([final, processing] if b.reorder else [processing, final])
        return payment

    def refund(self, req: RefundRequestBody) -> RefundStatusBody:
        known = self.refunds.get(req.refund_id)
        if known is not None:
            return known
        payment = self.payments.get(req.reference)
        if (payment is None or payment.status is not ProviderStatus.SUCCEEDED
                or self._refunded(req.reference) + req.amount > payment.amount):
            result = RefundStatusBody(refund_id=req.refund_id, status=RefundStatus.FAILED,
                                      failure_code="not_refundable")
        else:
            result = RefundStatusBody(refund_id=req.refund_id, status=RefundStatus.SUCCEEDED,
                                      transaction_id="RF" + secrets.token_hex(6).upper())
            self.refunded[req.refund_id] = (req.reference, req.amount)
        self.refunds[req.refund_id] = result
        return result

    def _refunded(self, reference: str) -> int:
        return sum(amount for ref, amount in self.refunded.values() if ref == reference)


def _signed_answer(standin: PaymentsStandin, target: str, payload: msgspec.Struct) -> Response[bytes]:
    body = msgspec.json.encode(payload)
    return Response(body, media_type="application/json", headers=answer_headers(standin.secret, target, body))


def _authentic(standin: PaymentsStandin, request: Request[Any, Any, Any], target: str, body: bytes) -> bool:
    try:
        signed_http.verify([standin.secret], target, {k.lower(): v for k, v in request.headers.items()}, body)
    except signed_http.SignatureError:
        return False
    return True


def payments_standin_router(standin: PaymentsStandin) -> Router:
    @post("/simulate", operation_id="devPaymentsSimulate", include_in_schema=False, status_code=200)
    async def simulate(request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            req = msgspec.json.decode(await request.body(), type=Simulate)
        except msgspec.DecodeError as exc:
            return Response({"error": str(exc)}, status_code=400)
        reference, amount = req.reference, req.amount
        if req.qr_payload:
            try:
                if not check_crc(req.qr_payload):
                    raise VietQrError("bad CRC")
                fields = parse_fields(req.qr_payload)
                reference = parse_fields(fields.get("62", "")).get("08")
                amount = int(fields["54"]) if "54" in fields else amount
            except (VietQrError, ValueError, KeyError):
                return Response({"error": "unreadable VietQR payload"}, status_code=400)
        if not reference or not amount or amount <= 0:
            return Response({"error": "reference and a positive amount are required"}, status_code=400)
        payment = standin.pay(reference, amount, req.payer_account)
        return Response({"reference": reference, "amount": amount, "transaction_id": payment.transaction_id,
                         "status": payment.status.value})

    @put("/behaviour", operation_id="devPaymentsBehaviour", include_in_schema=False, status_code=200)
    async def behaviour(request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            standin.behaviour = msgspec.json.decode(await request.body(), type=Behaviour)
        except msgspec.DecodeError as exc:
            return Response({"error": str(exc)}, status_code=400)
        return Response(msgspec.to_builtins(standin.behaviour))

    @get("/v1/payments/{reference:str}", operation_id="devPaymentsQuery", include_in_schema=False)
    async def query(request: Request[Any, Any, Any], reference: FromPath[str]) -> Response[Any]:
        target = f"GET /v1/payments/{reference}"
        if not _authentic(standin, request, target, b""):
            return Response({"error": "bad signature"}, status_code=401)
        p = standin.payments.get(reference)
        if p is None:
            return Response({"error": "not found"}, status_code=404)
        return _signed_answer(standin, target, PaymentStatusBody(
            reference=reference, status=p.status, amount=p.amount, currency="VND", transaction_id=p.transaction_id,
            bank_name=STANDIN_BANK, account_last_digits=p.payer_account[-4:]))

    @post("/v1/refunds", operation_id="devPaymentsRefund", include_in_schema=False, status_code=200)
    async def refund(request: Request[Any, Any, Any]) -> Response[Any]:
        body = await request.body()
        target = "POST /v1/refunds"
        if not _authentic(standin, request, target, body):
            return Response({"error": "bad signature"}, status_code=401)
        try:
            req = msgspec.json.decode(body, type=RefundRequestBody)
        except msgspec.DecodeError as exc:
            return Response({"error": str(exc)}, status_code=400)
        return _signed_answer(standin, target, standin.refund(req))

    @get("/deliveries", operation_id="devPaymentsDeliveries", include_in_schema=False)
    async def deliveries() -> list[dict[str, Any]]:
        return list(standin.deliveries)

    return Router(path=STANDIN_PATH, route_handlers=[simulate, behaviour, query, refund, deliveries])


def http_deliver(http: httpx.AsyncClient, webhook_url: str) -> Deliver:
    """Deliver notifications by POSTing them to our webhook, as the real bank does."""

    async def deliver(body: bytes, headers: dict[str, str]) -> int:
        resp = await http.post(webhook_url, content=body, headers={**headers, "content-type": "application/json"})
        return resp.status_code

    return deliver
