"""The worker's job loop: busy jobs run back to back, idle ones sleep, failures don't stop it,
shutdown waits for in-flight work and then cancels."""

from __future__ import annotations

import asyncio
from typing import Any

from api.platform.container import Container
from api.platform.context import Job
from api.platform.worker import Worker, all_jobs


def ctx() -> Container:
    return Container(settings=None, pool=None, services={})  # type: ignore[arg-type]


def test_default_jobs_are_registered() -> None:
    names = [job.name for job in all_jobs()]
    assert {"notifications.push", "notifications.topics", "notifications.metrics", "notifications.purge",
            "idempotency.purge", "feedback.deadline_escalation"} <= set(names)
    assert len(names) == len(set(names))


async def test_busy_job_repeats_and_idle_job_sleeps() -> None:
    runs = {"busy": 0, "idle": 0}

    async def busy(_: Any) -> bool:
        runs["busy"] += 1
        await asyncio.sleep(0)
        return runs["busy"] < 50

    async def idle(_: Any) -> bool:
        runs["idle"] += 1
        return False

    worker = Worker(ctx(), [Job("busy", busy, idle_s=60), Job("idle", idle, idle_s=60)])
    worker.start()
    await asyncio.sleep(0.1)
    await worker.stop()
    assert runs == {"busy": 50, "idle": 1}


async def test_failing_job_is_retried_with_backoff_and_does_not_stop_others() -> None:
    calls = {"bad": 0, "good": 0}

    async def bad(_: Any) -> bool:
        calls["bad"] += 1
        raise RuntimeError("database down")

    async def good(_: Any) -> bool:
        calls["good"] += 1
        return False

    worker = Worker(ctx(), [Job("bad", bad, idle_s=0.01), Job("good", good, idle_s=0.01)])
    worker.start()
    await asyncio.sleep(0.3)
    await worker.stop()
    assert 2 <= calls["bad"] <= 6  # 0.02, 0.04, 0.08, 0.16 s back-off, not a hot loop
    assert calls["good"] > calls["bad"]


async def test_stop_lets_in_flight_work_finish_then_cancels_stragglers() -> None:
    finished, cancelled = [], []

    async def short(_: Any) -> bool:
        await asyncio.sleep(0.05)
        finished.append(1)
        return False

    async def stuck(_: Any) -> bool:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(1)
            raise
        return False

    worker = Worker(ctx(), [Job("short", short, idle_s=60), Job("stuck", stuck, idle_s=60)])
    worker.start()
    await asyncio.sleep(0.01)
    await worker.stop(grace_s=0.2)
    assert finished == [1]
    assert cancelled == [1]
