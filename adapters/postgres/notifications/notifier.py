"""Notifier port on PostgreSQL: inbox entry + push outbox rows in the caller's transaction.

``PgNotifier(conn)`` takes the unit of work's connection, so the notification commits or rolls
back together with the business change that caused it (transactional outbox). The idempotency key
makes a repeated ``notify`` a no-op (``ON CONFLICT DO NOTHING``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.notifications.model import Notification
from domain.notifications.preferences import Preferences, push_available_at
from domain.notifications.templates import deep_link, render
from domain.shared.ids import new_id
from domain.shared.time import Clock, SystemClock

_INSERT_INBOX = """
INSERT INTO notification_inbox (id, user_id, category, template, object_type, object_id, deep_link,
                                content, legally_required, idempotency_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING id
"""

# The inbox row and the user's preferences in one round trip: the preferences decide (in Python,
# domain.notifications.preferences) whether and when the push rows follow. The LEFT JOIN keeps the
# row when the user has no preferences; ``id`` is NULL when the key was already queued.
_INSERT_INBOX_WITH_PREFS = f"""
WITH i AS ({_INSERT_INBOX})
SELECT (SELECT id FROM i) AS id, p.opted_out, p.quiet_start, p.quiet_end
FROM (SELECT 1) AS one LEFT JOIN notification_preferences p ON p.user_id = $2
"""

_PREFS = "SELECT opted_out, quiet_start, quiet_end FROM notification_preferences WHERE user_id = $1"

# One outbox row per device of the user, carrying the text in that device's locale. Outbox ids
# are random: the worker orders by available_at, never by id.
_INSERT_PUSH = """
INSERT INTO push_outbox (id, kind, idempotency_key, inbox_id, device_id, payload, legally_required,
                         available_at)
SELECT gen_random_uuid(), 'token', $1 || ':' || d.id::text, $2, d.id,
       jsonb_build_object('title', $3::jsonb -> d.locale -> 'title', 'body', $3::jsonb -> d.locale -> 'body',
                          'data', $4::jsonb), $5, $6
FROM devices d WHERE d.user_id = $7
ON CONFLICT (idempotency_key) DO NOTHING
"""


def _preferences(row: Any) -> Preferences:
    if row is None or row["opted_out"] is None:
        return Preferences()
    return Preferences(opted_out=frozenset(row["opted_out"]), quiet_start=row["quiet_start"],
                       quiet_end=row["quiet_end"])


async def load_preferences(conn: Any, user_id: Any) -> Preferences:
    return _preferences(await conn.fetchrow(_PREFS, user_id))


class PgNotifier:
    """Implements ``domain.notifications.ports.Notifier``."""

    def __init__(self, conn: Any, clock: Clock | None = None) -> None:
        self._conn = conn
        self._clock = clock or SystemClock()

    async def notify(self, notification: Notification) -> None:
        n = notification
        key = n.key
        texts = render(n.template, n.params)
        content = {loc: {"title": r.title, "body": r.body} for loc, r in texts.items()}
        link = deep_link(n.object_type, n.object_id)
        row = await self._conn.fetchrow(
            _INSERT_INBOX_WITH_PREFS, new_id(), n.user_id, n.category, n.template, n.object_type, n.object_id,
            link, content, n.legally_required, key)
        inbox_id = row["id"]
        if inbox_id is None:
            return  # already queued under this key
        prefs = _preferences(row)
        when: datetime | None = push_available_at(prefs, n.category, n.legally_required, self._clock.now())
        if when is None:
            return  # opted out: the inbox entry is the whole notification
        data = {"deep_link": link, "inbox_id": str(inbox_id), "category": n.category, "idempotency_key": key}
        await self._conn.execute(_INSERT_PUSH, key, inbox_id, content, data, n.legally_required, when,
                                 n.user_id)
