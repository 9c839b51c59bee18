"""The VNPay-style gateway adapter: signed redirect, IPN verification, signed querydr and refund."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from adapters.payments.vnpay import VnPayConfig, VnPayProvider, ipn_answer
from domain.payments.errors import NotificationRejected, ProviderError
from domain.payments.intents import CreateIntent, CreatePaymentIntent
from domain.payments.model import (
    EventType,
    IntentStatus,
    Outcome,
    PaymentIntent,
    ProviderStatus,
    RawNotification,
    Refund,
    RefundStatus,
)
from domain.payments.notify import HandleNotification
from tests.support.payments import FakeDb, FakeProviders, FixedClock, RecordingHandler

SECRET = b"VNPAYTESTSECRET0123456789ABCDEF"
API = "https://sandbox.vnpayment.example/merchant_webapi/api/transaction"
CONFIG = VnPayConfig(tmn_code="THUDO001", hash_secret=SECRET, pay_url="https://sandbox.vnpayment.example/pay",
                     api_url=API, return_url="https://app.thudo.example/pay/return")


def sign_like_vnpay(params: dict[str, str]) -> str:
    """VNPay's merchant sample: urlencode the sorted parameters, HMAC-SHA512 with the hash secret."""
    data = urllib.parse.urlencode(sorted((k, v) for k, v in params.items() if v))
    return hmac.new(SECRET, data.encode(), hashlib.sha512).hexdigest()


def _intent(amount: int = 150_000) -> PaymentIntent:
    now = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
    return PaymentIntent(id=uuid.uuid4(), ref="TDSVNPAYREF2345", owner_id=uuid.uuid4(), purpose="transit.pass",
                         object_id="p1", amount=amount, description="Ve thang tuyen 32", provider="vnpay",
                         status=IntentStatus.REQUIRES_PAYMENT, created_at=now, updated_at=now,
                         expires_at=now + timedelta(minutes=15), provider_ref="14422574", paid_at=now)


def ipn(intent: PaymentIntent, *, code: str = "00", amount: int | None = None, pay_date: str = "20260310100500",
        tmn: str = "THUDO001") -> dict[str, str]:
    params = {"vnp_Amount": str((intent.amount if amount is None else amount) * 100), "vnp_BankCode": "NCB",
              "vnp_BankTranNo": "VNP14422574", "vnp_CardType": "ATM", "vnp_OrderInfo": intent.description,
              "vnp_PayDate": pay_date, "vnp_ResponseCode": code, "vnp_TmnCode": tmn,
              "vnp_TransactionNo": "14422574", "vnp_TransactionStatus": code, "vnp_TxnRef": intent.ref}
    return {**params, "vnp_SecureHashType": "HmacSHA512", "vnp_SecureHash": sign_like_vnpay(params)}


def raw(query: dict[str, str]) -> RawNotification:
    return RawNotification(body=b"", headers={}, query=query)


async def test_checkout_url_is_signed_as_vnpay_checks_it() -> None:
    checkout = await VnPayProvider(CONFIG, httpx.AsyncClient()).checkout(_intent())
    assert checkout.url is not None
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(checkout.url).query))
    given = query.pop("vnp_SecureHash")
    assert given == sign_like_vnpay(query)
    assert query["vnp_Amount"] == "15000000"
    assert query["vnp_TxnRef"] == "TDSVNPAYREF2345"
    assert query["vnp_CreateDate"] == "20260310100000"   # GMT+7
    assert query["vnp_ExpireDate"] == "20260310101500"


def test_ipn_verification() -> None:
    provider = VnPayProvider(CONFIG, httpx.AsyncClient())
    intent = _intent()
    event = provider.verify(raw(ipn(intent)))
    assert event.type is EventType.PAYMENT_SUCCEEDED
    assert (event.intent_ref, event.amount, event.provider_ref) == (intent.ref, 150_000, "14422574")
    assert event.sent_at == datetime(2026, 3, 10, 3, 5, tzinfo=UTC)
    assert event.event_id == provider.verify(raw(ipn(intent))).event_id   # a retry is the same nonce
    failed = provider.verify(raw(ipn(intent, code="24")))
    assert failed.type is EventType.PAYMENT_FAILED
    assert failed.failure_code == "vnpay_24"
    tampered = {**ipn(intent), "vnp_Amount": "100"}
    for query, reason in [(tampered, "bad_signature"),
                          ({k: v for k, v in ipn(intent).items() if k != "vnp_SecureHash"}, "unsigned"),
                          (ipn(intent, tmn="OTHER"), "wrong_merchant"),
                          (ipn(intent, pay_date="yesterday"), "malformed")]:
        with pytest.raises(NotificationRejected) as err:
            provider.verify(raw(query))
        assert err.value.reason == reason


