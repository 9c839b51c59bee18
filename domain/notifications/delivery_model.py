"""Values exchanged between the delivery use case, the outbox and the push gateway."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec

# sent: delivered to FCM. unregistered: token is gone/invalid -> delete the device.
# retry: transient for this message. quota: FCM rate limit -> back off everything.
# unavailable: FCM itself is down or unreachable (503, 500, network, timeout) -> back off everything;
#   like quota it says nothing about the message, so an outage however long never dead-letters it.
# failed: permanent for this message (malformed) -> dead-letter now.
Outcome = Literal["sent", "unregistered", "retry", "quota", "unavailable", "failed"]


class ClaimedRow(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    kind: str  # token | topic | subscribe | unsubscribe
    idempotency_key: str
    attempts: int  # including the current one
    legally_required: bool = False
    device_id: uuid.UUID | None = None
    token: str | None = None  # device token (token rows) or the token to (un)subscribe
    topic: str | None = None
    payload: dict[str, object] = msgspec.field(default_factory=dict)


class PushMessage(msgspec.Struct, frozen=True, kw_only=True):
    token: str | None = None
    topic: str | None = None
    title: str
    body: str
    data: dict[str, str] = msgspec.field(default_factory=dict)
    # Derived from the idempotency key: a duplicate after a crash replaces the first on the phone.
    collapse_key: str
    high_priority: bool = False


class SendOutcome(msgspec.Struct, frozen=True):
    outcome: Outcome
    error: str | None = None
    message_id: str | None = None


class TopicOutcome(msgspec.Struct, frozen=True):
    outcome: Outcome
    error: str | None = None


class Reschedule(msgspec.Struct, frozen=True):
    id: uuid.UUID
    available_at: datetime
    error: str
