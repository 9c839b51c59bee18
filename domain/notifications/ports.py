"""Ports of the notifications context.

``Notifier`` is what other contexts use ("notify citizen X of event Y about object Z"); the
others are what the delivery worker needs: the outbox store and the push gateway (FCM).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from domain.notifications.delivery_model import (
    ClaimedRow,
    PushMessage,
    Reschedule,
    SendOutcome,
    TopicOutcome,
)
from domain.notifications.model import Notification


class Notifier(Protocol):
    """Queues notifications in the caller's unit of work (same transaction as the business change)."""

    async def notify(self, notification: Notification) -> None: ...


class Outbox(Protocol):
    """The push outbox as the worker sees it. Each method is its own short transaction."""

    async def claim(self, kinds: tuple[str, ...], limit: int, lease_s: float,
                    claim_id: uuid.UUID) -> list[ClaimedRow]:
        """Lease up to ``limit`` due rows (``FOR UPDATE SKIP LOCKED``); counts one attempt each."""
        ...

    async def finish(self, claim_id: uuid.UUID, *, sent: list[uuid.UUID], dead: list[tuple[uuid.UUID, str]],
                     retry: list[Reschedule], drop_devices: list[uuid.UUID], drop_tokens: list[str]) -> None:
        """Record a batch's results, ignoring rows whose lease passed to another claimer."""
        ...

    async def release(self, claim_id: uuid.UUID) -> None:
        """Give claimed rows back at once (graceful shutdown)."""
        ...

    async def stats(self, now: datetime) -> dict[str, float]:
        """queued, dead and lag_seconds (age of the oldest due row)."""
        ...


class PushGateway(Protocol):
    """Firebase Cloud Messaging (or its local stand-in)."""

    max_batch: int  # messages per send call (FCM: 500)
    max_subscription_batch: int  # tokens per topic (un)subscription call (FCM: 1000)

    async def send(self, messages: list[PushMessage]) -> list[SendOutcome]: ...

    async def manage_topic(self, subscribe: bool, tokens: list[str], topic: str) -> list[TopicOutcome]: ...