async def test_ipn_through_the_use_case_and_vnpay_answers() -> None:
    clock = FixedClock(datetime(2026, 3, 10, 3, 6, tzinfo=UTC))
    handler = RecordingHandler()
    db = FakeDb({"transit.pass": handler})
    providers = FakeProviders(VnPayProvider(CONFIG, httpx.AsyncClient()))
    async with db() as store:
        view = await CreatePaymentIntent(store.intents, providers, clock, default_provider="vnpay").execute(
            CreateIntent(owner_id=uuid.uuid4(), purpose="transit.pass", object_id="p", amount=150_000,
                         description="Ve thang"))
    handle = HandleNotification(db, providers, clock)
    assert ipn_answer((await handle.execute("vnpay", raw(ipn(view.intent, amount=1)))).value)["RspCode"] == "04"
    outcome = await handle.execute("vnpay", raw(ipn(view.intent)))
    assert outcome is Outcome.APPLIED
    assert ipn_answer(outcome.value) == {"RspCode": "00", "Message": "Confirm Success"}
    assert ipn_answer((await handle.execute("vnpay", raw(ipn(view.intent)))).value)["RspCode"] == "02"
    assert handler.names() == ["paid"]
    assert ipn_answer("payments.notification_rejected")["RspCode"] == "97"
    clock.advance(days=2)   # outside VNPay's 24 h window
    with pytest.raises(NotificationRejected):
        await handle.execute("vnpay", raw(ipn(view.intent, pay_date="20260310100501")))


def _pipe_hash(body: dict[str, str], order: list[str]) -> str:
    return hmac.new(SECRET, "|".join(body.get(k, "") for k in order).encode(), hashlib.sha512).hexdigest()


QUERY_REQ = ["vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TxnRef", "vnp_TransactionDate",
             "vnp_CreateDate", "vnp_IpAddr", "vnp_OrderInfo"]
ANSWER = ["vnp_ResponseId", "vnp_Command", "vnp_ResponseCode", "vnp_Message", "vnp_TmnCode", "vnp_TxnRef",
          "vnp_Amount", "vnp_BankCode", "vnp_PayDate", "vnp_TransactionNo", "vnp_TransactionType",
          "vnp_TransactionStatus", "vnp_OrderInfo", "vnp_PromotionCode", "vnp_PromotionAmount"]
REFUND_REQ = ["vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TransactionType", "vnp_TxnRef",
              "vnp_Amount", "vnp_TransactionNo", "vnp_TransactionDate", "vnp_CreateBy", "vnp_CreateDate",
              "vnp_IpAddr", "vnp_OrderInfo"]


def _answer(fields: dict[str, str], order: list[str], secret_ok: bool = True) -> httpx.Response:
    body = {"vnp_ResponseId": "r1", "vnp_TmnCode": "THUDO001", **fields}
    body["vnp_SecureHash"] = _pipe_hash(body, order) if secret_ok else "00" * 64
    return httpx.Response(200, json=body)


@respx.mock
async def test_querydr_is_signed_both_ways() -> None:
    intent = _intent()
    sent: list[dict[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        sent.append(body)
        return _answer({"vnp_Command": "querydr", "vnp_ResponseCode": "00", "vnp_Message": "ok",
                        "vnp_TxnRef": intent.ref, "vnp_Amount": "15000000", "vnp_BankCode": "NCB",
                        "vnp_TransactionNo": "14422574", "vnp_TransactionStatus": "00"}, ANSWER)

    respx.post(API).mock(side_effect=answer)
    got = await VnPayProvider(CONFIG, httpx.AsyncClient()).query(intent)
    assert (got.status, got.amount, got.provider_ref) == (ProviderStatus.SUCCEEDED, 150_000, "14422574")
    assert sent[0]["vnp_SecureHash"] == _pipe_hash(sent[0], QUERY_REQ)
    respx.post(API).mock(return_value=_answer({"vnp_ResponseCode": "00", "vnp_TransactionStatus": "00",
                                               "vnp_Amount": "15000000"}, ANSWER, secret_ok=False))
    with pytest.raises(ProviderError):
        await VnPayProvider(CONFIG, httpx.AsyncClient()).query(intent)
    respx.post(API).mock(return_value=_answer({"vnp_ResponseCode": "91"}, ANSWER))
    assert (await VnPayProvider(CONFIG, httpx.AsyncClient()).query(intent)).status is ProviderStatus.NOT_FOUND


@respx.mock
async def test_refund_is_signed_and_partial_or_full() -> None:
    intent = _intent()
    now = datetime(2026, 3, 11, tzinfo=UTC)
    sent: list[dict[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        sent.append(body)
        return _answer({"vnp_Command": "refund", "vnp_ResponseCode": "00", "vnp_TxnRef": intent.ref,
                        "vnp_TransactionNo": "RF77"}, ANSWER[:13])

    respx.post(API).mock(side_effect=answer)
    provider = VnPayProvider(CONFIG, httpx.AsyncClient())
    for amount, kind in [(50_000, "03"), (150_000, "02")]:
        refund = Refund(id=uuid.uuid4(), intent_id=intent.id, key="k", amount=amount, reason="r",
                        status=RefundStatus.PENDING, requested_by=None, created_at=now, updated_at=now)
        result = await provider.refund(intent, refund)
        assert (result.status, result.provider_ref) == (RefundStatus.SUCCEEDED, "RF77")
        assert sent[-1]["vnp_TransactionType"] == kind
        assert sent[-1]["vnp_Amount"] == str(amount * 100)
        assert sent[-1]["vnp_RequestId"] == refund.id.hex
        assert sent[-1]["vnp_SecureHash"] == _pipe_hash(sent[-1], REFUND_REQ)
    respx.post(API).mock(return_value=_answer({"vnp_Command": "refund", "vnp_ResponseCode": "02"}, ANSWER[:13]))
    refused = await provider.refund(intent, refund)
    assert (refused.status, refused.failure_code) == (RefundStatus.FAILED, "vnpay_02")
