"""The in-app inbox and preferences as the citizen sees them (read side and updates)."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Protocol

import msgspec

from domain.errors import InvalidInput
from domain.notifications.preferences import CATEGORIES, Preferences


class InboxItem(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    category: str
    template: str
    title: str
    body: str
    deep_link: str
    object_type: str
    object_id: str
    legally_required: bool
    read_at: datetime | None
    created_at: datetime


class InboxStore(Protocol):
    """Every method is scoped by the owner: another user's item is simply not there."""

    async def page(self, user_id: uuid.UUID, before: uuid.UUID | None, limit: int) -> list[InboxItem]: ...

    async def unread_count(self, user_id: uuid.UUID) -> int: ...

    async def mark_read(self, user_id: uuid.UUID, item_id: uuid.UUID, now: datetime) -> InboxItem | None: ...

    async def mark_all_read(self, user_id: uuid.UUID, now: datetime) -> int: ...

    async def preferences(self, user_id: uuid.UUID) -> Preferences: ...

    async def save_preferences(self, user_id: uuid.UUID, prefs: Preferences) -> None: ...


def checked_preferences(opted_out: list[str], quiet_start: time | None, quiet_end: time | None) -> Preferences:
    """Preferences from user input, or ``InvalidInput`` naming the field and the rule."""
    for i, category in enumerate(opted_out):
        if category not in CATEGORIES:
            raise InvalidInput(field=f"opted_out[{i}]", rule="enum")
    if (quiet_start is None) != (quiet_end is None):
        raise InvalidInput(field="quiet_hours", rule="required")
    if quiet_start is not None and quiet_start == quiet_end:
        raise InvalidInput(field="quiet_hours.end", rule="invalid")
    return Preferences(opted_out=frozenset(opted_out), quiet_start=quiet_start, quiet_end=quiet_end)


async def export_inbox(store: InboxStore, user_id: uuid.UUID, page_size: int = 500) -> dict[str, object]:
    """The person's own copy: every inbox item (newest first) and their preferences."""
    items: list[InboxItem] = []
    before: uuid.UUID | None = None
    while True:
        page = await store.page(user_id, before, page_size)
        items += page
        if len(page) < page_size:
            break
        before = page[-1].id
    prefs = await store.preferences(user_id)
    return {"inbox": msgspec.to_builtins(items),
            "preferences": {"opted_out": sorted(prefs.opted_out),
                            "quiet_start": prefs.quiet_start.isoformat() if prefs.quiet_start else None,
                            "quiet_end": prefs.quiet_end.isoformat() if prefs.quiet_end else None}}
