"""Inbox, preferences and announcements over real HTTP, plus delivery to the local FCM stand-in."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from adapters.postgres.notifications.notifier import PgNotifier
from adapters.postgres.notifications.outbox import PgOutbox
from adapters.postgres.pool import connect, create_pool
from api.notifications.jobs import outbox_metrics
from api.notifications.wiring import build_push_gateway
from api.platform.container import Container
from api.platform.settings import Settings
from domain.notifications.delivery import DeliverPushBatch, DeliveryPolicy
from domain.notifications.model import Notification
from domain.shared.time import SystemClock
from tests.support.auth import login, login_city_admin
from tests.support.notifications import make_devices

pytestmark = pytest.mark.usefixtures("clean_db")


def db(url: str, coro_fn: Any) -> Any:
    async def go() -> Any:
        conn = await connect(url)
        try:
            return await coro_fn(conn)
        finally:
            await conn.close()
    return asyncio.run(go())


def notify(url: str, user_id: uuid.UUID, n: int = 1, **kw: Any) -> None:
    async def go(conn: Any) -> None:
        for i in range(n):
            await PgNotifier(conn).notify(Notification(
                user_id=user_id, category="account", template="account.new_login", object_type="account",
                object_id=str(i), params={"device": f"Phone {i}"}, **kw))
    db(url, go)


def count(url: str, sql: str, *args: Any) -> int:
    return int(db(url, lambda conn: conn.fetchval(sql, *args)))


def test_inbox_pages_newest_first_and_marks_read(http: httpx.Client, database_url: str) -> None:
    me = login(http)
    notify(database_url, me.user_id, 3)
    first = http.get("/api/v1/me/inbox", params={"limit": 2}, headers=me.headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [i["body"] for i in page["items"]] == ["Tài khoản của bạn vừa đăng nhập trên Phone 2.",
                                                  "Tài khoản của bạn vừa đăng nhập trên Phone 1."]
    assert page["items"][0]["deep_link"] == "thudo://account"
    rest = http.get("/api/v1/me/inbox", params={"limit": 2, "cursor": page["next_cursor"]}, headers=me.headers).json()
    assert [i["object_id"] for i in rest["items"]] == ["0"]
    assert rest["next_cursor"] is None
    assert http.get("/api/v1/me/inbox/unread-count", headers=me.headers).json() == {"unread": 3}
    item_id = page["items"][0]["id"]
    marked = http.post(f"/api/v1/me/inbox/{item_id}/read", headers=me.headers)
    assert marked.status_code == 200
    assert marked.json()["read_at"] is not None
    assert http.get("/api/v1/me/inbox/unread-count", headers=me.headers).json() == {"unread": 2}
    assert http.post("/api/v1/me/inbox/read-all", headers=me.headers).json() == {"marked": 2}
    assert http.get("/api/v1/me/inbox/unread-count", headers=me.headers).json() == {"unread": 0}


def test_inbox_in_the_users_locale(http: httpx.Client, database_url: str) -> None:
    me = login(http)
    db(database_url, lambda c: c.execute("UPDATE users SET locale = 'en' WHERE id = $1", me.user_id))
    notify(database_url, me.user_id)
    [item] = http.get("/api/v1/me/inbox", headers=me.headers).json()["items"]
    assert item["title"] == "New sign-in"


def test_second_citizen_cannot_read_or_mark_anothers_item(http: httpx.Client, database_url: str) -> None:
    owner, other = login(http), login(http)
    notify(database_url, owner.user_id)
    [item] = http.get("/api/v1/me/inbox", headers=owner.headers).json()["items"]
    r = http.post(f"/api/v1/me/inbox/{item['id']}/read", headers=other.headers)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "notifications.inbox_item_not_found"
    assert http.get("/api/v1/me/inbox", headers=other.headers).json()["items"] == []
    http.post("/api/v1/me/inbox/read-all", headers=other.headers)
    assert http.get("/api/v1/me/inbox/unread-count", headers=owner.headers).json() == {"unread": 1}


def test_inbox_requires_login(http: httpx.Client) -> None:
    for r in (http.get("/api/v1/me/inbox"), http.post("/api/v1/me/inbox/read-all"),
              http.get("/api/v1/me/notification-preferences")):
        assert r.status_code == 401


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"limit": "x"}, {"cursor": "%%%"},
                                    {"cursor": "bm90LWEtdXVpZA"}])
def test_inbox_bad_paging_input_is_422(http: httpx.Client, params: dict[str, Any]) -> None:
    me = login(http)
    r = http.get("/api/v1/me/inbox", params=params, headers=me.headers)
    assert r.status_code in (400, 422), r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_preferences_round_trip(http: httpx.Client, database_url: str) -> None:
    me = login(http)
    default = http.get("/api/v1/me/notification-preferences", headers=me.headers).json()
    assert default["opted_out"] == []
    assert default["quiet_hours"] is None
    assert {"category": "feedback", "label": "Phản ánh kiến nghị", "enabled": True} in default["categories"]
    r = http.put("/api/v1/me/notification-preferences", headers=me.headers,
                 json={"opted_out": ["announcements"], "quiet_hours": {"start": "22:00", "end": "06:30"}})
    assert r.status_code == 200, r.text
    got = http.get("/api/v1/me/notification-preferences", headers={**me.headers, "Accept-Language": "en"}).json()
    assert got["opted_out"] == ["announcements"]
    assert got["quiet_hours"] == {"start": "22:00", "end": "06:30"}
    assert {"category": "announcements", "label": "City announcements", "enabled": False} in got["categories"]
    other = login(http)  # preferences are per user
    assert http.get("/api/v1/me/notification-preferences", headers=other.headers).json()["opted_out"] == []


@pytest.mark.parametrize(("body", "field"), [
    ({"opted_out": ["no-such-category"]}, "opted_out[0]"),
    ({"quiet_hours": {"start": "25:00", "end": "06:00"}}, "quiet_hours.start"),
    ({"quiet_hours": {"start": "22:00", "end": "22:00"}}, "quiet_hours.end"),
    ({"quiet_hours": {"start": "22:00"}}, "quiet_hours.end"),
    ({"opted_out": [], "admin": True}, "admin"),
])
def test_bad_preferences_are_422_and_nothing_is_written(http: httpx.Client, database_url: str,
                                                        body: dict[str, Any], field: str) -> None:
    me = login(http)
    r = http.put("/api/v1/me/notification-preferences", headers=me.headers, json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in r.json()["errors"]]
    assert count(database_url, "SELECT count(*) FROM notification_preferences WHERE user_id = $1", me.user_id) == 0


def _announcement(**kw: Any) -> dict[str, Any]:
    return {"title_vi": "Cắt nước", "title_en": "Water cut", "body_vi": "Sáng thứ bảy", "body_en": "Saturday",
            **kw}


def test_city_admin_sends_district_and_city_announcements(http: httpx.Client, database_url: str) -> None:
    admin = login_city_admin(http, database_url)
    district = db(database_url, lambda c: c.fetchval("SELECT id FROM units WHERE code = 'D002'"))
    r = http.post("/api/v1/admin/announcements", headers=admin.headers, json=_announcement(district_id=str(district)))
    assert r.status_code == 202, r.text
    assert r.json()["topic"] == "district-d002"
    city = http.post("/api/v1/admin/announcements", headers={**admin.headers, "Idempotency-Key": "ann-1"},
                     json=_announcement())
    again = http.post("/api/v1/admin/announcements", headers={**admin.headers, "Idempotency-Key": "ann-1"},
                      json=_announcement())
    assert city.json() == again.json()
    assert city.json()["topic"] == "city"
    assert count(database_url, "SELECT count(*) FROM push_outbox WHERE kind = 'topic'") == 2


def test_citizen_cannot_send_announcements(http: httpx.Client, database_url: str) -> None:
    me = login(http)
    r = http.post("/api/v1/admin/announcements", headers=me.headers, json=_announcement())
    assert r.status_code == 403
    assert count(database_url, "SELECT count(*) FROM announcements") == 0


@pytest.mark.parametrize("body", [_announcement(district_id=str(uuid.uuid4())), _announcement(title_vi=""),
                                  {"title_vi": "x"}, _announcement(extra=1)])
def test_bad_announcement_is_422_and_nothing_is_written(http: httpx.Client, database_url: str,
                                                        body: dict[str, Any]) -> None:
    admin = login_city_admin(http, database_url)
    r = http.post("/api/v1/admin/announcements", headers=admin.headers, json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert count(database_url, "SELECT count(*) FROM announcements") == 0
    assert count(database_url, "SELECT count(*) FROM push_outbox WHERE kind = 'topic'") == 0


def test_delivery_to_the_local_standin_through_the_real_sdk(http: httpx.Client, database_url: str,
                                                            settings: Settings) -> None:
    """The production adapter, unchanged, against the stand-in: JWT-bearer token, v1 send, token clean-up."""
    me = login(http)
    [token] = db(database_url, lambda c: make_devices(c, me.user_id, 1))
    db(database_url, lambda c: c.execute(
        "INSERT INTO devices (id, user_id, fcm_token, platform, app_version) "
        "VALUES (gen_random_uuid(), $1, 'unregistered-abc', 'ios', '1.0')", me.user_id))
    notify(database_url, me.user_id)
    before = http.get("/dev/push/deliveries").json()["delivered"]

    async def deliver() -> tuple[Any, dict[str, float]]:
        pool = await create_pool(database_url, max_size=2)
        gateway = build_push_gateway(settings)
        try:
            uc = DeliverPushBatch(PgOutbox(pool), gateway, SystemClock(), DeliveryPolicy())
            report = await uc.execute()
            await uc.execute(DeliverPushBatch.TOPIC_KINDS)
            await outbox_metrics(Container(settings=settings, pool=pool, services={}))
            return report, await PgOutbox(pool).stats(SystemClock().now())
        finally:
            await gateway.close()
            await pool.close()

    report, stats = asyncio.run(deliver())
    assert (report.sent, report.tokens_removed) == (1, 1)
    seen = http.get("/dev/push/deliveries", params={"limit": 5}).json()
    assert seen["delivered"] == before + 1
    assert seen["items"][0]["title"] == "Đăng nhập mới"
    assert seen["items"][0]["token"] == token[:10] + "…"
    assert seen["topics"].get("city", 0) >= 1
    assert count(database_url, "SELECT count(*) FROM devices WHERE fcm_token = 'unregistered-abc'") == 0
    assert stats["queued"] == 0
    metrics = http.get("/metrics").text
    assert "thudo_push_queued 0.0" in metrics
    assert "thudo_push_lag_seconds" in metrics


def test_standin_rejects_bad_tokens_and_bodies(http: httpx.Client) -> None:
    r = http.post("/dev/push/v1/projects/thudo-dev/messages:send", json={"message": {"token": "x"}},
                  headers={"Authorization": "Bearer 1.forged"})
    assert r.status_code == 401
    assert r.json()["error"]["status"] == "UNAUTHENTICATED"
    bad_grant = http.post("/dev/push/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                                   "assertion": "not.a.jwt"})
    assert bad_grant.status_code == 400
