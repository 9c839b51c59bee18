"""Validator tap uploads (idempotent, late and out of order), paper tickets sold at a counter
(PNG and SVG, single use across stations), and concession documents verified by staff."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from adapters.transit_crypto.offline import OfflineVerifier, keys_from_json
from domain.transit.codes import Direction, Network, Rejection
from domain.transit.validation import Gate
from tests.support.auth import client_token, login, login_staff
from tests.support.transit_api import METRO_SINGLE, b64u, decode_png, paid_pass

PNG_1PX = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
                           "AAAABJRU5ErkJggg==")


def _tap(pass_id: str, *, minutes_ago: int, direction: str, stop: str) -> dict[str, Any]:
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return {"id": str(uuid.uuid4()), "medium": "pass", "subject_id": pass_id, "direction": direction,
            "network": 2, "route": 3, "stop": stop, "occurred_at": at.isoformat(),
            "code_timestamp": int(at.timestamp()), "counter": minutes_ago, "accepted": True}


def test_tap_batch_is_idempotent_and_accepts_late_out_of_order_taps(http: httpx.Client, database_url: str) -> None:
    citizen = login(http)
    pass_id = paid_pass(http, database_url, citizen)
    gate = client_token(http, database_url, "validator")
    # Exit uploaded before the entry, both hours late.
    taps = [_tap(pass_id, minutes_ago=100, direction="out", stop="L3-07"),
            _tap(pass_id, minutes_ago=130, direction="in", stop="L3-02")]
    first = http.post("/api/v1/transit/validator/taps", json={"taps": taps}, headers=gate.headers)
    assert first.status_code == 200, first.text
    assert first.json() == {"received": 2, "inserted": 2}
    # The response was lost: the gate retries the same batch (with and without the same key).
    retry = http.post("/api/v1/transit/validator/taps", json={"taps": taps}, headers=gate.headers)
    assert retry.json() == {"received": 2, "inserted": 0}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    third = [_tap(pass_id, minutes_ago=5, direction="in", stop="L3-01")]
    a = http.post("/api/v1/transit/validator/taps", json={"taps": third}, headers={**gate.headers, **key})
    b = http.post("/api/v1/transit/validator/taps", json={"taps": third}, headers={**gate.headers, **key})
    assert a.json() == b.json() == {"received": 1, "inserted": 1}
    assert b.headers.get("Idempotent-Replayed") == "true"
    trips = http.get("/api/v1/transit/trips", headers=citizen.headers).json()["items"]
    assert [(t["boarded_stop"], t["alighted_stop"]) for t in trips] == [("L3-01", None), ("L3-02", "L3-07")]


def test_bad_tap_batches_are_refused_whole(http: httpx.Client, database_url: str) -> None:
    citizen = login(http)
    pass_id = paid_pass(http, database_url, citizen)
    gate = client_token(http, database_url, "validator")
    good = _tap(pass_id, minutes_ago=3, direction="in", stop="L3-01")
    future = {**_tap(pass_id, minutes_ago=0, direction="in", stop="L3-01"),
              "occurred_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}
    r = http.post("/api/v1/transit/validator/taps", json={"taps": [good, future]}, headers=gate.headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "taps[1].occurred_at"
    rejected_without_reason = {**good, "id": str(uuid.uuid4()), "accepted": False}
    r = http.post("/api/v1/transit/validator/taps", json={"taps": [rejected_without_reason]}, headers=gate.headers)
    assert r.status_code == 422
    r = http.post("/api/v1/transit/validator/taps", json={"taps": []}, headers=gate.headers)
    assert r.status_code == 422
    r = http.post("/api/v1/transit/validator/taps", json={"taps": [{**good, "stop": "x" * 100}]}, headers=gate.headers)
    assert r.status_code == 422
    r = http.post("/api/v1/transit/validator/validate", headers=gate.headers,
                  json={"code": "!!not-base64!!", "network": 2, "route": 3, "stop": "S", "tap_id": str(uuid.uuid4())})
    assert r.status_code == 422
    r = http.get("/api/v1/transit/validator/deny-list", params={"since": 10**9}, headers=gate.headers)
    assert r.status_code == 422
    assert r.json()["code"] == "transit.invalid_since"
    trips = http.get("/api/v1/transit/trips", headers=citizen.headers).json()["items"]
    assert trips == []


def test_paper_ticket_png_and_svg_single_use(http: httpx.Client, database_url: str) -> None:
    counter = login_staff(http, database_url, "S-GTVT")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    r = http.post("/api/v1/transit/staff/paper-tickets", json={"product_id": str(METRO_SINGLE)},
                  headers={**counter.headers, **key})
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["price_vnd"] == 15_000
    again = http.post("/api/v1/transit/staff/paper-tickets", json={"product_id": str(METRO_SINGLE)},
                      headers={**counter.headers, **key})
    assert again.json()["id"] == ticket["id"]
    assert ticket["svg"].lstrip().startswith("<")
    data = decode_png(base64.b64decode(ticket["png"]))
    assert b64u(data) == ticket["data"]

    gate_client = client_token(http, database_url, "validator")
    keys = keys_from_json(http.get("/api/v1/transit/validator/keys", headers=gate_client.headers).content)
    station_a = OfflineVerifier(Gate(Network.METRO, 3, Direction.IN), keys=keys)
    assert station_a.verify(data).accepted
    body = {"code": ticket["data"], "network": 2, "route": 3, "direction": "in", "stop": "L3-01",
            "tap_id": str(uuid.uuid4())}
    online = http.post("/api/v1/transit/validator/validate", json=body, headers=gate_client.headers)
    assert online.json()["accepted"] is True
    second = http.post("/api/v1/transit/validator/validate", json={**body, "tap_id": str(uuid.uuid4()),
                                                                   "stop": "L3-09"}, headers=gate_client.headers)
    assert second.json()["accepted"] is False
    assert second.json()["reason"] == "ticket_used"
    # Another station, offline, after its deny-list sync.
    station_b = OfflineVerifier(Gate(Network.METRO, 3, Direction.IN), keys=keys)
    station_b.apply_deny_list(http.get("/api/v1/transit/validator/deny-list", headers=gate_client.headers).content)
    assert station_b.verify(data).reason is Rejection.TICKET_USED


def test_concession_document_verified_by_staff(http: httpx.Client, database_url: str) -> None:
    student = login(http)
    r = http.post("/api/v1/transit/cards", json={"category": "student"}, headers=student.headers)
    assert r.status_code == 422
    assert r.json()["code"] == "transit.not_eligible"
    not_image = http.post("/api/v1/transit/applications", headers=student.headers, data={"category": "student"},
                          files={"file": ("card.txt", b"hello", "text/plain")})
    assert not_image.status_code == 415
    up = http.post("/api/v1/transit/applications", headers=student.headers, data={"category": "student"},
                   files={"file": ("card.png", PNG_1PX, "image/png")})
    assert up.status_code == 201, up.text
    application = up.json()
    assert application["status"] == "pending"

    citizen = login(http)
    decision = {"approve": True, "valid_until": (datetime.now(UTC) + timedelta(days=200)).date().isoformat()}
    path = f"/api/v1/transit/staff/applications/{application['id']}/decision"
    assert http.post(path, json=decision, headers=citizen.headers).status_code == 403
    staff = login_staff(http, database_url, "S-GTVT")
    pending = http.get("/api/v1/transit/staff/applications", headers=staff.headers).json()["items"]
    assert application["id"] in [a["id"] for a in pending]
    doc = http.get(f"/api/v1/transit/staff/applications/{application['id']}/document", headers=staff.headers)
    assert doc.status_code == 200
    assert doc.content == PNG_1PX
    assert http.post(path, json={"approve": False}, headers=staff.headers).status_code == 422
    r = http.post(path, json=decision, headers=staff.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved"
    assert http.post(path, json=decision, headers=staff.headers).status_code == 409
    eligible = http.get("/api/v1/transit/eligibility/student", headers=student.headers).json()
    assert eligible == {"category": "student", "eligible": True, "rule": None}
    card = http.post("/api/v1/transit/cards", json={"category": "student"}, headers=student.headers)
    assert card.status_code == 201
    assert card.json()["category"] == "student"
    other = http.get("/api/v1/transit/eligibility/student", headers=citizen.headers).json()
    assert other["eligible"] is False
    assert other["rule"] == "document_required"
