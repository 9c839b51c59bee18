"""Delivery through the real firebase-admin SDK with its HTTP calls intercepted (respx, FCM v1 wire).

Shows the issue's "done means": 1,200 messages go out as 3 calls of ≤ 500; UNREGISTERED and
invalid tokens delete the device; 503 is retried then succeeds; after N failures the row is
dead-lettered; two workers running concurrently send each row exactly once.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
import respx
from firebase_admin import credentials, messaging
from google.auth.credentials import Credentials as GoogleCredentials

from adapters.fcm.gateway import FcmGateway
from adapters.postgres.notifications.notifier import PgNotifier
from adapters.postgres.notifications.outbox import PgOutbox
from adapters.postgres.pool import create_pool
from domain.notifications.delivery import DeliverPushBatch, DeliveryPolicy
from domain.notifications.model import Notification
from domain.shared.ids import new_id
from domain.shared.time import SystemClock
from tests.support.notifications import make_devices, make_user

PROJECT = "thudo-test"
SEND_URL = f"https://fcm.googleapis.com/v1/projects/{PROJECT}/messages:send"


class _GoogleCred(GoogleCredentials):
    def refresh(self, request: Any) -> None:
        self.token = "test-access-token"


class FakeCredential(credentials.Base):
    """A credential that never talks to Google (like the SDK's own tests' MockCredential)."""

    def __init__(self) -> None:
        self._g = _GoogleCred()
        self._g.token = "test-access-token"

    def get_credential(self) -> GoogleCredentials:
        return self._g


def fcm_error(status: int, code: str, fcm_code: str | None = None, message: str = "error") -> httpx.Response:
    details = [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcm_code}] \
        if fcm_code else []
    return httpx.Response(status, json={"error": {"code": status, "message": message, "status": code,
                                                  "details": details}})


def token_of(request: httpx.Request) -> str:
    return str(json.loads(request.content)["message"]["token"])


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"name": f"projects/{PROJECT}/messages/{token_of(request)}"})


@pytest.fixture
async def pool(clean_db: str) -> AsyncIterator[asyncpg.Pool[Any]]:
    p = await create_pool(clean_db, max_size=6)
    yield p
    await p.close()


@pytest.fixture
async def gateway() -> AsyncIterator[FcmGateway]:
    gw = FcmGateway(project_id=PROJECT, credential=FakeCredential())
    yield gw
    await gw.close()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sizes of every call to the public ``messaging.send_each_async``."""
    sizes: list[int] = []
    real = messaging.send_each_async

    async def counting(messages: list[messaging.Message], dry_run: bool = False, app: Any = None) -> Any:
        sizes.append(len(messages))
        return await real(messages, dry_run=dry_run, app=app)

    monkeypatch.setattr(messaging, "send_each_async", counting)
    return sizes


async def queue(pool: asyncpg.Pool[Any], devices: int) -> list[str]:
    async with pool.acquire() as conn, conn.transaction():
        uid = await make_user(conn)
        tokens = await make_devices(conn, uid, devices)
        await PgNotifier(conn).notify(Notification(
            user_id=uid, category="account", template="account.new_login", object_type="account",
            object_id="me", params={"device": "Pixel"}))
    return tokens


def use_case(pool: asyncpg.Pool[Any], gateway: FcmGateway, **policy: Any) -> DeliverPushBatch:
    return DeliverPushBatch(PgOutbox(pool), gateway, SystemClock(), DeliveryPolicy(**policy))


async def drain(uc: DeliverPushBatch) -> int:
    total = 0
    while (report := await uc.execute()).claimed:
        total += report.claimed
    return total


async def make_due(pool: asyncpg.Pool[Any]) -> None:
    await pool.execute("UPDATE push_outbox SET available_at = now() WHERE status = 'pending'")


async def statuses(pool: asyncpg.Pool[Any]) -> dict[str, int]:
    rows = await pool.fetch("SELECT status, count(*) n FROM push_outbox WHERE kind = 'token' GROUP BY 1")
    return {r["status"]: r["n"] for r in rows}


async def test_1200_messages_go_out_in_three_calls(pool: Any, gateway: FcmGateway, calls: list[int]) -> None:
    await queue(pool, 1200)
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(SEND_URL).mock(side_effect=ok)
        assert await drain(use_case(pool, gateway)) == 1200
    assert calls == [500, 500, 200]
    assert route.call_count == 1200  # the SDK issues one HTTP/1.1 or HTTP/2 request per message
    body = json.loads(route.calls[0].request.content)
    assert "validate_only" not in body  # the public function really sends (dry_run=False)
    msg = body["message"]
    assert msg["notification"]["title"] == "Đăng nhập mới"
    assert msg["android"]["collapse_key"] == msg["apns"]["headers"]["apns-collapse-id"]
    assert msg["data"]["deep_link"] == "thudo://account"
    assert route.calls[0].request.headers["authorization"] == "Bearer test-access-token"
    assert await statuses(pool) == {"sent": 1200}


async def test_unregistered_and_invalid_tokens_delete_the_device(pool: Any, gateway: FcmGateway) -> None:
    gone, bad, good = await queue(pool, 3)

    def answer(request: httpx.Request) -> httpx.Response:
        token = token_of(request)
        if token == gone:
            return fcm_error(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.")
        if token == bad:
            return fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT",
                             "The registration token is not a valid FCM registration token")
        return ok(request)

    with respx.mock() as mock:
        mock.post(SEND_URL).mock(side_effect=answer)
        report = await use_case(pool, gateway).execute()
    assert (report.sent, report.tokens_removed) == (1, 2)
    assert [r["fcm_token"] for r in await pool.fetch("SELECT fcm_token FROM devices")] == [good]
    assert await statuses(pool) == {"sent": 1}


