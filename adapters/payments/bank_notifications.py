"""VietQR as a payment provider: the citizen scans a NAPAS 247 QR into any banking app; our bank
(or, in development, the local stand-in) tells us of the incoming transfer with a signed
notification, answers signed status queries, and makes refunds.

Wire format of a notification body (JSON, signed per ``signed_http``):

    {"event_id": "...", "type": "payment.succeeded", "reference": "TDS…", "amount": 200000,
     "currency": "VND", "transaction_id": "FT26069…", "refund_id": null,
     "bank_name": "Vietcombank", "account_last_digits": "6789", "failure_code": null}

Only the display fields (bank name, last digits) of the payer's account are ever read.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import msgspec

from adapters.payments import signed_http
from adapters.payments.vietqr import build_payload
from domain.payments.errors import NotificationRejected, ProviderError, ProviderUnavailable
from domain.payments.model import (
    Checkout,
    CheckoutKind,
    EventType,
    Instrument,
    PaymentIntent,
    ProviderEvent,
    ProviderPayment,
    ProviderRefund,
    ProviderStatus,
    RawNotification,
    Refund,
    RefundStatus,
)

WEBHOOK_TARGET = "POST /payments/webhooks/vietqr"


class NotificationBody(msgspec.Struct, forbid_unknown_fields=True):
    event_id: str
    type: EventType
    reference: str
    amount: int
    currency: str
    transaction_id: str | None = None
    refund_id: uuid.UUID | None = None
    bank_name: str | None = None
    account_last_digits: str | None = None
    failure_code: str | None = None


class PaymentStatusBody(msgspec.Struct, forbid_unknown_fields=True):
    reference: str
    status: ProviderStatus
    amount: int | None = None
    currency: str | None = None
    transaction_id: str | None = None
    bank_name: str | None = None
    account_last_digits: str | None = None
    failure_code: str | None = None


class RefundRequestBody(msgspec.Struct, forbid_unknown_fields=True):
    refund_id: uuid.UUID
    reference: str
    transaction_id: str | None
    amount: int
    reason: str


class RefundStatusBody(msgspec.Struct, forbid_unknown_fields=True):
    refund_id: uuid.UUID
    status: RefundStatus
    transaction_id: str | None = None
    failure_code: str | None = None


@dataclass(frozen=True)
class VietQrConfig:
    bank_bin: str                      # the city's collecting account's bank (6-digit NAPAS BIN)
    account_number: str
    account_name: str
    bank_api_url: str                  # the bank's API (status queries, refunds)
    secrets: Sequence[bytes]           # shared HMAC secrets; the first signs
    replay_window_s: int = 300
    timeout_s: float = 10.0
    name: str = "vietqr"
    webhook_target: str = field(default=WEBHOOK_TARGET)


class VietQrProvider:
    def __init__(self, config: VietQrConfig, http: httpx.AsyncClient) -> None:
        if not config.secrets:
            raise ValueError("VietQR provider needs at least one secret")
        self.config = config
        self.name = config.name
        self.replay_window_s = config.replay_window_s
        self.http = http

    async def checkout(self, intent: PaymentIntent) -> Checkout:
        payload = build_payload(bank_bin=self.config.bank_bin, account=self.config.account_number,
                                amount=intent.amount, memo=intent.ref)
        return Checkout(kind=CheckoutKind.QR, qr_payload=payload, bank_bin=self.config.bank_bin,
                        account_name=self.config.account_name)

    def verify(self, raw: RawNotification) -> ProviderEvent:
        try:
            ts, nonce = signed_http.verify(self.config.secrets, self.config.webhook_target, raw.headers, raw.body)
        except signed_http.SignatureError as exc:
            raise NotificationRejected(exc.reason) from None
        try:
            body = msgspec.json.decode(raw.body, type=NotificationBody)
        except msgspec.DecodeError:
            raise NotificationRejected("malformed") from None
        if body.event_id != nonce:
            raise NotificationRejected("nonce_mismatch")
        return ProviderEvent(
            provider=self.name, event_id=nonce, sent_at=datetime.fromtimestamp(ts, UTC), type=body.type,
            intent_ref=body.reference, amount=body.amount, currency=body.currency,
            provider_ref=body.transaction_id, refund_id=body.refund_id,
            instrument=Instrument.display(body.bank_name, body.account_last_digits), failure_code=body.failure_code)

    async def _call(self, method: str, path: str, body: bytes, answer: type[msgspec.Struct]) -> msgspec.Struct:
        target = f"{method} {path}"
        headers = signed_http.sign(self.config.secrets[0], target, body)
        try:
            resp = await self.http.request(method, self.config.bank_api_url.rstrip("/") + path, content=body,
                                           headers={**headers, "content-type": "application/json"},
                                           timeout=self.config.timeout_s)
        except httpx.HTTPError:
            raise ProviderUnavailable() from None
        if resp.status_code >= 500 or resp.status_code == 429:
            raise ProviderUnavailable()
        if resp.status_code == 404:
            raise LookupError(path)
        if resp.status_code != 200:
            raise ProviderError(status=resp.status_code)
        try:
            # The answer is signed for the request it answers, so it cannot be swapped with another.
            signed_http.verify(self.config.secrets, "ANSWER " + target, {k.lower(): v for k, v in resp.headers.items()},
                               resp.content)
            return msgspec.json.decode(resp.content, type=answer)
        except (signed_http.SignatureError, msgspec.DecodeError):
            raise ProviderError(reason="unverified_answer") from None

    async def query(self, intent: PaymentIntent) -> ProviderPayment:
        try:
            got = await self._call("GET", f"/v1/payments/{intent.ref}", b"", PaymentStatusBody)
        except LookupError:
            return ProviderPayment(status=ProviderStatus.NOT_FOUND)
        assert isinstance(got, PaymentStatusBody)
        if got.reference != intent.ref:
            raise ProviderError(reason="wrong_reference")
        return ProviderPayment(status=got.status, amount=got.amount, currency=got.currency,
                               provider_ref=got.transaction_id, failure_code=got.failure_code,
                               instrument=Instrument.display(got.bank_name, got.account_last_digits))

    async def refund(self, intent: PaymentIntent, refund: Refund) -> ProviderRefund:
        body = msgspec.json.encode(RefundRequestBody(refund_id=refund.id, reference=intent.ref,
                                                     transaction_id=intent.provider_ref, amount=refund.amount,
                                                     reason=refund.reason))
        try:
            got = await self._call("POST", "/v1/refunds", body, RefundStatusBody)
        except LookupError:
            raise ProviderError(reason="refund_endpoint_missing") from None
        assert isinstance(got, RefundStatusBody)
        if got.refund_id != refund.id:
            raise ProviderError(reason="wrong_refund")
        return ProviderRefund(status=got.status, provider_ref=got.transaction_id, failure_code=got.failure_code)


def answer_headers(secret: bytes, request_target: str, body: bytes) -> dict[str, str]:
    """Headers with which the bank (stand-in) signs its answer to ``request_target``."""
    return signed_http.sign(secret, "ANSWER " + request_target, body)
