"""The background worker: a loop over the jobs of every context (``thudo worker`` or inside the server).

A job is ``async run(container) -> bool``: True when it did work and should run again at once,
False when it found nothing (it then sleeps ``idle_s``). A context lists its jobs in its
``Context`` record (``api/platform/context.py``), e.g. the feedback context's deadline escalation::

    Context(name="feedback", ..., jobs=[Job("feedback.deadline_escalation", escalate_overdue, idle_s=60)])

Several worker processes may run at once: the jobs claim rows with ``FOR UPDATE SKIP LOCKED``, and a
periodic job (``Job.once_per_period``: purges, escalation, reconciliation) first claims its period in
``worker_periods``, so it runs once per ``idle_s`` between all workers, not once per worker.
On shutdown the worker stops taking new batches, lets in-flight ones finish for a few seconds,
and then cancels them (a cancelled push batch gives its claimed rows back).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Sequence
from typing import Any

import asyncpg
from prometheus_client import Counter, start_http_server

from adapters.postgres.idempotency import purge_expired
from adapters.postgres.periods import claim_period
from api.platform.container import Container, build_container
from api.platform.context import Job
from api.platform.settings import Settings

log = logging.getLogger("thudo.worker")

JOB_ERRORS = Counter("thudo_worker_job_errors_total", "Unexpected errors in worker jobs", ["job"])

SHUTDOWN_GRACE_S = 10.0
HOLDER = f"{socket.gethostname()}:{os.getpid()}"  # who ran a period (worker_periods.holder)
LISTEN_RETRY_S = 5.0


async def purge_idempotency_keys(container: Container) -> bool:
    async with container.pool.acquire() as conn:
        return await purge_expired(conn) > 0


def all_jobs() -> list[Job]:
    from api.platform.registry import CONTEXTS

    return [job for context in CONTEXTS for job in context.jobs]


class Wakeups:
    """LISTEN on the channels the jobs name (``Job.wake_channel``), on a connection of its own: each
    NOTIFY sets that channel's event. The connection is re-opened after a loss; until then, and for
    anything missed meanwhile, the jobs' ``idle_s`` polling carries on (every event is set on
    reconnect so nothing waits a whole poll period)."""

    def __init__(self, dsn: str, channels: set[str]) -> None:
        self.dsn = dsn
        self.events = {channel: asyncio.Event() for channel in channels}

    def _notified(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        self.events[channel].set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            lost = asyncio.Event()
            try:
                conn = await asyncpg.connect(self.dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("worker cannot listen for wake-ups; polling", extra={"error": type(exc).__name__})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), LISTEN_RETRY_S)
                continue
            try:
                conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
                for channel in self.events:
                    await conn.add_listener(channel, self._notified)
                for event in self.events.values():
                    event.set()
                stopped = asyncio.ensure_future(stop.wait())
                dropped = asyncio.ensure_future(lost.wait())
                await asyncio.wait({stopped, dropped}, return_when=asyncio.FIRST_COMPLETED)
                stopped.cancel()
                dropped.cancel()
            finally:
                with contextlib.suppress(Exception):
                    await conn.close(timeout=2)


class Worker:
    def __init__(self, container: Container, jobs: Sequence[Job] | None = None) -> None:
        self.container = container
        self.jobs = all_jobs() if jobs is None else list(jobs)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        channels = {job.wake_channel for job in self.jobs if job.wake_channel}
        dsn = container.settings.database_url if channels else None
        self.wakeups = Wakeups(dsn, channels) if dsn else None

    async def _loop(self, job: Job) -> None:
        failures = 0
        busy = False
        while not self._stop.is_set():
            try:
                # A periodic job that is still busy carries on with the period it won.
                if job.once_per_period and not busy and (wait := await self._claim(job)) > 0:
                    await self._sleep(min(wait, job.idle_s))
                    continue
                busy = await job.run(self.container)
                failures = 0
            except Exception:
                # Database down, provider unreachable...: log, back off (capped), keep going.
                failures += 1
                JOB_ERRORS.labels(job.name).inc()
                log.exception("worker job failed", extra={"job": job.name})
                busy = False
                await self._sleep(min(60.0, job.idle_s * 2 ** min(failures, 6)))
                continue
            if not busy and not job.once_per_period:
                await self._sleep(job.idle_s, self._wake_event(job))

    async def _claim(self, job: Job) -> float:
        async with self.container.pool.acquire() as conn:
            return await claim_period(conn, job.name, job.idle_s, HOLDER)

    def _wake_event(self, job: Job) -> asyncio.Event | None:
        if self.wakeups is None or job.wake_channel is None:
            return None
        return self.wakeups.events[job.wake_channel]

    async def _sleep(self, seconds: float, wake: asyncio.Event | None = None) -> None:
        waits = [asyncio.ensure_future(self._stop.wait())]
        if wake is not None:
            waits.append(asyncio.ensure_future(wake.wait()))
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
        if wake is not None:
            # Every loop sleeping on this channel woke together; work committed from here on sets it again.
            wake.clear()

    def start(self) -> None:
        if self.wakeups is not None:
            self._tasks.append(asyncio.create_task(self.wakeups.run(self._stop), name="worker:listen"))
        for job in self.jobs:
            for i in range(job.concurrency):
                self._tasks.append(asyncio.create_task(self._loop(job), name=f"worker:{job.name}:{i}"))

    async def stop(self, grace_s: float = SHUTDOWN_GRACE_S) -> None:
        self._stop.set()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=grace_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._tasks.clear()

    async def run_until(self, stop: asyncio.Event) -> None:
        self.start()
        await stop.wait()
        await self.stop()


async def run_worker_forever(settings: Settings) -> None:
    """``thudo worker``: run every job until SIGTERM/SIGINT, then shut down gracefully."""
    from api.platform.registry import CONTEXTS

    if settings.worker_metrics_port:
        start_http_server(settings.worker_metrics_port, addr=settings.host)
    container = await build_container(settings, CONTEXTS, pool_max=max(4, settings.db_pool_max))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    worker = Worker(container)
    log.info("worker started", extra={"jobs": sorted(job.name for job in worker.jobs)})
    try:
        await worker.run_until(stop)
    finally:
        await container.close()
        log.info("worker stopped")


# --- inside the server (settings.worker_inline): started and stopped by the app's lifespan ---

_INLINE: dict[int, Worker] = {}


async def start_inline_worker(container: Container) -> None:
    if not container.settings.worker_inline:
        return
    worker = Worker(container)
    worker.start()
    _INLINE[id(container)] = worker


async def stop_inline_worker(container: Container) -> None:
    worker = _INLINE.pop(id(container), None)
    if worker is not None:
        await worker.stop()
