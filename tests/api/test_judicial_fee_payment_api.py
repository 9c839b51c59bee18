"""A judicial request's postage paid through the payments context over HTTP: submitting with postal
delivery opens a VietQR intent, the local bank pays it, the request shows it paid and can be issued;
withdrawing an unpaid request cancels its intent and staff see the fee lapsed; nobody else sees it."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.support.auth import Session, login, login_staff

R = "/api/v1/judicial/requests"
S = "/api/v1/staff/judicial"
POLICE = "CA-TP"  # the issuing authority from 1 July 2026 (the app's clock is today)
HANOI = {"text": "Số 5 phố Lý Thái Tổ, phường Hoàn Kiếm, Hà Nội", "province_code": "01"}


def _ok(r: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    return r.json()  # type: ignore[no-any-return]


def _submitted_by_post(http: httpx.Client, who: Session) -> dict[str, Any]:
    draft = _ok(http.post(R, json={
        "purpose": "Xin việc", "copies": 1, "delivery": "post", "postal_address": HANOI,
        "applicant": {"sex": "male", "father": {"full_name": "Nguyễn Văn Bình", "birth_year": 1960},
                      "mother": {"full_name": "Lê Thị Cúc", "birth_year": 1962}},
        "residence_history": [{"from_month": "2004-05", "address": HANOI, "occupation": "Kỹ sư"}]},
        headers=who.headers), 201)
    return _ok(http.post(f"{R}/{draft['id']}/submit", json={}, headers=who.headers))


def _view(http: httpx.Client, who: Session, rid: str) -> dict[str, Any]:
    return _ok(http.get(f"{R}/{rid}", headers=who.headers))


def _paid(http: httpx.Client, who: Session, rid: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        view = _view(http, who, rid)
        if view["fee_payment"]["status"] == "paid" or time.monotonic() > deadline:
            return view
        time.sleep(0.05)


def test_postage_is_paid_by_vietqr_then_the_request_can_be_issued(http: httpx.Client, database_url: str) -> None:
    me, other = login(http), login(http)
    boss = login_staff(http, database_url, POLICE, "supervisor")
    r = _submitted_by_post(http, me)
    due = r["fee"]["amount_due"]
    assert due > 0  # postage is always the citizen's
    fee = r["fee_payment"]
    assert fee["status"] == "pending"
    assert fee["amount"] == due
    intent = fee["intent"]
    assert intent["status"] == "requires_payment"
    assert intent["amount"] == due
    assert intent["purpose"] == "judicial.fee"
    assert intent["object_id"] == r["id"]
    assert intent["checkout"]["kind"] == "qr"
    assert intent["checkout"]["qr_payload"].startswith("000201")  # EMVCo / VietQR
    # The same intent through the payments API; nobody else sees it or the request.
    assert _ok(http.get(f"/api/v1/payments/intents/{intent['id']}", headers=me.headers))["id"] == intent["id"]
    assert http.get(f"/api/v1/payments/intents/{intent['id']}", headers=other.headers).status_code == 404
    assert http.get(f"{R}/{r['id']}", headers=other.headers).status_code == 404
    # Unpaid, the authority cannot issue.
    for action in ("receive", "verify", "approve"):
        _ok(http.post(f"{S}/requests/{r['id']}/{action}", json={}, headers=boss.headers))
    unpaid = http.post(f"{S}/requests/{r['id']}/issue", json={}, headers=boss.headers)
    assert unpaid.status_code == 409, unpaid.text
    assert unpaid.json()["code"] == "judicial.fee_unpaid"
    # The citizen scans the QR; the (stand-in) bank notifies our webhook.
    _ok(http.post("/dev/payments/simulate", json={"qr_payload": intent["checkout"]["qr_payload"]}))
    paid = _paid(http, me, r["id"])
    assert paid["fee_payment"]["status"] == "paid"
    assert paid["fee_payment"]["intent"]["status"] == "succeeded"
    assert paid["fee_payment"]["intent"]["checkout"] is None
    staff_view = _ok(http.get(f"{S}/requests/{r['id']}", headers=boss.headers))
    assert staff_view["fee_payment"]["status"] == "paid"
    assert "intent" not in staff_view["fee_payment"]
    issued = _ok(http.post(f"{S}/requests/{r['id']}/issue", json={}, headers=boss.headers))
    assert issued["status"] == "issued"


def test_withdrawing_cancels_the_unpaid_intent_and_staff_see_it_lapsed(http: httpx.Client,
                                                                        database_url: str) -> None:
    me = login(http)
    boss = login_staff(http, database_url, POLICE, "supervisor")
    r = _submitted_by_post(http, me)
    intent_id = r["fee_payment"]["intent"]["id"]
    bad = http.post(f"{R}/{r['id']}/withdraw", json={"reason": 5}, headers=me.headers)
    assert 400 <= bad.status_code < 500
    assert _view(http, me, r["id"])["fee_payment"]["status"] == "pending"  # a refused call changed nothing
    withdrawn = _ok(http.post(f"{R}/{r['id']}/withdraw", json={"reason": "Không cần nữa"}, headers=me.headers))
    assert withdrawn["status"] == "withdrawn"
    view = _view(http, me, r["id"])
    assert view["fee_payment"]["status"] == "lapsed"
    assert view["fee_payment"]["intent"]["status"] == "canceled"
    assert view["fee_payment"]["intent"]["checkout"] is None
    assert _ok(http.get(f"/api/v1/payments/intents/{intent_id}", headers=me.headers))["status"] == "canceled"
    assert _ok(http.get(f"{S}/requests/{r['id']}", headers=boss.headers))["fee_payment"]["status"] == "lapsed"


def test_nothing_owed_opens_no_payment(http: httpx.Client) -> None:
    me = login(http)
    draft = _ok(http.post(R, json={
        "purpose": "Xin việc", "applicant": {"sex": "male", "father": {"full_name": "Nguyễn Văn Bình"},
                                             "mother": {"full_name": "Lê Thị Cúc"}},
        "residence_history": [{"from_month": "2004-05", "address": HANOI}]}, headers=me.headers), 201)
    r = _ok(http.post(f"{R}/{draft['id']}/submit", json={}, headers=me.headers))
    assert r["fee"]["amount_due"] == 0  # electronic delivery: the city's support covers the fee
    assert r["fee_payment"] is None
    assert _view(http, me, r["id"])["fee_payment"] is None
