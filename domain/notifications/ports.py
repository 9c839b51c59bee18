"""Ports the other contexts use to notify users."""

from __future__ import annotations

from typing import Protocol

from domain.notifications.model import Notification


class Notifier(Protocol):
    """Queues notifications in the caller's unit of work (same transaction as the business change)."""

    async def notify(self, notification: Notification) -> None: ...
