"""The background worker: a loop over registered jobs (``thudo worker`` or inside the server).

A job is ``async run(ctx) -> bool``: True when it did work and should run again at once, False
when it found nothing (it then sleeps ``idle_s``). Contexts add theirs with ``register_job``
from their own api module, e.g. the feedback context's deadline escalation::

    from api.worker import register_job

    async def escalate(ctx: WorkerContext) -> bool:
        async with PgUnitOfWork(ctx.pool) as uow: ...

    register_job("feedback.deadline_escalation", escalate, idle_s=60)

Several worker processes may run at once: the jobs claim rows with ``FOR UPDATE SKIP LOCKED``.
On shutdown the worker stops taking new batches, lets in-flight ones finish for a few seconds,
and then cancels them (a cancelled push batch gives its claimed rows back).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
from prometheus_client import Counter, Gauge, start_http_server

from adapters.postgres.idempotency import purge_expired
from adapters.postgres.notifications_outbox import PgOutbox
from adapters.postgres.pool import create_pool
from api.feedback_jobs import escalate_overdue
from api.push_setup import build_push_gateway
from api.settings import Settings
from domain.notifications.delivery import DeliverPushBatch, DeliveryPolicy, DeliveryReport
from domain.notifications.ports import PushGateway
from domain.shared.time import Clock, SystemClock

log = logging.getLogger("thudo.worker")

PUSH_SENT = Counter("thudo_push_sent_total", "Push messages and subscriptions accepted by FCM")
PUSH_FAILED = Counter("thudo_push_failed_total", "Push attempts that failed and will be retried")
PUSH_DEAD = Counter("thudo_push_dead_lettered_total", "Push rows dead-lettered (or dropped with their token)")
PUSH_TOKENS_REMOVED = Counter("thudo_push_tokens_removed_total", "Device tokens deleted because FCM rejected them")
PUSH_QUEUED = Gauge("thudo_push_queued", "Push outbox rows waiting (pending, including leased and delayed)")
PUSH_DEAD_ROWS = Gauge("thudo_push_dead", "Dead-lettered push outbox rows kept for inspection")
PUSH_LAG = Gauge("thudo_push_lag_seconds", "Age of the oldest due, unclaimed push outbox row")
JOB_ERRORS = Counter("thudo_worker_job_errors_total", "Unexpected errors in worker jobs", ["job"])

SHUTDOWN_GRACE_S = 10.0
FINISHED_RETENTION = timedelta(days=7)


@dataclass
class WorkerContext:
    settings: Settings
    pool: asyncpg.Pool[Any]
    clock: Clock = field(default_factory=SystemClock)
    push: PushGateway | None = None


JobFn = Callable[[WorkerContext], Awaitable[bool]]


@dataclass(frozen=True)
class Job:
    name: str
    run: JobFn
    idle_s: float = 1.0
    concurrency: int = 1  # parallel loops of this job (each claims its own batches)


JOBS: dict[str, Job] = {}


def register_job(name: str, run: JobFn, *, idle_s: float = 1.0, concurrency: int = 1) -> None:
    JOBS[name] = Job(name, run, idle_s, concurrency)


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(batch_size=settings.worker_batch_size, max_attempts=settings.worker_max_attempts,
                          backoff_base_s=settings.worker_backoff_base_seconds,
                          backoff_max_s=settings.worker_backoff_max_seconds,
                          lease_s=settings.worker_lease_seconds)


def _count(report: DeliveryReport) -> None:
    PUSH_SENT.inc(report.sent)
    PUSH_FAILED.inc(report.retried)
    PUSH_DEAD.inc(report.dead)
    PUSH_TOKENS_REMOVED.inc(report.tokens_removed)


async def _deliver(ctx: WorkerContext, kinds: tuple[str, ...]) -> bool:
    assert ctx.push is not None
    report = await DeliverPushBatch(PgOutbox(ctx.pool), ctx.push, ctx.clock, delivery_policy(ctx.settings)).execute(
        kinds)
    _count(report)
    if report.pause_s:
        log.warning("FCM quota exceeded; pausing pushes", extra={"pause_s": round(report.pause_s, 1)})
        await asyncio.sleep(report.pause_s)
    return report.claimed > 0


async def push_messages(ctx: WorkerContext) -> bool:
    return await _deliver(ctx, DeliverPushBatch.MESSAGE_KINDS)


async def topic_subscriptions(ctx: WorkerContext) -> bool:
    return await _deliver(ctx, DeliverPushBatch.TOPIC_KINDS)


async def outbox_metrics(ctx: WorkerContext) -> bool:
    stats = await PgOutbox(ctx.pool).stats(ctx.clock.now())
    PUSH_QUEUED.set(stats["queued"])
    PUSH_DEAD_ROWS.set(stats["dead"])
    PUSH_LAG.set(stats["lag_seconds"])
    return False


async def purge_finished(ctx: WorkerContext) -> bool:
    return await PgOutbox(ctx.pool).purge_finished(ctx.clock.now() - FINISHED_RETENTION) > 0


async def purge_idempotency_keys(ctx: WorkerContext) -> bool:
    async with ctx.pool.acquire() as conn:
        return await purge_expired(conn) > 0


register_job("notifications.push", push_messages, idle_s=0.5, concurrency=2)
register_job("notifications.topics", topic_subscriptions, idle_s=2.0)
register_job("notifications.metrics", outbox_metrics, idle_s=5.0)
register_job("notifications.purge", purge_finished, idle_s=3600.0)
register_job("idempotency.purge", purge_idempotency_keys, idle_s=3600.0)
register_job("feedback.deadline_escalation", escalate_overdue, idle_s=60.0)


class Worker:
    def __init__(self, ctx: WorkerContext, jobs: list[Job] | None = None) -> None:
        self.ctx = ctx
        self.jobs = list(JOBS.values()) if jobs is None else jobs
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def _loop(self, job: Job) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                busy = await job.run(self.ctx)
                failures = 0
            except Exception:
                # Database down, provider unreachable...: log, back off (capped), keep going.
                failures += 1
                JOB_ERRORS.labels(job.name).inc()
                log.exception("worker job failed", extra={"job": job.name})
                busy = False
                await self._sleep(min(60.0, job.idle_s * 2 ** min(failures, 6)))
                continue
            if not busy:
                await self._sleep(job.idle_s)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    def start(self) -> None:
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


async def build_context(settings: Settings, pool: asyncpg.Pool[Any], clock: Clock | None = None) -> WorkerContext:
    push = await asyncio.to_thread(build_push_gateway, settings)
    return WorkerContext(settings=settings, pool=pool, clock=clock or SystemClock(), push=push)


async def close_context(ctx: WorkerContext) -> None:
    close = getattr(ctx.push, "close", None)
    if close is not None:
        await close()


async def run_worker_forever(settings: Settings) -> None:
    """``thudo worker``: run every job until SIGTERM/SIGINT, then shut down gracefully."""
    assert settings.database_url
    if settings.worker_metrics_port:
        start_http_server(settings.worker_metrics_port, addr=settings.host)
    pool = await create_pool(settings.database_url, max_size=max(4, settings.db_pool_max))
    ctx = await build_context(settings, pool)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker started", extra={"jobs": sorted(JOBS)})
    try:
        await Worker(ctx).run_until(stop)
    finally:
        await close_context(ctx)
        await pool.close()
        log.info("worker stopped")


# --- inside the server (settings.worker_inline): started and stopped by the app's lifespan ---

_INLINE: dict[int, tuple[Worker, WorkerContext]] = {}


async def start_inline_worker(container: Any) -> None:
    if not container.settings.worker_inline:
        return
    ctx = await build_context(container.settings, container.pool, container.clock)
    worker = Worker(ctx)
    worker.start()
    _INLINE[id(container)] = (worker, ctx)


async def stop_inline_worker(container: Any) -> None:
    entry = _INLINE.pop(id(container), None)
    if entry is not None:
        worker, ctx = entry
        await worker.stop()
        await close_context(ctx)
