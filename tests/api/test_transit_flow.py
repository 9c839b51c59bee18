"""Transit end to end over HTTP: buy a monthly pass, bind a phone, get a credential, show a dynamic
QR, decode its PNG with ZXing and verify it offline with only what the validator API published;
then cancel and see the deny list stop it."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from litestar import Litestar

from adapters.transit_crypto.offline import OfflineVerifier, keys_from_json
from adapters.transit_images.render import QrImages
from api.platform.app import create_app
from api.platform.settings import Settings
from domain.shared.time import HANOI
from domain.transit.codes import Direction, Network, Rejection
from domain.transit.validation import Gate
from tests.support.auth import client_token, login
from tests.support.live import free_port, serve
from tests.support.transit_api import (
    METRO_DAY,
    MONTHLY_ALL,
    ShiftedClock,
    b64u,
    bind_phone,
    buy,
    decode_png,
    first_of_next_month,
    install_credential,
    open_card,
    paid_pass,
    refund,
    settle,
    unb64u,
)


@pytest.fixture(scope="module")
def later(settings: Settings) -> Iterator[tuple[Litestar, httpx.Client]]:
    """A second app on the same database whose clock can be moved (tokens stay valid: they are
    checked against the real time)."""
    app = create_app(settings)
    with serve(app) as url, httpx.Client(base_url=url, timeout=15) as client:
        yield app, client


def test_buy_bind_credential_qr_png_offline_verify_then_revoke(
        http: httpx.Client, database_url: str, later: tuple[Litestar, httpx.Client]) -> None:
    app, on_day_one = later
    citizen = login(http)
    offers = http.get("/api/v1/transit/offers", params={"category": "standard"}).json()["items"]
    assert any(o["product"]["id"] == str(MONTHLY_ALL) and o["amount_vnd"] == 200_000 for o in offers)

    card = open_card(http, citizen)
    assert len(card["number"]) == 12
    key = str(uuid.uuid4())
    start = first_of_next_month()
    first = buy(http, citizen, card["id"], MONTHLY_ALL, key=key, start=start)
    assert first.status_code == 201, first.text
    order = first.json()
    assert order["payment_status"] == "requires_payment"
    assert order["amount_vnd"] == 200_000
    assert order["checkout"]["qr_payload"].startswith("000201")
    assert order["pass_id"] is None
    retry = buy(http, citizen, card["id"], MONTHLY_ALL, key=key, start=start)
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.json()["payment_intent_id"] == order["payment_intent_id"]
    # The same order without the key: the same intent, never a second charge.
    again = buy(http, citizen, card["id"], MONTHLY_ALL, start=start)
    assert again.json()["payment_intent_id"] == order["payment_intent_id"]
    assert http.get("/api/v1/transit/passes", headers=citizen.headers).json()["items"] == []

    settle(database_url, order["payment_intent_id"])
    passes = http.get("/api/v1/transit/passes", headers=citizen.headers).json()["items"]
    assert [(p["kind"], p["status"], p["price_vnd"]) for p in passes] == [("monthly_all", "active", 200_000)]
    pass_id = passes[0]["id"]
    twice = buy(http, citizen, card["id"], MONTHLY_ALL, start=start)  # the card holds the month now
    assert twice.status_code == 409
    assert twice.json()["code"] == "transit.pass_overlaps"

    phone = bind_phone(http, citizen)
    # Too early: a credential is issued at most 72 h before the pass starts.
    early = http.post(f"/api/v1/transit/passes/{pass_id}/credential", headers=citizen.headers)
    assert early.status_code == 409
    assert early.json()["code"] == "transit.pass_not_started"

    # The morning of the 1st in Hanoi: the app's server time, which the phone adopts.
    day_one = datetime(start.year, start.month, start.day, 7, 30, tzinfo=HANOI)
    app.state.container.clock = ShiftedClock(day_one)
    cred = install_credential(on_day_one, citizen, pass_id, phone)
    assert abs(cred["server_time_epoch"] - day_one.timestamp()) < 5
    assert datetime.fromisoformat(cred["expires_at"]) - day_one <= timedelta(hours=72)
    now = int(app.state.container.clock.now().timestamp())
    code = phone.code(int(time.time()))
    png = QrImages().png(code)
    scanned = decode_png(png)
    assert scanned == code

    gate_client = client_token(http, database_url, "validator")
    keys = on_day_one.get("/api/v1/transit/validator/keys", headers=gate_client.headers)
    assert keys.status_code == 200
    deny = on_day_one.get("/api/v1/transit/validator/deny-list", headers=gate_client.headers)
    assert deny.status_code == 200
    assert deny.headers["content-type"].startswith("application/octet-stream")
    assert deny.headers["X-Deny-List-Type"] == "snapshot"
    gate = OfflineVerifier(Gate(Network.BUS, 34, Direction.IN), keys=keys_from_json(keys.content))
    gate.apply_deny_list(deny.content, now)
    verdict = gate.verify(scanned, now)
    assert verdict.accepted, verdict.reason
    assert str(verdict.pass_id) == pass_id
    assert gate.verify(scanned, now + 1).reason is Rejection.REPLAY
    assert gate.verify(scanned, now + 60).reason is Rejection.CODE_EXPIRED

    seq = int(deny.headers["X-Deny-To-Seq"])
    cancel = on_day_one.post(f"/api/v1/transit/passes/{pass_id}/cancel", json={"reason": "lost phone"},
                             headers=citizen.headers)
    assert cancel.status_code == 200
    assert cancel.json()["status"] == "revoked"
    delta = on_day_one.get("/api/v1/transit/validator/deny-list", params={"since": seq},
                           headers=gate_client.headers)
    # since=0 is by definition the whole list (a gate that holds nothing needs a snapshot).
    assert delta.headers["X-Deny-List-Type"] == ("delta" if seq else "snapshot")
    assert int(delta.headers["X-Deny-To-Seq"]) > seq
    assert int(delta.headers["X-Deny-Count"]) >= 1
    metro = OfflineVerifier(Gate(Network.METRO, 3, Direction.IN), keys=keys_from_json(keys.content))
    metro.apply_deny_list(deny.content, now)
    assert metro.verify(phone.code(int(time.time()) + 2), now + 2).accepted  # before the sync ...
    metro.apply_deny_list(delta.content, now + 3)
    fresh = phone.code(int(time.time()) + 4)
    assert metro.verify(fresh, now + 4).reason is Rejection.DENIED  # ... and after it
    refused = on_day_one.post(f"/api/v1/transit/passes/{pass_id}/credential", headers=citizen.headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "transit.pass_revoked"
    assert unb64u(b64u(fresh)) == fresh


def test_online_validation_and_trip_history(http: httpx.Client, database_url: str) -> None:
    citizen = login(http)
    card = open_card(http, citizen)
    order = buy(http, citizen, card["id"]).json()
    settle(database_url, order["payment_intent_id"])
    pass_id = http.get("/api/v1/transit/passes", headers=citizen.headers).json()["items"][0]["id"]
    phone = bind_phone(http, citizen)
    install_credential(http, citizen, pass_id, phone)
    gate_client = client_token(http, database_url, "validator")
    code = phone.code(int(time.time()))
    body = {"code": b64u(code), "network": 2, "route": 3, "direction": "in", "stop": "L3-01",
            "tap_id": str(uuid.uuid4())}
    r = http.post("/api/v1/transit/validator/validate", json=body, headers=gate_client.headers)
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] is True
    assert r.json()["pass_id"] == pass_id
    replay = http.post("/api/v1/transit/validator/validate", json={**body, "tap_id": str(uuid.uuid4())},
                       headers=gate_client.headers)
    assert replay.json() == {**replay.json(), "accepted": False, "reason": "replay"}
    out = {**body, "code": b64u(phone.code(int(time.time()) + 1)), "direction": "out", "stop": "L3-05",
           "tap_id": str(uuid.uuid4())}
    assert http.post("/api/v1/transit/validator/validate", json=out, headers=gate_client.headers).json()["accepted"]
    trips = http.get("/api/v1/transit/trips", headers=citizen.headers).json()["items"]
    assert [(t["boarded_stop"], t["alighted_stop"]) for t in trips] == [("L3-01", "L3-05")]
    assert datetime.fromisoformat(trips[0]["boarded_at"]) <= datetime.now(UTC)


def test_a_refund_revokes_the_pass_and_lists_it_for_gates(http: httpx.Client, database_url: str) -> None:
    citizen = login(http)
    card = open_card(http, citizen)
    order = buy(http, citizen, card["id"]).json()
    settle(database_url, order["payment_intent_id"])
    pass_id = http.get("/api/v1/transit/passes", headers=citizen.headers).json()["items"][0]["id"]
    gate_client = client_token(http, database_url, "validator")
    before = int(http.get("/api/v1/transit/validator/deny-list", headers=gate_client.headers)
                 .headers["X-Deny-To-Seq"])
    refund(database_url, order["payment_intent_id"])
    refund(database_url, order["payment_intent_id"])  # a retried notification changes nothing more
    revoked = http.get(f"/api/v1/transit/passes/{pass_id}", headers=citizen.headers).json()
    assert revoked["status"] == "revoked"
    after = http.get("/api/v1/transit/validator/deny-list", headers=gate_client.headers)
    assert int(after.headers["X-Deny-To-Seq"]) == before + 1
    inbox = http.get("/api/v1/me/inbox", headers=citizen.headers).json()["items"]
    assert sorted(m["template"] for m in inbox if m["object_id"] == pass_id) == ["transit.pass_issued",
                                                                                 "transit.pass_revoked"]


def _intents_of(database_url: str, object_id: str) -> int:
    async def go() -> int:
        conn = await asyncpg.connect(database_url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM payment_intents WHERE object_id = $1", object_id))
        finally:
            await conn.close()
    return asyncio.run(go())


def test_a_purchase_stores_its_key_with_the_intent_and_replays_like_any_creating_post(
        http: httpx.Client, database_url: str) -> None:
    """The purchase's idempotency row rides in the intent's insert (api.platform.idempotency.idempotent_folded); the
    answers must be those of ``idempotent``: the first response replayed byte for byte, 422 for the
    key with another order (whose intent is then not kept), and a repeated order (its intent exists,
    so the row goes the usual way) still keyed."""
    citizen = login(http)
    card = open_card(http, citizen)
    start = datetime.now(HANOI).date() + timedelta(days=30)
    key = str(uuid.uuid4())
    first = buy(http, citizen, card["id"], key=key, start=start)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    retry = buy(http, citizen, card["id"], key=key, start=start)
    assert (retry.status_code, retry.headers.get("Idempotent-Replayed")) == (201, "true")
    assert retry.content == first.content

    other_day = start + timedelta(days=1)
    reused = buy(http, citizen, card["id"], key=key, start=other_day)
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency.key_reused"
    order_key = f"{card['id']}:{METRO_DAY}:{other_day.isoformat()}"
    assert _intents_of(database_url, order_key) == 0  # the refused attempt's intent was rolled back
    assert _intents_of(database_url, f"{card['id']}:{METRO_DAY}:{start.isoformat()}") == 1

    second_key = str(uuid.uuid4())
    same_order = buy(http, citizen, card["id"], key=second_key, start=start)
    assert same_order.status_code == 201
    assert same_order.json()["payment_intent_id"] == first.json()["payment_intent_id"]
    replayed = buy(http, citizen, card["id"], key=second_key, start=start)
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert replayed.content == same_order.content


def test_a_fresh_process_issues_credentials_with_one_pooled_connection(http: httpx.Client, database_url: str,
                                                                       settings: Settings) -> None:
    """The first transit request of a process publishes the issuer keys. On a pooled connection, a burst on
    a fresh process held every connection in requests waiting for that one (64 connections: nothing served
    for seconds, each holder of the lock timing out in turn); on a connection of its own, a pool of one
    connection is enough."""
    citizen = login(http)
    pass_id = paid_pass(http, database_url, citizen)
    bind_phone(http, citizen)
    one = dataclasses.replace(settings, db_pool_max=1, port=free_port(), public_base_url=settings.base_url)
    with serve(create_app(one), one.port) as url, httpx.Client(base_url=url, timeout=15) as single:
        r = single.post(f"/api/v1/transit/passes/{pass_id}/credential", headers=citizen.headers)
        assert r.status_code == 200, r.text
        assert r.json()["pass_id"] == pass_id
