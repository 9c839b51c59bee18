"""Delivering the push outbox: claim a batch, send it, record what happened.

The claim is a short transaction (lease + attempt count), the send happens outside any
transaction, and results are recorded in another short one. A worker that dies mid-send leaves
its rows leased; when the lease ends another worker sends them again, so a crash costs at most
one duplicate, which the phone folds away through the collapse key derived from the
idempotency key.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

import msgspec

from domain.notifications.delivery_model import ClaimedRow, PushMessage, Reschedule, SendOutcome, TopicOutcome
from domain.notifications.ports import Outbox, PushGateway
from domain.shared.ids import new_id
from domain.shared.time import Clock


class DeliveryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    batch_size: int = 500
    max_attempts: int = 8
    backoff_base_s: float = 5.0
    backoff_max_s: float = 3600.0
    lease_s: float = 120.0


class DeliveryReport(msgspec.Struct, kw_only=True):
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    tokens_removed: int = 0
    # Seconds the whole worker should pause (FCM quota exceeded), 0 when it may continue.
    pause_s: float = 0.0


def collapse_key(idempotency_key: str) -> str:
    """32 hex chars: fits FCM's collapse_key, APNs' apns-collapse-id (≤ 64 B) and WebPush Topic (≤ 32)."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def backoff_s(policy: DeliveryPolicy, attempts: int, rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter: base·2^(n-1), capped, scaled into [50 %, 100 %]."""
    ceiling = min(policy.backoff_max_s, policy.backoff_base_s * float(2 ** max(0, attempts - 1)))
    return ceiling * (0.5 + rand() / 2)


def to_message(row: ClaimedRow) -> PushMessage:
    p = row.payload
    data = p.get("data")
    return PushMessage(
        token=row.token if row.kind == "token" else None, topic=row.topic if row.kind == "topic" else None,
        title=str(p.get("title", "")), body=str(p.get("body", "")),
        data={str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {},
        collapse_key=collapse_key(row.idempotency_key), high_priority=row.legally_required)


# Outcomes about FCM, not about the message: every row waits, and the worker pauses instead of hammering.
_PROVIDER_WIDE = ("quota", "unavailable")
OUTAGE_RETRY_MAX_S = 60.0


class _Results:
    def __init__(self, policy: DeliveryPolicy, now: datetime, rand: Callable[[], float]) -> None:
        self.policy, self.now, self.rand = policy, now, rand
        self.sent: list[uuid.UUID] = []
        self.dead: list[tuple[uuid.UUID, str]] = []
        self.retry: list[Reschedule] = []
        self.drop_devices: list[uuid.UUID] = []
        self.drop_tokens: list[str] = []
        self.pause_s = 0.0

    def record(self, row: ClaimedRow, outcome: SendOutcome | TopicOutcome) -> None:
        error = outcome.error or outcome.outcome
        if outcome.outcome == "sent":
            self.sent.append(row.id)
        elif outcome.outcome == "unregistered":
            # The token is useless: forget it (its outbox rows go with the device).
            self.dead.append((row.id, error))
            if row.device_id is not None:
                self.drop_devices.append(row.device_id)
            elif row.token:
                self.drop_tokens.append(row.token)
        elif outcome.outcome == "failed":
            self.dead.append((row.id, error))
        elif outcome.outcome in _PROVIDER_WIDE or row.attempts < self.policy.max_attempts:
            # Quota and outages say nothing about the message itself, so they never dead-letter it.
            delay = backoff_s(self.policy, row.attempts, self.rand)
            if outcome.outcome == "unavailable":
                # However many attempts an outage used up, look again within a minute: delivery resumes
                # soon after FCM does, not a WORKER_BACKOFF_MAX_SECONDS later.
                delay = min(delay, OUTAGE_RETRY_MAX_S)
            if outcome.outcome in _PROVIDER_WIDE:
                self.pause_s = max(self.pause_s, delay)
            self.retry.append(Reschedule(row.id, self.now + timedelta(seconds=delay), error))
        else:
            self.dead.append((row.id, f"gave up after {row.attempts} attempts: {error}"))


class DeliverPushBatch:
    """One pass of the outbox worker: push messages (token and topic rows) and subscriptions."""

    MESSAGE_KINDS = ("token", "topic")
    TOPIC_KINDS = ("subscribe", "unsubscribe")

    def __init__(self, outbox: Outbox, gateway: PushGateway, clock: Clock, policy: DeliveryPolicy,
                 rand: Callable[[], float] = random.random) -> None:
        self._outbox, self._gateway, self._clock = outbox, gateway, clock
        self._policy, self._rand = policy, rand

    async def execute(self, kinds: tuple[str, ...] = MESSAGE_KINDS) -> DeliveryReport:
        claim_id = new_id()
        topics = kinds == self.TOPIC_KINDS
        limit = self._gateway.max_subscription_batch * 4 if topics else min(self._policy.batch_size,
                                                                            self._gateway.max_batch)
        rows = await self._outbox.claim(kinds, limit, self._policy.lease_s, claim_id)
        if not rows:
            return DeliveryReport()
        try:
            results = _Results(self._policy, self._clock.now(), self._rand)
            if topics:
                await self._manage_topics(rows, results)
            else:
                await self._send(rows, results)
        except asyncio.CancelledError:
            await asyncio.shield(self._outbox.release(claim_id))
            raise
        await self._outbox.finish(claim_id, sent=results.sent, dead=results.dead, retry=results.retry,
                                  drop_devices=results.drop_devices, drop_tokens=results.drop_tokens)
        return DeliveryReport(claimed=len(rows), sent=len(results.sent), retried=len(results.retry),
                              dead=len(results.dead),
                              tokens_removed=len(set(results.drop_devices)) + len(set(results.drop_tokens)),
                              pause_s=results.pause_s)

    async def _send(self, rows: list[ClaimedRow], results: _Results) -> None:
        try:
            outcomes = await self._gateway.send([to_message(r) for r in rows])
        except Exception as exc:  # the whole call failed (network, auth): every row waits for FCM
            outcomes = [SendOutcome("unavailable", type(exc).__name__)] * len(rows)
        for row, outcome in zip(rows, outcomes, strict=True):
            results.record(row, outcome)

    async def _manage_topics(self, rows: list[ClaimedRow], results: _Results) -> None:
        groups: dict[tuple[str, str], list[ClaimedRow]] = defaultdict(list)
        for row in rows:
            groups[(row.kind, row.topic or "")].append(row)
        size = self._gateway.max_subscription_batch
        for (kind, topic), group in groups.items():
            for start in range(0, len(group), size):
                chunk = group[start:start + size]
                try:
                    outcomes = await self._gateway.manage_topic(
                        kind == "subscribe", [r.token or "" for r in chunk], topic)
                except Exception as exc:
                    outcomes = [TopicOutcome("retry", type(exc).__name__)] * len(chunk)
                for row, outcome in zip(chunk, outcomes, strict=True):
                    results.record(row, outcome)
