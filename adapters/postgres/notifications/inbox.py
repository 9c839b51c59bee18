"""Inbox and preferences on PostgreSQL (``domain.notifications.inbox.InboxStore``).

Texts were rendered for both locales when the notification was queued; the user's current
locale picks one, so switching language also switches the history.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from adapters.postgres.notifications.notifier import load_preferences
from domain.notifications.inbox import InboxItem
from domain.notifications.preferences import Preferences

_COLUMNS = """i.id, i.category, i.template, i.deep_link, i.object_type, i.object_id, i.legally_required,
              i.read_at, i.created_at, i.content -> u.locale AS text"""

_PAGE = f"""
SELECT {_COLUMNS}
FROM notification_inbox i JOIN users u ON u.id = i.user_id
WHERE i.user_id = $1 AND ($2::uuid IS NULL OR i.id < $2)
ORDER BY i.id DESC
LIMIT $3
"""

_MARK = f"""
WITH marked AS (
    UPDATE notification_inbox SET read_at = COALESCE(read_at, $3)
    WHERE id = $2 AND user_id = $1
    RETURNING *
)
SELECT {_COLUMNS} FROM marked i JOIN users u ON u.id = i.user_id
"""

_SAVE = """
INSERT INTO notification_preferences (user_id, opted_out, quiet_start, quiet_end, updated_at)
VALUES ($1, $2, $3, $4, now())
ON CONFLICT (user_id) DO UPDATE SET opted_out = EXCLUDED.opted_out, quiet_start = EXCLUDED.quiet_start,
    quiet_end = EXCLUDED.quiet_end, updated_at = now()
"""


def _item(r: Any) -> InboxItem:
    text = r["text"] or {}
    return InboxItem(id=r["id"], category=r["category"], template=r["template"], title=text.get("title", ""),
                     body=text.get("body", ""), deep_link=r["deep_link"], object_type=r["object_type"],
                     object_id=r["object_id"], legally_required=r["legally_required"], read_at=r["read_at"],
                     created_at=r["created_at"])


class PgInbox:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def page(self, user_id: uuid.UUID, before: uuid.UUID | None, limit: int) -> list[InboxItem]:
        return [_item(r) for r in await self._conn.fetch(_PAGE, user_id, before, limit)]

    async def unread_count(self, user_id: uuid.UUID) -> int:
        return int(await self._conn.fetchval(
            "SELECT count(*) FROM notification_inbox WHERE user_id = $1 AND read_at IS NULL", user_id))

    async def mark_read(self, user_id: uuid.UUID, item_id: uuid.UUID, now: datetime) -> InboxItem | None:
        row = await self._conn.fetchrow(_MARK, user_id, item_id, now)
        return _item(row) if row else None

    async def mark_all_read(self, user_id: uuid.UUID, now: datetime) -> int:
        done = await self._conn.execute(
            "UPDATE notification_inbox SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL", user_id, now)
        return int(done.split()[-1])

    async def preferences(self, user_id: uuid.UUID) -> Preferences:
        return await load_preferences(self._conn, user_id)

    async def save_preferences(self, user_id: uuid.UUID, prefs: Preferences) -> None:
        await self._conn.execute(_SAVE, user_id, sorted(prefs.opted_out), prefs.quiet_start, prefs.quiet_end)


async def queue_announcement(conn: Any, *, announcement_id: uuid.UUID, district_id: uuid.UUID | None, topic: str,
                             content: dict[str, dict[str, str]], created_by: uuid.UUID) -> None:
    """Store a city announcement and its topic message in the caller's transaction."""
    await conn.execute("INSERT INTO announcements (id, district_id, topic, content, created_by) "
                       "VALUES ($1, $2, $3, $4, $5)", announcement_id, district_id, topic, content, created_by)
    vi = content["vi"]
    payload = {"title": vi["title"], "body": vi["body"],
               "data": {"deep_link": f"thudo://announcements/{announcement_id}", "category": "announcements",
                        "title_en": content["en"]["title"], "body_en": content["en"]["body"]}}
    await conn.execute(
        "INSERT INTO push_outbox (id, kind, idempotency_key, topic, payload) VALUES ($1, 'topic', $2, $3, $4)",
        announcement_id, f"announcement:{announcement_id}", topic, payload)


async def district_topic(conn: Any, district_id: uuid.UUID) -> str | None:
    code = await conn.fetchval("SELECT code FROM units WHERE id = $1 AND kind = 'district'", district_id)
    return f"district-{code.lower()}" if code else None
