"""My profile, sessions, devices, consents, export and deletion request — always scoped to me."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.auth import authorize, callback, login, unit_id

TOKEN = "fcm-token-" + "a" * 40


def _fetch(database_url: str, sql: str, *args: Any) -> Any:
    async def go() -> Any:
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()
    return asyncio.run(go())


def _device(token: str = TOKEN, **extra: Any) -> dict[str, Any]:
    return {"fcm_token": token, "platform": "android", "app_version": "1.4.2", "locale": "vi", **extra}


def test_profile_and_patch(http: httpx.Client, database_url: str) -> None:
    me = login(http)
    district = unit_id(database_url, "D005")
    r = http.patch("/api/v1/me", headers=me.headers, json={"locale": "en", "district_id": str(district)})
    assert r.status_code == 200
    assert r.json()["locale"] == "en"
    assert r.json()["district_id"] == str(district)
    assert "*" in r.json()["personal_id"]


def test_profile_bad_input_writes_nothing(http: httpx.Client, database_url: str) -> None:
    me = login(http)
    ward = unit_id(database_url, "W00001")
    for body in ({"locale": "fr"}, {"full_name": "Someone Else"}, {"city_admin": True},
                 {"district_id": str(ward)}, {"district_id": "nope"}):
        r = http.patch("/api/v1/me", headers=me.headers, json=body)
        assert r.status_code == 422, body
    assert _fetch(database_url, "SELECT locale FROM users WHERE id = $1", me.user_id) == "vi"
    assert _fetch(database_url, "SELECT city_admin FROM users WHERE id = $1", me.user_id) is False


def test_sessions_list_and_revoke_and_other_citizen(http: httpx.Client) -> None:
    me = login(http)
    tx, code, state = authorize(http, me.personal_id)
    phone2 = callback(http, tx, code, state).json()
    other = login(http)
    sessions = http.get("/api/v1/me/sessions", headers=me.headers).json()
    assert len(sessions) == 2
    assert [s["current"] for s in sessions].count(True) == 1
    foreign = http.delete(f"/api/v1/me/sessions/{other.session_id}", headers=me.headers)
    assert foreign.status_code == 404
    assert http.get("/api/v1/me", headers=other.headers).status_code == 200
    second_sid = next(s["id"] for s in sessions if not s["current"])
    assert http.delete(f"/api/v1/me/sessions/{second_sid}", headers=me.headers).status_code == 204
    assert http.get("/api/v1/me", headers={"Authorization": f"Bearer {phone2['access_token']}"}).status_code == 401
    assert http.delete("/api/v1/me/sessions/not-a-uuid", headers=me.headers).status_code in (400, 404, 422)


def test_devices_register_update_delete(http: httpx.Client) -> None:
    me = login(http)
    token = TOKEN + "1"
    r = http.post("/api/v1/me/devices", headers=me.headers, json=_device(token))
    assert r.status_code == 201, r.text
    device = r.json()
    assert device["session_id"] == str(me.session_id)
    assert "fcm_token" not in device
    upd = http.patch(f"/api/v1/me/devices/{device['id']}", headers=me.headers,
                     json={"app_version": "1.5.0", "locale": "en", "fcm_token": token + "rotated"})
    assert upd.status_code == 200
    assert upd.json()["app_version"] == "1.5.0"
    put = http.put(f"/api/v1/me/devices/{device['id']}", headers=me.headers, json={"locale": "vi"})
    assert put.json()["locale"] == "vi"
    assert [d["id"] for d in http.get("/api/v1/me/devices", headers=me.headers).json()] == [device["id"]]
    assert http.delete(f"/api/v1/me/devices/{device['id']}", headers=me.headers).status_code == 204
    assert http.get("/api/v1/me/devices", headers=me.headers).json() == []


def test_ending_a_session_removes_its_devices_and_their_topic_subscriptions(http: httpx.Client,
                                                                             database_url: str) -> None:
    # A phone that logged out (or that the owner ended from another phone) must stop receiving the
    # person's notifications: the device registered by that session goes, the other phone's stays.
    me = login(http)
    tx, code, state = authorize(http, me.personal_id)
    phone2 = callback(http, tx, code, state).json()
    phone2_headers = {"Authorization": f"Bearer {phone2['access_token']}"}
    kept = http.post("/api/v1/me/devices", headers=me.headers, json=_device(TOKEN + "k")).json()
    assert http.post("/api/v1/me/devices", headers=phone2_headers, json=_device(TOKEN + "g")).status_code == 201
    assert http.post("/api/v1/auth/logout", headers=phone2_headers).status_code == 204
    assert [d["id"] for d in http.get("/api/v1/me/devices", headers=me.headers).json()] == [kept["id"]]
    assert _fetch(database_url, "SELECT count(*) FROM push_outbox WHERE kind = 'unsubscribe' AND token = $1",
                  TOKEN + "g") >= 1
    # Ending a session from the other phone does the same.
    assert http.delete(f"/api/v1/me/sessions/{me.session_id}", headers=me.headers).status_code == 204
    assert _fetch(database_url, "SELECT count(*) FROM devices WHERE id = $1", uuid.UUID(kept["id"])) == 0


def test_reregistering_a_token_moves_it_to_the_new_user(http: httpx.Client, database_url: str) -> None:
    first, second = login(http), login(http)
    token = TOKEN + "2"
    assert http.post("/api/v1/me/devices", headers=first.headers, json=_device(token)).status_code == 201
    assert http.post("/api/v1/me/devices", headers=second.headers, json=_device(token)).status_code == 201
    assert http.get("/api/v1/me/devices", headers=first.headers).json() == []
    assert len(http.get("/api/v1/me/devices", headers=second.headers).json()) == 1
    owner = _fetch(database_url, "SELECT user_id FROM devices WHERE fcm_token = $1", token)
    assert owner == second.user_id


def test_another_citizens_device_is_not_found(http: httpx.Client) -> None:
    owner, other = login(http), login(http)
    device = http.post("/api/v1/me/devices", headers=owner.headers, json=_device(TOKEN + "3")).json()
    path = f"/api/v1/me/devices/{device['id']}"
    assert http.patch(path, headers=other.headers, json={"locale": "en"}).status_code == 404
    assert http.put(path, headers=other.headers, json={"locale": "en"}).status_code == 404
    assert http.delete(path, headers=other.headers).status_code == 404
    # A stolen token in a PATCH must not move the owner's row either.
    assert http.patch(path, headers=other.headers, json={"fcm_token": TOKEN + "3"}).status_code == 404
    assert len(http.get("/api/v1/me/devices", headers=owner.headers).json()) == 1


@pytest.mark.parametrize("body", [
    _device(platform="symbian"), _device(locale="fr"), _device(token="short"), _device(app_version=""),
    {**_device(), "user_id": "00000000-0000-0000-0000-000000000000"}, {"platform": "ios"},
])
def test_device_bad_input_writes_nothing(http: httpx.Client, database_url: str, body: dict[str, Any]) -> None:
    me = login(http)
    r = http.post("/api/v1/me/devices", headers=me.headers, json=body)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert _fetch(database_url, "SELECT count(*) FROM devices WHERE user_id = $1", me.user_id) == 0


def test_consents_record_history(http: httpx.Client) -> None:
    me, other = login(http), login(http)
    assert http.post("/api/v1/me/consents", headers=me.headers,
                     json={"purpose": "health_record_sharing", "granted": True}).status_code == 201
    withdraw = {"purpose": "health_record_sharing", "granted": False}
    retry = {**me.headers, "Idempotency-Key": "withdraw-1"}
    first = http.post("/api/v1/me/consents", headers=retry, json=withdraw)
    assert first.status_code == 201
    assert http.post("/api/v1/me/consents", headers=retry, json=withdraw).json() == first.json()
    body = http.get("/api/v1/me/consents", headers=me.headers).json()
    assert body["current"] == {"health_record_sharing": False}
    assert len(body["history"]) == 2
    assert http.get("/api/v1/me/consents", headers=other.headers).json() == {"current": {}, "history": []}
    bad = http.post("/api/v1/me/consents", headers=me.headers, json={"purpose": "selling_data", "granted": True})
    assert bad.status_code == 422
    bad = http.post("/api/v1/me/consents", headers=me.headers, json={"purpose": "analytics", "granted": "yes"})
    assert bad.status_code == 422
    assert len(http.get("/api/v1/me/consents", headers=me.headers).json()["history"]) == 2


def test_export_needs_level_2_and_contains_my_data_only(http: httpx.Client) -> None:
    me, other = login(http), login(http)
    http.post("/api/v1/me/devices", headers=me.headers, json=_device(TOKEN + "4"))
    r = http.get("/api/v1/me/export", headers=me.headers)
    assert r.status_code == 200
    data = r.json()["identity"]
    assert data["profile"]["personal_id"] == me.personal_id
    assert data["profile"]["id"] == str(me.user_id)
    assert len(data["devices"]) == 1
    assert {s["id"] for s in data["sessions"]} == {str(me.session_id)}
    assert other.personal_id not in r.text
    basic = login(http, level=1)
    denied = http.get("/api/v1/me/export", headers=basic.headers)
    assert denied.status_code == 403
    assert denied.json()["code"] == "identity.level_required"
    assert basic.personal_id not in denied.text


def test_deletion_request_revokes_sessions(http: httpx.Client, database_url: str) -> None:
    me, other = login(http), login(http)
    r = http.post("/api/v1/me/deletion-request", headers=me.headers)
    assert r.status_code == 202
    assert r.json()["sessions_revoked"] == 1
    assert http.get("/api/v1/me", headers=me.headers).status_code == 401
    assert http.post("/api/v1/auth/refresh", json={"refresh_token": me.refresh_token}).status_code == 401
    assert _fetch(database_url, "SELECT deletion_requested_at IS NOT NULL FROM users WHERE id = $1", me.user_id)
    assert http.get("/api/v1/me", headers=other.headers).status_code == 200


def test_personal_id_never_logged(http: httpx.Client, caplog: pytest.LogCaptureFixture,
                                  access_log: list[dict[str, object]]) -> None:
    caplog.set_level(logging.DEBUG)
    me = login(http, level=1)
    tx, code, state = authorize(http, me.personal_id)
    callback(http, tx, code, state + "tampered")  # a failing login logs too
    http.get("/api/v1/me/export", headers=me.headers)  # 403 at level 1
    # uvicorn.access is the test harness's server (production runs granian without access logs) and
    # prints the stand-in's authorize URL, whose login_hint is the test automation's, not the app's.
    ours = [r for r in caplog.records if not r.name.startswith("uvicorn")]
    deadline = time.monotonic() + 5
    while not any(line["route"] == "/api/v1/me/export" for line in access_log) and time.monotonic() < deadline:
        time.sleep(0.02)  # access lines are written in batches (every 50 ms)
    assert {line["route"] for line in access_log} >= {"/api/v1/me/export"}, "the app must have logged"
    texts = [r.getMessage() + " " + " ".join(str(v) for v in r.__dict__.values()) for r in ours]
    for text in texts + [json.dumps(line, ensure_ascii=False) for line in access_log]:
        assert me.personal_id not in text
        assert me.refresh_token not in text
        assert me.access_token not in text


def test_export_includes_my_notifications_and_preferences(http: httpx.Client) -> None:
    me, other = login(http), login(http)
    put = http.put("/api/v1/me/notification-preferences", headers=me.headers,
                   json={"opted_out": ["feedback"], "quiet_hours": {"start": "22:00", "end": "06:30"}})
    assert put.status_code == 200, put.text
    data = http.get("/api/v1/me/export", headers=me.headers).json()
    assert data["notifications"]["preferences"] == {"opted_out": ["feedback"], "quiet_start": "22:00:00",
                                                    "quiet_end": "06:30:00"}
    assert data["notifications"]["inbox"] == []
    theirs = http.get("/api/v1/me/export", headers=other.headers).json()["notifications"]
    assert theirs["preferences"]["opted_out"] == []
