"""District topics: device registration and district changes queue (un)subscriptions, which the
worker sends through the SDK's topic management in batches of ≤ 1,000 tokens."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

import asyncpg
import httpx
import pytest
import respx
from firebase_admin import messaging

from adapters.fcm.gateway import FcmGateway
from adapters.postgres.notifications.inbox import queue_announcement
from adapters.postgres.notifications.outbox import PgOutbox
from adapters.postgres.pool import create_pool
from domain.notifications.delivery import DeliverPushBatch, DeliveryPolicy
from domain.shared.ids import new_id
from domain.shared.time import SystemClock
from tests.integration.test_notifications_fcm import PROJECT, SEND_URL, FakeCredential
from tests.support.notifications import make_devices, make_user

TOPICS = re.compile(rf"https://fcm\.googleapis\.com/v1/projects/{PROJECT}/registrations/(?P<token>[^/]+)"
                    r"/topicSubscriptions.*")


@pytest.fixture
async def pool(clean_db: str) -> AsyncIterator[asyncpg.Pool[Any]]:
    p = await create_pool(clean_db, max_size=4)
    yield p
    await p.close()


@pytest.fixture
async def gateway() -> AsyncIterator[FcmGateway]:
    gw = FcmGateway(project_id=PROJECT, credential=FakeCredential())
    yield gw
    await gw.close()


async def district(pool: Any, code: str) -> Any:
    return await pool.fetchval("SELECT id FROM units WHERE code = $1", code)


def subscriptions(route: respx.Route) -> list[tuple[str, str, str]]:
    """(method, token, topic) for every intercepted topic management request."""
    out = []
    for call in route.calls:
        req = call.request
        token = unquote(str(req.url.path).split("/registrations/")[1].split("/")[0])
        topic = req.url.params.get("topic_name") or unquote(str(req.url.path).rsplit("/", 1)[1])
        out.append((req.method, token, topic))
    return out


async def test_registration_and_district_change_move_topic_subscriptions(pool: Any, gateway: FcmGateway) -> None:
    uc = DeliverPushBatch(PgOutbox(pool), gateway, SystemClock(), DeliveryPolicy())
    async with pool.acquire() as conn:
        uid = await make_user(conn, district_id=await district(pool, "D001"))
        [token] = await make_devices(conn, uid, 1)
    with respx.mock() as mock:
        route = mock.route(url__regex=TOPICS.pattern).mock(return_value=httpx.Response(200, json={}))
        await uc.execute(DeliverPushBatch.TOPIC_KINDS)
        assert sorted(subscriptions(route)) == [("POST", token, "city"), ("POST", token, "district-d001")]
        before = route.call_count
        await pool.execute("UPDATE users SET district_id = $2 WHERE id = $1", uid, await district(pool, "D002"))
        await uc.execute(DeliverPushBatch.TOPIC_KINDS)
        moved = sorted(subscriptions(route)[before:])
        assert moved == [("DELETE", token, "district-d001"), ("POST", token, "district-d002")]
    assert await pool.fetchval("SELECT count(*) FROM push_outbox WHERE status <> 'sent'") == 0


async def test_subscriptions_go_in_batches_of_at_most_1000(pool: Any, gateway: FcmGateway,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    real = messaging.subscribe_to_topic_async

    async def counting(tokens: list[str], topic: str, app: Any = None) -> Any:
        sizes.append(len(tokens))
        return await real(tokens, topic, app=app)

    monkeypatch.setattr(messaging, "subscribe_to_topic_async", counting)
    async with pool.acquire() as conn:
        uid = await make_user(conn)  # no district: "city" only
        await make_devices(conn, uid, 1500)
    uc = DeliverPushBatch(PgOutbox(pool), gateway, SystemClock(), DeliveryPolicy())
    with respx.mock() as mock:
        route = mock.route(url__regex=TOPICS.pattern).mock(return_value=httpx.Response(200, json={}))
        while (await uc.execute(DeliverPushBatch.TOPIC_KINDS)).claimed:
            pass
    assert sorted(sizes) == [500, 1000]
    assert route.call_count == 1500


async def test_unregistered_token_in_subscription_deletes_the_device(pool: Any, gateway: FcmGateway) -> None:
    async with pool.acquire() as conn:
        uid = await make_user(conn)
        [gone, kept] = await make_devices(conn, uid, 2)
    uc = DeliverPushBatch(PgOutbox(pool), gateway, SystemClock(), DeliveryPolicy())

    def answer(request: httpx.Request, token: str) -> httpx.Response:  # respx passes the regex groups
        if unquote(token) == gone:
            return httpx.Response(404, json={"error": {"code": 404, "status": "NOT_FOUND", "message": "not found",
                                                       "details": [{"@type": "type.googleapis.com/google.firebase"
                                                                    ".fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}})
        return httpx.Response(200, json={})

    with respx.mock() as mock:
        mock.route(url__regex=TOPICS.pattern).mock(side_effect=answer)
        report = await uc.execute(DeliverPushBatch.TOPIC_KINDS)
    assert report.tokens_removed == 1
    assert [r["fcm_token"] for r in await pool.fetch("SELECT fcm_token FROM devices")] == [kept]


async def test_announcement_is_one_topic_message(pool: Any, gateway: FcmGateway) -> None:
    async with pool.acquire() as conn:
        admin = await make_user(conn)
        aid = new_id()
        await queue_announcement(conn, announcement_id=aid, district_id=None, topic="city", created_by=admin,
                                 content={"vi": {"title": "Cắt nước", "body": "Thứ bảy"},
                                          "en": {"title": "Water cut", "body": "Saturday"}})
    uc = DeliverPushBatch(PgOutbox(pool), gateway, SystemClock(), DeliveryPolicy())
    with respx.mock() as mock:
        route = mock.post(SEND_URL).mock(
            return_value=httpx.Response(200, json={"name": f"projects/{PROJECT}/messages/1"}))
        assert (await uc.execute()).sent == 1
    msg = json.loads(route.calls[0].request.content)["message"]
    assert msg["topic"] == "city"
    assert msg["notification"] == {"title": "Cắt nước", "body": "Thứ bảy"}
    assert msg["data"]["title_en"] == "Water cut"
