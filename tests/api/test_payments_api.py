"""Payments over HTTP: a pass bought and paid through the local bank end to end, the bank's signed
notifications (forged, replayed, repeated, out of order), and my payments scoped to me."""

from __future__ import annotations

import io
import time
import uuid
from typing import Any

import httpx
import PIL.Image
import zxingcpp

from api.payments.wiring import WEBHOOK_PATH
from domain.payments.model import EventType
from tests.support.auth import Session, login
from tests.support.payments import notify as _notify
from tests.support.transit_api import buy, open_card


def _order(http: httpx.Client, citizen: Session) -> dict[str, Any]:
    r = buy(http, citizen, open_card(http, citizen)["id"])
    assert r.status_code == 201, r.text
    return dict(r.json())


def _intent(http: httpx.Client, citizen: Session, intent_id: str) -> httpx.Response:
    return http.get(f"/api/v1/payments/intents/{intent_id}", headers=citizen.headers)


def _wait_for(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def test_a_pass_paid_by_scanning_the_vietqr_is_issued(http: httpx.Client) -> None:
    citizen, other = login(http), login(http)
    order = _order(http, citizen)
    intent = _intent(http, citizen, order["payment_intent_id"])
    assert intent.status_code == 200, intent.text
    assert intent.json()["status"] == "requires_payment"
    assert intent.json()["checkout"]["qr_payload"] == order["checkout"]["qr_payload"]
    image = http.get(intent.json()["qr_image_url"], headers=citizen.headers)
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert zxingcpp.read_barcodes(PIL.Image.open(io.BytesIO(image.content)))[0].text == order["checkout"]["qr_payload"]
    assert http.get(intent.json()["qr_image_url"], headers=other.headers).status_code == 404
    # The citizen's banking app scans the QR; the (stand-in) bank notifies our webhook.
    paid = http.post("/dev/payments/simulate", json={"qr_payload": order["checkout"]["qr_payload"]})
    assert paid.status_code == 200, paid.text
    passes = _wait_for(lambda: http.get("/api/v1/transit/passes", headers=citizen.headers).json()["items"])
    assert len(passes) == 1
    after = _intent(http, citizen, order["payment_intent_id"]).json()
    assert after["status"] == "succeeded"
    assert after["checkout"] is None
    assert after["paid_at"]
    assert after["qr_image_url"] is None
    nothing = http.get(intent.json()["qr_image_url"], headers=citizen.headers)
    assert nothing.status_code == 409
    assert nothing.json()["code"] == "payments.nothing_to_pay"
    assert all(d["status"] == 200 for d in http.get("/dev/payments/deliveries").json()[:2])
    # Someone else's payment does not exist for them; a malformed id is a 4xx problem.
    assert _intent(http, other, order["payment_intent_id"]).status_code == 404
    bad = _intent(http, citizen, "not-a-uuid")
    assert 400 <= bad.status_code < 500
    assert http.get(f"/api/v1/payments/intents/{order['payment_intent_id']}").status_code == 401


def test_forged_and_replayed_notifications_change_nothing(http: httpx.Client) -> None:
    citizen = login(http)
    order = _order(http, citizen)
    ref, amount = order["payment_ref"], _intent(http, citizen, order["payment_intent_id"]).json()["amount"]
    forged = _notify(http, ref, amount, secret=b"not-the-bank")
    assert forged.status_code == 401
    assert forged.headers["content-type"].startswith("application/problem+json")
    assert forged.json()["code"] == "payments.notification_rejected"
    old = _notify(http, ref, amount, timestamp=int(time.time()) - 3600)  # authentic, but an hour old
    assert old.status_code == 401
    unsigned = http.post(WEBHOOK_PATH, content=b"{}", headers={"content-type": "application/json"})
    assert unsigned.status_code == 401
    assert _intent(http, citizen, order["payment_intent_id"]).json()["status"] == "requires_payment"
    assert http.get("/api/v1/transit/passes", headers=citizen.headers).json()["items"] == []


def test_a_notification_twice_and_older_news_after_newer_apply_once(http: httpx.Client) -> None:
    citizen = login(http)
    order = _order(http, citizen)
    ref, amount = order["payment_ref"], _intent(http, citizen, order["payment_intent_id"]).json()["amount"]
    event = uuid.uuid4().hex
    first = _notify(http, ref, amount, event_id=event)
    assert first.status_code == 200, first.text
    assert first.json() == {"received": True, "outcome": "applied"}
    assert _notify(http, ref, amount, event_id=event).json()["outcome"] == "duplicate"
    late = _notify(http, ref, amount, EventType.PAYMENT_PROCESSING)  # sent before "succeeded", arrives after
    assert late.json()["outcome"] == "stale"
    assert _intent(http, citizen, order["payment_intent_id"]).json()["status"] == "succeeded"
    assert len(http.get("/api/v1/transit/passes", headers=citizen.headers).json()["items"]) == 1
    unknown = _notify(http, "TDS" + uuid.uuid4().hex[:10].upper(), amount)
    assert unknown.status_code == 404


def test_my_payments_are_listed_newest_first_and_only_mine(http: httpx.Client) -> None:
    citizen, other = login(http), login(http)
    first, second = _order(http, citizen), _order(http, citizen)
    page = http.get("/api/v1/payments/intents?limit=1", headers=citizen.headers)
    assert page.status_code == 200, page.text
    assert [p["id"] for p in page.json()["items"]] == [second["payment_intent_id"]]
    assert page.json()["items"][0]["checkout"]["qr_payload"] == second["checkout"]["qr_payload"]
    rest = http.get("/api/v1/payments/intents", params={"limit": 1, "cursor": page.json()["next_cursor"]},
                    headers=citizen.headers).json()
    assert [p["id"] for p in rest["items"]] == [first["payment_intent_id"]]
    assert rest["next_cursor"] is None
    assert http.get("/api/v1/payments/intents", headers=other.headers).json() == {"items": [], "next_cursor": None}
    bad_cursor = http.get("/api/v1/payments/intents?cursor=%%%", headers=citizen.headers)
    assert bad_cursor.status_code == 422
    assert bad_cursor.headers["content-type"].startswith("application/problem+json")
    assert http.get("/api/v1/payments/intents?limit=0", headers=citizen.headers).status_code == 422
    assert http.get("/api/v1/payments/intents").status_code == 401


def test_the_webhook_is_not_in_the_app_contract(http: httpx.Client) -> None:
    paths = http.get("/schema/openapi.json").json()["paths"]
    assert not any(p.startswith(WEBHOOK_PATH) or p.startswith("/dev/") for p in paths)
    assert "/api/v1/payments/intents/{intent_id}" in paths
    assert "/api/v1/payments/intents" in paths
