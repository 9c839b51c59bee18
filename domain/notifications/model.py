"""A request to tell a user something. Written to the outbox in the business transaction."""

from __future__ import annotations

import uuid

import msgspec


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    user_id: uuid.UUID
    # Preference category the user can opt out of (e.g. "feedback", "health", "announcements").
    category: str
    # Template key, e.g. "feedback.status_changed"; rendered in the user's locale (vi/en).
    template: str
    # What the deep link opens: ("feedback_report", "<uuid>") -> thudo://feedback/reports/<uuid>
    object_type: str
    object_id: str
    params: dict[str, str] = msgspec.field(default_factory=dict)
    # Legally required notices ignore opt-outs; quiet hours only delay them.
    legally_required: bool = False
    # Same key -> one message; defaults to template + object + user when not given.
    idempotency_key: str | None = None

    @property
    def key(self) -> str:
        """The effective idempotency key (explicit, or template:object_type:object_id:user_id)."""
        return self.idempotency_key or f"{self.template}:{self.object_type}:{self.object_id}:{self.user_id}"
