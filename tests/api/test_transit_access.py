"""Transit access rules and bad input: another citizen's card or pass is 404, machine clients of
another kind are refused on validator routes, staff and admin routes are closed to citizens,
and bad input is a problem+json 4xx that writes nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.auth import client_token, login, login_city_admin, login_staff
from tests.support.transit_api import (
    METRO_SINGLE,
    bind_phone,
    buy,
    open_card,
    paid_pass,
    settle,
)

PROBLEM = "application/problem+json"


def _count(database_url: str, table: str) -> int:
    async def go() -> int:
        conn = await asyncpg.connect(database_url)
        try:
            return int(await conn.fetchval(f'SELECT count(*) FROM "{table}"'))
        finally:
            await conn.close()
    return asyncio.run(go())


def test_another_citizens_card_and_pass_are_not_found(http: httpx.Client, database_url: str) -> None:
    owner = login(http)
    pass_id = paid_pass(http, database_url, owner)
    card_id = http.get("/api/v1/transit/cards", headers=owner.headers).json()["items"][0]["id"]
    other = login(http)
    bind_phone(http, other)
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"/api/v1/transit/cards/{card_id}", None),
        ("GET", f"/api/v1/transit/passes/{pass_id}", None),
        ("POST", f"/api/v1/transit/passes/{pass_id}/credential", None),
        ("POST", f"/api/v1/transit/passes/{pass_id}/renewal", None),
        ("POST", f"/api/v1/transit/passes/{pass_id}/cancel", {"reason": "not mine"}),
        ("POST", "/api/v1/transit/purchases", {"card_id": card_id, "product_id": str(METRO_SINGLE),
                                               "start_date": datetime.now(UTC).date().isoformat()}),
        ("POST", "/api/v1/transit/passes/free", {"card_id": card_id, "product_id": str(METRO_SINGLE)}),
    ]
    for method, path, body in calls:
        r = http.request(method, path, json=body, headers=other.headers)
        assert r.status_code == 404, (path, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["code"] in ("transit.card_not_found", "transit.pass_not_found"), path
    assert http.get("/api/v1/transit/cards", headers=other.headers).json()["items"] == []
    assert http.get("/api/v1/transit/passes", headers=other.headers).json()["items"] == []
    mine = http.get(f"/api/v1/transit/passes/{pass_id}", headers=owner.headers).json()
    assert mine["status"] == "active"


def test_citizen_lists_are_cursor_paged(http: httpx.Client, database_url: str) -> None:
    owner = login(http)
    first_pass = paid_pass(http, database_url, owner)
    cards = [http.get("/api/v1/transit/cards", headers=owner.headers).json()["items"][0]["id"]]
    cards += [open_card(http, owner)["id"] for _ in range(2)]
    bought = buy(http, owner, cards[1])
    assert bought.status_code == 201, bought.text
    settle(database_url, bought.json()["payment_intent_id"])

    page1 = http.get("/api/v1/transit/cards", params={"limit": 2}, headers=owner.headers).json()
    assert [c["id"] for c in page1["items"]] == cards[:2]                      # oldest first
    page2 = http.get("/api/v1/transit/cards", params={"limit": 2, "cursor": page1["next_cursor"]},
                     headers=owner.headers).json()
    assert [c["id"] for c in page2["items"]] == cards[2:]
    assert page2["next_cursor"] is None

    newest = http.get("/api/v1/transit/passes", params={"limit": 1}, headers=owner.headers).json()
    assert newest["items"][0]["id"] != first_pass
    assert newest["next_cursor"]
    older = http.get("/api/v1/transit/passes", params={"limit": 1, "cursor": newest["next_cursor"]},
                     headers=owner.headers).json()
    assert [p["id"] for p in older["items"]] == [first_pass]
    assert older["next_cursor"] is None

    # The owner's cursor gives another citizen nothing of the owner's.
    other = login(http)
    theirs = http.get("/api/v1/transit/passes", params={"cursor": newest["next_cursor"]}, headers=other.headers)
    assert theirs.status_code == 200
    assert theirs.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("path", ["/api/v1/transit/cards", "/api/v1/transit/passes", "/api/v1/transit/trips",
                                  "/api/v1/transit/applications"])
@pytest.mark.parametrize("cursor", ["!!!", "bm90LWEtY3Vyc29y", "eB95", "MjAyNi0wMS0wMR9ub3QtYS11dWlk"])
def test_tampered_cursor_is_a_problem(http: httpx.Client, path: str, cursor: str) -> None:
    citizen = login(http)
    r = http.get(path, params={"cursor": cursor}, headers=citizen.headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["errors"][0]["field"] == "cursor"
    assert http.get(path, params={"limit": 101}, headers=citizen.headers).status_code in (400, 422)


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/api/v1/transit/validator/keys", None),
    ("GET", "/api/v1/transit/validator/deny-list", None),
    ("POST", "/api/v1/transit/validator/taps", {"taps": []}),
    ("POST", "/api/v1/transit/validator/validate", {"code": "AAAA", "network": 1, "route": 1, "stop": "S1",
                                                    "tap_id": "00000000-0000-0000-0000-000000000001"}),
])
def test_validator_routes_refuse_other_callers(http: httpx.Client, database_url: str, method: str, path: str,
                                               body: dict[str, Any] | None) -> None:
    facility = client_token(http, database_url, "facility")
    r = http.request(method, path, json=body, headers=facility.headers)
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    citizen = login(http)
    assert http.request(method, path, json=body, headers=citizen.headers).status_code in (401, 403)
    assert http.request(method, path, json=body).status_code == 401


def test_citizens_cannot_reach_staff_or_admin_routes(http: httpx.Client, database_url: str) -> None:
    tickets = _count(database_url, "transit_paper_tickets")
    citizen = login(http)
    other_unit = login_staff(http, database_url, "S-XD")
    for who in (citizen, other_unit):
        r = http.post("/api/v1/transit/staff/paper-tickets", json={"product_id": str(METRO_SINGLE)},
                      headers=who.headers)
        assert r.status_code == 403, r.text
        assert http.get("/api/v1/transit/admin/products", headers=who.headers).status_code == 403
    assert _count(database_url, "transit_paper_tickets") == tickets


def test_level_1_citizens_cannot_open_cards_or_buy(http: httpx.Client) -> None:
    weak = login(http, level=1)
    r = http.post("/api/v1/transit/cards", json={"category": "standard"}, headers=weak.headers)
    assert r.status_code == 403
    assert r.json()["code"] == "identity.level_required"


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/transit/cards", {"category": "standard", "extra": 1}, "extra"),
    ("/api/v1/transit/cards", {"category": "Not A Code"}, "category"),
    ("/api/v1/transit/purchases", {"card_id": "nope", "product_id": str(METRO_SINGLE), "start_date": "2026-01-01"},
     "card_id"),
    ("/api/v1/transit/purchases", {"card_id": str(uuid.uuid4()), "product_id": str(METRO_SINGLE),
                                   "start_date": "tomorrow"}, "start_date"),
])
def test_bad_input_is_a_problem_and_writes_nothing(http: httpx.Client, database_url: str, path: str,
                                                    body: dict[str, Any], field: str) -> None:
    citizen = login(http)
    cards_before = _count(database_url, "transit_cards")
    r = http.post(path, json=body, headers=citizen.headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert field in [e["field"] for e in r.json()["errors"]]
    assert _count(database_url, "transit_cards") == cards_before


def test_business_rule_violations_name_the_field(http: httpx.Client, database_url: str) -> None:
    citizen = login(http)
    card = open_card(http, citizen)
    past = (datetime.now(UTC) - timedelta(days=3)).date()
    r = buy(http, citizen, card["id"], start=past)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "start_date"
    r = http.post("/api/v1/transit/cards", json={"category": "elderly"}, headers=citizen.headers)
    assert r.status_code == 422
    assert r.json()["code"] == "transit.not_eligible"
    intents = _count(database_url, "payment_intents")
    r = http.put("/api/v1/transit/device", headers=citizen.headers,
                 json={"public_key": "A" * 44, "proof": "B" * 86, "platform": "android"})
    assert r.status_code == 422
    assert r.json()["code"] in ("transit.invalid_device_key", "transit.invalid_device_proof")
    assert _count(database_url, "payment_intents") == intents
    r = http.get("/api/v1/transit/offers", params={"category": "nobody"})
    assert r.status_code == 422
    r = http.get("/api/v1/transit/trips", params={"days": 500}, headers=citizen.headers)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith(PROBLEM)


def test_admin_manages_prices(http: httpx.Client, database_url: str) -> None:
    admin = login_city_admin(http, database_url)
    r = http.get(f"/api/v1/transit/admin/products/{METRO_SINGLE}/prices", headers=admin.headers)
    assert r.status_code == 200
    assert [p["amount_vnd"] for p in r.json()["items"] if p["category"] == "standard"] == [15_000]
    bad = http.post(f"/api/v1/transit/admin/products/{METRO_SINGLE}/prices", headers=admin.headers,
                    json={"category": "elderly", "amount_vnd": 5000, "valid_from": "2027-01-01"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "amount_vnd"
    missing = http.get(f"/api/v1/transit/admin/products/{uuid.uuid4()}/prices", headers=admin.headers)
    assert missing.status_code == 404
