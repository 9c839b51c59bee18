"""PgNotifier: the inbox entry and outbox rows commit or roll back with the business change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from typing import Any

import pytest

from adapters.postgres.notifications.notifier import PgNotifier
from adapters.postgres.pool import connect
from domain.notifications.model import Notification
from tests.support.notifications import make_devices, make_user


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


@pytest.fixture
async def conn(clean_db: str) -> AsyncIterator[Any]:
    c = await connect(clean_db)
    yield c
    await c.close()


def _note(user_id: Any, **kw: Any) -> Notification:
    return Notification(user_id=user_id, category=kw.pop("category", "account"), template="account.new_login",
                        object_type="account", object_id="me", params={"device": "Pixel"}, **kw)


async def test_queues_inbox_and_one_row_per_device_in_its_locale(conn: Any) -> None:
    uid = await make_user(conn)
    await make_devices(conn, uid, 2, locale="vi")
    await make_devices(conn, uid, 1, locale="en")
    async with conn.transaction():
        await PgNotifier(conn).notify(_note(uid))
    inbox = await conn.fetch("SELECT * FROM notification_inbox WHERE user_id = $1", uid)
    assert len(inbox) == 1
    assert inbox[0]["deep_link"] == "thudo://account"
    assert inbox[0]["content"]["en"]["body"] == "Your account just signed in on Pixel."
    rows = await conn.fetch("SELECT payload FROM push_outbox WHERE kind = 'token' ORDER BY payload->>'title'")
    assert sorted(r["payload"]["title"] for r in rows) == ["New sign-in", "Đăng nhập mới", "Đăng nhập mới"]
    assert rows[0]["payload"]["data"]["deep_link"] == "thudo://account"


async def test_rolled_back_business_change_leaves_no_notification(conn: Any) -> None:
    uid = await make_user(conn)
    await make_devices(conn, uid, 1)

    async def business_change() -> None:
        async with conn.transaction():
            await conn.execute("UPDATE users SET full_name = 'changed' WHERE id = $1", uid)
            await PgNotifier(conn).notify(_note(uid))
            raise RuntimeError("business rule failed after notifying")

    with pytest.raises(RuntimeError):
        await business_change()
    assert await conn.fetchval("SELECT full_name FROM users WHERE id = $1", uid) == "Test User"
    assert await conn.fetchval("SELECT count(*) FROM notification_inbox") == 0
    assert await conn.fetchval("SELECT count(*) FROM push_outbox WHERE kind = 'token'") == 0


async def test_same_idempotency_key_queues_once(conn: Any) -> None:
    uid = await make_user(conn)
    await make_devices(conn, uid, 1)
    for _ in range(3):
        await PgNotifier(conn).notify(_note(uid))
    await PgNotifier(conn).notify(_note(uid, idempotency_key="other"))
    assert await conn.fetchval("SELECT count(*) FROM notification_inbox") == 2
    assert await conn.fetchval("SELECT count(*) FROM push_outbox WHERE kind = 'token'") == 2


async def test_opt_out_suppresses_push_but_not_legally_required(conn: Any) -> None:
    uid = await make_user(conn)
    await make_devices(conn, uid, 1)
    await conn.execute("INSERT INTO notification_preferences (user_id, opted_out) VALUES ($1, '{account}')", uid)
    await PgNotifier(conn).notify(_note(uid))
    assert await conn.fetchval("SELECT count(*) FROM push_outbox WHERE kind = 'token'") == 0
    await PgNotifier(conn).notify(_note(uid, legally_required=True, idempotency_key="legal"))
    assert await conn.fetchval("SELECT count(*) FROM push_outbox WHERE kind = 'token'") == 1
    assert await conn.fetchval("SELECT count(*) FROM notification_inbox") == 2


async def test_quiet_hours_delay_the_push(conn: Any) -> None:
    uid = await make_user(conn)
    await make_devices(conn, uid, 1)
    await conn.execute("INSERT INTO notification_preferences (user_id, quiet_start, quiet_end) "
                       "VALUES ($1, $2, $3)", uid, time(22, 0), time(7, 0))
    # 16:30 UTC = 23:30 in Hanoi -> delayed to 07:00 Hanoi = 00:00 UTC next day.
    clock = FixedClock(datetime(2026, 3, 2, 16, 30, tzinfo=UTC))
    await PgNotifier(conn, clock).notify(_note(uid, legally_required=True))
    when = await conn.fetchval("SELECT available_at FROM push_outbox WHERE kind = 'token'")
    assert when == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
