"""A VNPay-style card/e-wallet gateway: redirect to the gateway's page, IPN (server-to-server
notification) signed with HMAC-SHA512 over the sorted, URL-encoded parameters, and the gateway's
``querydr`` (status) and ``refund`` APIs whose requests and answers are signed over fields joined
by ``|`` in a fixed order. Amounts travel ×100 (``vnp_Amount``), times as yyyyMMddHHmmss in GMT+7.

The citizen's return URL is never trusted: only a verified IPN or a verified ``querydr`` answer
settles an intent.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from domain.payments.errors import NotificationRejected, ProviderError, ProviderUnavailable
from domain.payments.model import (
    CURRENCY,
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
from domain.shared.time import HANOI

VERSION = "2.1.0"
_HASH_FIELDS = ("vnp_SecureHash", "vnp_SecureHashType")
_QUERY_ANSWER = ("vnp_ResponseId", "vnp_Command", "vnp_ResponseCode", "vnp_Message", "vnp_TmnCode", "vnp_TxnRef",
                 "vnp_Amount", "vnp_BankCode", "vnp_PayDate", "vnp_TransactionNo", "vnp_TransactionType",
                 "vnp_TransactionStatus", "vnp_OrderInfo", "vnp_PromotionCode", "vnp_PromotionAmount")
_REFUND_ANSWER = _QUERY_ANSWER[:13]


@dataclass(frozen=True)
class VnPayConfig:
    tmn_code: str
    hash_secret: bytes
    pay_url: str
    api_url: str
    return_url: str
    # VNPay retries an unanswered IPN for a while; its signed time is the payment time (vnp_PayDate).
    replay_window_s: int = 86_400
    timeout_s: float = 10.0
    server_ip: str = "127.0.0.1"
    name: str = "vnpay"


def vnp_time(at: datetime) -> str:
    return at.astimezone(HANOI).strftime("%Y%m%d%H%M%S")


def parse_vnp_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=HANOI)


def canonical_query(params: Mapping[str, str]) -> str:
    """The signed string: non-empty vnp_* parameters, sorted, ``quote_plus``-encoded, joined by ``&``."""
    return "&".join(f"{k}={urllib.parse.quote_plus(str(v))}" for k, v in sorted(params.items())
                    if v != "" and k.startswith("vnp_") and k not in _HASH_FIELDS)


def hmac512(secret: bytes, data: str) -> str:
    return hmac.new(secret, data.encode(), hashlib.sha512).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.lower().encode(), expected.encode())


# IPN answers VNPay expects (RspCode), by what we did with the notification.
IPN_ANSWERS = {
    "applied": ("00", "Confirm Success"), "stale": ("00", "Confirm Success"),
    "late_payment": ("00", "Confirm Success"), "unknown_refund": ("00", "Confirm Success"),
    "duplicate": ("02", "Order already confirmed"), "amount_mismatch": ("04", "Invalid amount"),
    "payments.notification_unknown_intent": ("01", "Order not found"),
    "payments.notification_rejected": ("97", "Invalid signature"),
}


def ipn_answer(outcome_or_code: str) -> dict[str, str]:
    code, message = IPN_ANSWERS.get(outcome_or_code, ("99", "Unknown error"))
    return {"RspCode": code, "Message": message}


class VnPayProvider:
    def __init__(self, config: VnPayConfig, http: httpx.AsyncClient) -> None:
        self.config = config
        self.name = config.name
        self.replay_window_s = config.replay_window_s
        self.http = http

    async def checkout(self, intent: PaymentIntent) -> Checkout:
        c = self.config
        params = {
            "vnp_Version": VERSION, "vnp_Command": "pay", "vnp_TmnCode": c.tmn_code,
            "vnp_Amount": str(intent.amount * 100), "vnp_CurrCode": CURRENCY, "vnp_TxnRef": intent.ref,
            "vnp_OrderInfo": intent.description or intent.ref, "vnp_OrderType": "other", "vnp_Locale": "vn",
            "vnp_ReturnUrl": c.return_url, "vnp_IpAddr": c.server_ip, "vnp_CreateDate": vnp_time(intent.updated_at),
            "vnp_ExpireDate": vnp_time(intent.expires_at),
        }
        query = canonical_query(params)
        return Checkout(kind=CheckoutKind.REDIRECT,
                        url=f"{c.pay_url}?{query}&vnp_SecureHash={hmac512(c.hash_secret, query)}")

    def verify(self, raw: RawNotification) -> ProviderEvent:
        p = raw.query
        given = p.get("vnp_SecureHash", "")
        if not given:
            raise NotificationRejected("unsigned")
        signed = canonical_query(p)
        if not _same(given, hmac512(self.config.hash_secret, signed)):
            raise NotificationRejected("bad_signature")
        if p.get("vnp_TmnCode") != self.config.tmn_code:
            raise NotificationRejected("wrong_merchant")
        try:
            amount_x100 = int(p["vnp_Amount"])
            paid_at = parse_vnp_time(p["vnp_PayDate"])
            ref = p["vnp_TxnRef"]
        except (KeyError, ValueError):
            raise NotificationRejected("malformed") from None
        if amount_x100 % 100:
            raise NotificationRejected("malformed")
        ok = p.get("vnp_ResponseCode") == "00" and p.get("vnp_TransactionStatus") == "00"
        return ProviderEvent(
            provider=self.name,
            # VNPay repeats the very same IPN when it retries: the signed content is the nonce.
            event_id=hashlib.sha256(signed.encode()).hexdigest()[:40], sent_at=paid_at,
            type=EventType.PAYMENT_SUCCEEDED if ok else EventType.PAYMENT_FAILED, intent_ref=ref,
            amount=amount_x100 // 100, currency=CURRENCY, provider_ref=p.get("vnp_TransactionNo") or None,
            instrument=Instrument.display(p.get("vnp_BankCode"), None),
            failure_code=None if ok else f"vnpay_{p.get('vnp_ResponseCode', '')[:4]}")

    async def _api(self, body: dict[str, str], answer_fields: tuple[str, ...]) -> dict[str, str]:
        try:
            resp = await self.http.post(self.config.api_url, json=body, timeout=self.config.timeout_s)
        except httpx.HTTPError:
            raise ProviderUnavailable() from None
        if resp.status_code >= 500 or resp.status_code == 429:
            raise ProviderUnavailable()
        try:
            data: Any = resp.json()
        except ValueError:
            raise ProviderError(reason="malformed_answer") from None
        if resp.status_code != 200 or not isinstance(data, dict):
            raise ProviderError(status=resp.status_code)
        answer = {k: str(v) for k, v in data.items() if v is not None}
        expected = hmac512(self.config.hash_secret, "|".join(answer.get(k, "") for k in answer_fields))
        if not _same(answer.get("vnp_SecureHash", ""), expected):
            raise ProviderError(reason="unverified_answer")
        if answer.get("vnp_TmnCode") != self.config.tmn_code:
            raise ProviderError(reason="wrong_merchant")
        return answer

    def _request(self, command: str, request_id: str, fields: list[tuple[str, str]], now: datetime) -> dict[str, str]:
        c = self.config
        body = {"vnp_RequestId": request_id, "vnp_Version": VERSION, "vnp_Command": command, "vnp_TmnCode": c.tmn_code,
                **dict(fields), "vnp_CreateDate": vnp_time(now), "vnp_IpAddr": c.server_ip}
        order = ["vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", *(k for k, _ in fields),
                 "vnp_CreateDate", "vnp_IpAddr", "vnp_OrderInfo"]
        body.setdefault("vnp_OrderInfo", command)
        body["vnp_SecureHash"] = hmac512(c.hash_secret, "|".join(body[k] for k in order))
        return body

    async def query(self, intent: PaymentIntent) -> ProviderPayment:
        now = datetime.now(HANOI)
        body = self._request("querydr", uuid.uuid4().hex, [("vnp_TxnRef", intent.ref),
                                                            ("vnp_TransactionDate", vnp_time(intent.updated_at))], now)
        a = await self._api(body, _QUERY_ANSWER)
        if a.get("vnp_TxnRef") not in (None, intent.ref):
            raise ProviderError(reason="wrong_reference")
        code, status = a.get("vnp_ResponseCode"), a.get("vnp_TransactionStatus")
        if code == "91":
            return ProviderPayment(status=ProviderStatus.NOT_FOUND)
        if code != "00":
            raise ProviderError(reason=f"vnpay_{(code or '')[:4]}")
        amount = int(a["vnp_Amount"]) // 100 if a.get("vnp_Amount", "").isdigit() else None
        mapped = {"00": ProviderStatus.SUCCEEDED, "01": ProviderStatus.PENDING}.get(status or "",
                                                                                 ProviderStatus.FAILED)
        return ProviderPayment(status=mapped, amount=amount, currency=CURRENCY,
                               provider_ref=a.get("vnp_TransactionNo") or None,
                               instrument=Instrument.display(a.get("vnp_BankCode"), None),
                               failure_code=None if mapped is not ProviderStatus.FAILED else f"vnpay_{status}")

    async def refund(self, intent: PaymentIntent, refund: Refund) -> ProviderRefund:
        now = datetime.now(HANOI)
        kind = "02" if refund.amount == intent.amount else "03"   # full / partial
        body = self._request("refund", refund.id.hex, [
            ("vnp_TransactionType", kind), ("vnp_TxnRef", intent.ref), ("vnp_Amount", str(refund.amount * 100)),
            ("vnp_TransactionNo", intent.provider_ref or ""),
            ("vnp_TransactionDate", vnp_time(intent.paid_at or intent.updated_at)), ("vnp_CreateBy", "thudo")], now)
        a = await self._api(body, _REFUND_ANSWER)
        code = a.get("vnp_ResponseCode")
        if code == "00":
            return ProviderRefund(status=RefundStatus.SUCCEEDED, provider_ref=a.get("vnp_TransactionNo") or None)
        if code == "94":  # a refund for this request is already being processed
            return ProviderRefund(status=RefundStatus.PENDING)
        return ProviderRefund(status=RefundStatus.FAILED, failure_code=f"vnpay_{(code or '')[:4]}")
