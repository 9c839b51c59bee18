"""Worker jobs of the notifications context: push delivery, topic subscriptions, outbox metrics, purge."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from prometheus_client import Counter, Gauge

from adapters.postgres.notifications.outbox import PgOutbox
from api.notifications.wiring import NotificationServices
from api.platform.container import Container
from api.platform.context import Job
from api.platform.settings import Settings
from domain.notifications.delivery import DeliverPushBatch, DeliveryPolicy, DeliveryReport

log = logging.getLogger("thudo.worker")

PUSH_SENT = Counter("thudo_push_sent_total", "Push messages and subscriptions accepted by FCM")
PUSH_FAILED = Counter("thudo_push_failed_total", "Push attempts that failed and will be retried")
PUSH_DEAD = Counter("thudo_push_dead_lettered_total", "Push rows dead-lettered (or dropped with their token)")
PUSH_TOKENS_REMOVED = Counter("thudo_push_tokens_removed_total", "Device tokens deleted because FCM rejected them")
PUSH_QUEUED = Gauge("thudo_push_queued", "Push outbox rows waiting (pending, including leased and delayed)")
PUSH_DEAD_ROWS = Gauge("thudo_push_dead", "Dead-lettered push outbox rows kept for inspection")
PUSH_LAG = Gauge("thudo_push_lag_seconds", "Age of the oldest due, unclaimed push outbox row")

FINISHED_RETENTION = timedelta(days=7)


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


async def _deliver(container: Container, kinds: tuple[str, ...]) -> bool:
    push = await container.get(NotificationServices).gateway()
    report = await DeliverPushBatch(PgOutbox(container.pool), push, container.clock,
                                    delivery_policy(container.settings)).execute(kinds)
    _count(report)
    if report.pause_s:
        log.warning("FCM over quota or unavailable; pausing pushes", extra={"pause_s": round(report.pause_s, 1)})
        await asyncio.sleep(report.pause_s)
    return report.claimed > 0


async def push_messages(container: Container) -> bool:
    return await _deliver(container, DeliverPushBatch.MESSAGE_KINDS)


async def topic_subscriptions(container: Container) -> bool:
    return await _deliver(container, DeliverPushBatch.TOPIC_KINDS)


async def outbox_metrics(container: Container) -> bool:
    stats = await PgOutbox(container.pool).stats(container.clock.now())
    PUSH_QUEUED.set(stats["queued"])
    PUSH_DEAD_ROWS.set(stats["dead"])
    PUSH_LAG.set(stats["lag_seconds"])
    return False


async def purge_finished(container: Container) -> bool:
    return await PgOutbox(container.pool).purge_finished(container.clock.now() - FINISHED_RETENTION) > 0


JOBS = (
    # Woken by NOTIFY when a message is committed (migration 0022); the poll only catches rows that
    # become due later (retries, quiet hours) and anything sent while the listener reconnects.
    Job("notifications.push", push_messages, idle_s=2.0, concurrency=2, wake_channel="push_outbox"),
    Job("notifications.topics", topic_subscriptions, idle_s=2.0),
    Job("notifications.metrics", outbox_metrics, idle_s=5.0),
    Job("notifications.purge", purge_finished, idle_s=3600.0, once_per_period=True),
)
