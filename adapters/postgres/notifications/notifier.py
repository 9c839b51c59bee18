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

# The inbox row, one push row per device of the user (carrying the text in that device's locale) and
# the user's preferences, in one round trip. Whether and when the push goes is decided afterwards in
# Python (domain.notifications.preferences) from the preferences returned: in the common case (no
# opt-out, not in quiet hours) the rows stand as inserted; otherwise a second statement delays or
# drops them, still in the caller's transaction, so the worker never sees them in between. ``id``
# is NULL when the key was already queued (then no push row is inserted either). Outbox ids are
# random: the worker orders by available_at, never by id.
#
# Written as CTEs with parameters numbered from ``{p}`` so that another adapter's statement can carry
# them (``PendingNotification.ctes``): a judicial transition writes the request, its step and this
# notification in one statement. ``{source}`` is what the inbox row is selected from: a one-row
# ``(SELECT 1)`` on its own, or the carrying statement's CTE of changed rows (no change, no notice).
_CTES = """
n_i AS (INSERT INTO notification_inbox (id, user_id, category, template, object_type, object_id, deep_link,
                                        content, legally_required, idempotency_key)
        SELECT ${p0}::uuid, ${p1}::uuid, ${p2}::text, ${p3}::text, ${p4}::text, ${p5}::text, ${p6}::text,
               ${p7}::jsonb, ${p8}::boolean, ${p9}::text FROM {source} AS n_source
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id),
n_p AS (INSERT INTO push_outbox (id, kind, idempotency_key, inbox_id, device_id, payload, legally_required,
                                 available_at)
        SELECT gen_random_uuid(), 'token', ${p9}::text || ':' || d.id::text, n_i.id, d.id,
               jsonb_build_object('title', ${p7}::jsonb -> d.locale -> 'title',
                                  'body', ${p7}::jsonb -> d.locale -> 'body', 'data', ${p10}::jsonb),
               ${p8}::boolean, ${p11}::timestamptz
        FROM n_i JOIN devices d ON d.user_id = ${p1}::uuid
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id),
n_pr AS (SELECT opted_out, quiet_start, quiet_end FROM notification_preferences WHERE user_id = ${p1}::uuid)"""

# What the carrying statement returns for the notification (one value each, whatever else it returns).
COLUMNS = """(SELECT id FROM n_i) AS n_id, (SELECT array_agg(id) FROM n_p) AS n_pushes,
    (SELECT opted_out FROM n_pr) AS n_opted_out, (SELECT quiet_start FROM n_pr) AS n_quiet_start,
    (SELECT quiet_end FROM n_pr) AS n_quiet_end"""

_N_ARGS = 12

_PREFS = "SELECT opted_out, quiet_start, quiet_end FROM notification_preferences WHERE user_id = $1"

_DELAY_PUSH = "UPDATE push_outbox SET available_at = $2 WHERE id = ANY($1::uuid[])"
_DROP_PUSH = "DELETE FROM push_outbox WHERE id = ANY($1::uuid[])"


def _preferences(row: Any, prefix: str = "") -> Preferences:
    if row is None or row[prefix + "opted_out"] is None:
        return Preferences()
    return Preferences(opted_out=frozenset(row[prefix + "opted_out"]), quiet_start=row[prefix + "quiet_start"],
                       quiet_end=row[prefix + "quiet_end"])


async def load_preferences(conn: Any, user_id: Any) -> Preferences:
    return _preferences(await conn.fetchrow(_PREFS, user_id))


class PendingNotification:
    """One notification rendered and ready to be written: its CTEs and arguments for a statement (its own,
    or another adapter's that carries it), then ``settle`` with the row that statement returned."""

    def __init__(self, n: Notification, now: datetime) -> None:
        texts = render(n.template, n.params)
        content = {loc: {"title": r.title, "body": r.body} for loc, r in texts.items()}
        link = deep_link(n.object_type, n.object_id)
        inbox_id, key = new_id(), n.key
        data = {"deep_link": link, "inbox_id": str(inbox_id), "category": n.category, "idempotency_key": key}
        self.notification, self.now = n, now
        self.args: tuple[Any, ...] = (inbox_id, n.user_id, n.category, n.template, n.object_type, n.object_id, link,
                                      content, n.legally_required, key, data, now)
        assert len(self.args) == _N_ARGS

    @staticmethod
    def ctes(first: int, source: str = "(SELECT 1)") -> str:
        """The CTEs (``n_i``, ``n_p``, ``n_pr``), parameters ``$first`` … ``$first+11``; return ``COLUMNS``."""
        return _CTES.format(source=source, **{f"p{i}": first + i for i in range(_N_ARGS)})

    async def settle(self, conn: Any, row: Any) -> None:
        """Apply the user's preferences to the push rows just inserted (only an opt-out or quiet hours cost
        a statement); ``row`` has ``COLUMNS``."""
        n = self.notification
        if row["n_id"] is None or not row["n_pushes"]:
            return  # already queued under this key, or no device to push to: the inbox entry is all
        when: datetime | None = push_available_at(_preferences(row, "n_"), n.category, n.legally_required, self.now)
        if when is None:  # opted out: the inbox entry is the whole notification
            await conn.execute(_DROP_PUSH, row["n_pushes"])
        elif when != self.now:  # quiet hours: the push waits for their end
            await conn.execute(_DELAY_PUSH, row["n_pushes"], when)


_ALONE = f"WITH {PendingNotification.ctes(1)}\nSELECT {COLUMNS}"


class PgNotifier:
    """Implements ``domain.notifications.ports.Notifier``."""

    def __init__(self, conn: Any, clock: Clock | None = None) -> None:
        self._conn = conn
        self._clock = clock or SystemClock()

    def pending(self, notification: Notification) -> PendingNotification:
        """For an adapter that writes the notification in its own statement (same transaction)."""
        return PendingNotification(notification, self._clock.now())

    async def notify(self, notification: Notification) -> None:
        pending = self.pending(notification)
        await pending.settle(self._conn, await self._conn.fetchrow(_ALONE, *pending.args))