async def test_malformed_message_is_dead_lettered_without_deleting_the_token(pool: Any, gateway: FcmGateway) -> None:
    await queue(pool, 1)
    with respx.mock() as mock:
        mock.post(SEND_URL).mock(return_value=fcm_error(400, "INVALID_ARGUMENT", None, "Invalid JSON payload"))
        report = await use_case(pool, gateway).execute()
    assert report.dead == 1
    assert await pool.fetchval("SELECT count(*) FROM devices") == 1


async def test_503_is_retried_then_succeeds(pool: Any, gateway: FcmGateway) -> None:
    await queue(pool, 1)
    with respx.mock() as mock:
        # FCM unavailable: the row goes back to the outbox with backoff and the worker pauses...
        route = mock.post(SEND_URL).mock(side_effect=[fcm_error(503, "UNAVAILABLE"), ok])
        first = await use_case(pool, gateway, backoff_base_s=30).execute()
        assert (first.sent, first.retried) == (0, 1)
        assert first.pause_s > 0
        row = await pool.fetchrow("SELECT attempts, available_at, status FROM push_outbox WHERE kind = 'token'")
        assert row["status"] == "pending"
        assert row["attempts"] == 1
        assert 14 <= (row["available_at"] - datetime.now(UTC)).total_seconds() <= 31  # 30 s ± jitter
        # ...and sends it on a later pass once the backoff has passed.
        assert (await use_case(pool, gateway).execute()).claimed == 0  # not due yet
        await make_due(pool)
        second = await use_case(pool, gateway).execute()
    assert second.sent == 1
    assert route.call_count == 2
    assert await statuses(pool) == {"sent": 1}


async def test_the_sdk_does_not_retry_within_a_call(pool: Any, gateway: FcmGateway) -> None:
    # Its retry loop leaks a connection per refused request (tests/integration/test_fcm_outage.py); the
    # outbox retries instead, durably and without holding the batch's lease.
    await queue(pool, 1)
    with respx.mock() as mock:
        route = mock.post(SEND_URL).mock(side_effect=[fcm_error(503, "UNAVAILABLE"), ok])
        report = await use_case(pool, gateway).execute()
    assert (report.sent, report.retried, route.call_count) == (0, 1, 1)


async def test_dead_lettered_after_max_attempts(pool: Any, gateway: FcmGateway) -> None:
    await queue(pool, 1)
    uc = use_case(pool, gateway, max_attempts=3)
    with respx.mock() as mock:
        mock.post(SEND_URL).mock(return_value=fcm_error(500, "INTERNAL"))
        for _ in range(3):
            await uc.execute()
            await make_due(pool)
    row = await pool.fetchrow("SELECT status, attempts, last_error FROM push_outbox WHERE kind = 'token'")
    assert (row["status"], row["attempts"]) == ("dead", 3)
    assert "after 3 attempts" in row["last_error"]
    with respx.mock() as mock:
        assert (await uc.execute()).claimed == 0  # dead rows are never sent again


async def test_quota_exceeded_backs_off_without_dead_lettering(pool: Any, gateway: FcmGateway) -> None:
    await queue(pool, 2)
    with respx.mock() as mock:
        mock.post(SEND_URL).mock(return_value=fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"))
        report = await use_case(pool, gateway, max_attempts=1).execute()
    assert report.retried == 2
    assert report.pause_s > 0
    assert await statuses(pool) == {"pending": 2}


async def test_two_workers_send_each_row_once(pool: Any, gateway: FcmGateway) -> None:
    tokens = await queue(pool, 1500)
    seen: Counter[str] = Counter()

    async def slow_ok(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.001)  # keep both workers in flight at the same time
        seen[token_of(request)] += 1
        return ok(request)

    other = FcmGateway(project_id=PROJECT, credential=FakeCredential())
    try:
        with respx.mock() as mock:
            mock.post(SEND_URL).mock(side_effect=slow_ok)
            a, b = await asyncio.gather(drain(use_case(pool, gateway, batch_size=100)),
                                        drain(use_case(pool, other, batch_size=100)))
    finally:
        await other.close()
    assert a + b == 1500
    assert a > 0
    assert b > 0
    assert set(seen) == set(tokens)
    assert max(seen.values()) == 1
    assert await statuses(pool) == {"sent": 1500}


async def test_late_result_from_an_expired_lease_is_ignored(pool: Any) -> None:
    await queue(pool, 1)
    outbox = PgOutbox(pool)
    first, second = new_id(), new_id()
    [row] = await outbox.claim(("token",), 10, 0.0, first)  # lease ends at once: a "crashed" worker
    [again] = await outbox.claim(("token",), 10, 60.0, second)
    assert again.id == row.id
    assert again.attempts == 2
    await outbox.finish(first, sent=[row.id], dead=[], retry=[], drop_devices=[], drop_tokens=[])
    assert await statuses(pool) == {"pending": 1}  # the crashed worker's result does not count
    await outbox.finish(second, sent=[row.id], dead=[], retry=[], drop_devices=[], drop_tokens=[])
    assert await statuses(pool) == {"sent": 1}
