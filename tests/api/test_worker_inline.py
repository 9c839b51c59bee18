"""The embedded default: the worker runs inside the server and delivers to the mounted stand-in."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

import httpx
import pytest

from adapters.postgres.notifications.notifier import PgNotifier
from adapters.postgres.pool import connect
from api.platform.app import create_app
from api.platform.settings import Settings
from domain.notifications.model import Notification
from tests.support.live import free_port, serve
from tests.support.notifications import make_devices, make_user


async def _queue(url: str) -> None:
    conn = await connect(url)
    try:
        async with conn.transaction():
            uid = await make_user(conn)
            await make_devices(conn, uid, 2)
            await PgNotifier(conn).notify(Notification(
                user_id=uid, category="account", template="account.new_login", object_type="account",
                object_id="inline", params={"device": "Pixel"}))
    finally:
        await conn.close()


async def _statuses(url: str) -> dict[str, int]:
    conn = await connect(url)
    try:
        return {r["status"]: r["n"] for r in await conn.fetch(
            "SELECT status, count(*) n FROM push_outbox WHERE kind = 'token' GROUP BY 1")}
    finally:
        await conn.close()


@pytest.mark.usefixtures("clean_db")
def test_inline_worker_delivers_to_the_standin_and_stops_with_the_app(settings: Settings, database_url: str) -> None:
    inline = replace(settings, port=free_port(), run_worker=True)
    with serve(create_app(inline), inline.port) as url:
        asyncio.run(_queue(database_url))
        deadline = time.monotonic() + 20
        seen: dict[str, Any] = {}
        while time.monotonic() < deadline:
            seen = httpx.get(url + "/dev/push/deliveries").json()
            if seen["delivered"] >= 2:
                break
            time.sleep(0.2)
        assert seen["delivered"] == 2
        assert {i["title"] for i in seen["items"]} == {"Đăng nhập mới"}
        assert "thudo_push_sent_total" in httpx.get(url + "/metrics").text
    assert asyncio.run(_statuses(database_url)) == {"sent": 2}
