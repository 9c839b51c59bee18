"""A periodic job (``Job.once_per_period``) runs once per period between several workers, not once per
worker; a job without the flag runs in each worker as before."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from adapters.postgres.pool import create_pool
from api.platform.container import Container
from api.platform.context import Job
from api.platform.settings import Settings
from api.platform.worker import Worker

PERIOD_S = 0.5
RUN_S = 2.2  # periods starting at 0, 0.5, 1.0, 1.5 and 2.0 s


@pytest.fixture
async def containers(clean_db: str, settings: Settings) -> AsyncIterator[list[Container]]:
    pools = [await create_pool(clean_db, max_size=3) for _ in range(3)]
    yield [Container(settings=replace(settings, database_url=clean_db), pool=p, services={}) for p in pools]
    for p in pools:
        await p.close()


async def _run(containers: list[Container], once_per_period: bool) -> list[int]:
    runs = [0] * len(containers)

    def job_of(i: int) -> Job:
        async def job(_: Any) -> bool:
            runs[i] += 1
            return False

        return Job("test.periodic", job, idle_s=PERIOD_S, once_per_period=once_per_period)

    workers = [Worker(c, [job_of(i)]) for i, c in enumerate(containers)]
    for w in workers:
        w.start()
    await asyncio.sleep(RUN_S)
    for w in workers:
        await w.stop()
    return runs


async def test_three_workers_run_a_periodic_job_once_per_period(containers: list[Container]) -> None:
    runs = await _run(containers, once_per_period=True)
    assert 4 <= sum(runs) <= 6  # five periods, give or take one at the edges
    recorded = await containers[0].pool.fetchval("SELECT runs FROM worker_periods WHERE job = 'test.periodic'")
    assert recorded == sum(runs)


async def test_without_the_flag_each_worker_runs_it(containers: list[Container]) -> None:
    runs = await _run(containers, once_per_period=False)
    assert all(n >= 4 for n in runs)
