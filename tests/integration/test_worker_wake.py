"""A job with a wake channel runs when work is committed (LISTEN/NOTIFY), not at its next poll; a
rolled-back insert wakes nobody; a lost listener connection is re-opened."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import asyncpg
import pytest

from adapters.postgres.pool import create_pool
from api.platform.container import Container
from api.platform.context import Job
from api.platform.settings import Settings
from api.platform.worker import Worker
from tests.support.notifications import make_devices, make_user

POLL_S = 60.0  # far longer than the test waits: only a wake-up can make the job run


@pytest.fixture
async def container(clean_db: str, settings: Settings) -> AsyncIterator[Container]:
    pool = await create_pool(clean_db, max_size=4)
    yield Container(settings=replace(settings, database_url=clean_db), pool=pool, services={})
    await pool.close()


async def _device_token(pool: Any) -> str:
    # Registering a device queues its topic subscriptions (a wake-up of its own): done before measuring.
    async with pool.acquire() as conn:
        [token] = await make_devices(conn, await make_user(conn), 1)
    return token


async def _queue_push(pool: Any, token: str, *, commit: bool = True) -> None:
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await conn.execute(
            "INSERT INTO push_outbox (id, kind, idempotency_key, token, topic) "
            "VALUES (gen_random_uuid(), 'subscribe', gen_random_uuid()::text, $1, 'city')", token)
        await (tx.commit() if commit else tx.rollback())


async def _wait(runs: list[float], n: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while len(runs) < n and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return len(runs) >= n


async def test_a_committed_message_wakes_the_job_and_a_rollback_does_not(container: Container) -> None:
    runs: list[float] = []

    async def job(_: Any) -> bool:
        runs.append(time.monotonic())
        return False

    token = await _device_token(container.pool)
    worker = Worker(container, [Job("push", job, idle_s=POLL_S, wake_channel="push_outbox")])
    worker.start()
    try:
        assert await _wait(runs, 1)          # the first run at start
        assert await _wait(runs, 2, 2.0)     # the listener's catch-up wake-up once connected
        await asyncio.sleep(0.2)
        settled = len(runs)
        await _queue_push(container.pool, token, commit=False)
        await asyncio.sleep(0.5)
        assert len(runs) == settled          # nothing committed: nobody woke
        queued_at = time.monotonic()
        await _queue_push(container.pool, token)
        assert await _wait(runs, settled + 1, 5.0)
        assert runs[-1] - queued_at < 5.0 < POLL_S
        # The listener connection is killed: the worker reconnects and listens again.
        await container.pool.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()")
        await asyncio.sleep(6.0)             # LISTEN_RETRY_S at most, plus the catch-up run
        before = len(runs)
        await _queue_push(container.pool, token)
        assert await _wait(runs, before + 1, 5.0)
    finally:
        await worker.stop()


async def test_jobs_without_a_channel_do_not_listen(container: Container) -> None:
    async def job(_: Any) -> bool:
        return False

    worker = Worker(container, [Job("quiet", job, idle_s=POLL_S)])
    assert worker.wakeups is None
    conn: asyncpg.Connection[Any]
    async with container.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'") == 0
