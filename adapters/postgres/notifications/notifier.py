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

# The inbox row, one push row per device of the user (carrying the text in that device's locale) and
# the user's preferences, in one round trip. Whether and when the push goes is decided afterwards in
# Python (domain.notifications.preferences) from the preferences returned: in the common case (no
# opt-out, not in quiet hours) the rows stand as inserted; otherwise a second statement delays or
# drops them, still in the caller's transaction, so the worker never sees them in between. ``id``
# is NULL when the key was already queued (then no push row is inserted either). Outbox ids are
# random: the worker orders by available_at, never by id.
_INSERT_INBOX_AND_PUSH = f"""
WITH i AS ({_INSERT_INBOX}),
     p AS (INSERT INTO push_outbox (id, kind, idempotency_key, inbox_id, device_id, payload, legally_required,
                                    available_at)
           SELECT gen_random_uuid(), 'token', $10 || ':' || d.id::text, i.id, d.id,
                  jsonb_build_object('title', $8::jsonb -> d.locale -> 'title', 'body', $8::jsonb -> d.locale -> 'body',
                                     'data', $11::jsonb), $9, $12
           FROM i JOIN devices d ON d.user_id = $2
           ON CONFLICT (idempotency_key) DO NOTHING
           RETURNING id)
SELECT (SELECT id FROM i) AS id, (SELECT array_agg(id) FROM p) AS pushes, pr.opted_out, pr.quiet_start, pr.quiet_end
FROM (SELECT 1) AS one LEFT JOIN notification_preferences pr ON pr.user_id = $2
"""

_PREFS = "SELECT opted_out, quiet_start, quiet_end FROM notification_preferences WHERE user_id = $1"

_DELAY_PUSH = "UPDATE push_outbox SET available_at = $2 WHERE id = ANY($1::uuid[])"
_DROP_PUSH = "DELETE FROM push_outbox WHERE id = ANY($1::uuid[])"


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
        inbox_id, now = new_id(), self._clock.now()
        data = {"deep_link": link, "inbox_id": str(inbox_id), "category": n.category, "idempotency_key": key}
        row = await self._conn.fetchrow(
            _INSERT_INBOX_AND_PUSH, inbox_id, n.user_id, n.category, n.template, n.object_type, n.object_id,
            link, content, n.legally_required, key, data, now)
        if row["id"] is None or not row["pushes"]:
            return  # already queued under this key, or no device to push to: the inbox entry is all
        when: datetime | None = push_available_at(_preferences(row), n.category, n.legally_required, now)
        if when is None:  # opted out: the inbox entry is the whole notification
            await self._conn.execute(_DROP_PUSH, row["pushes"])
        elif when != now:  # quiet hours: the push waits for their end
            await self._conn.execute(_DELAY_PUSH, row["pushes"], when)
