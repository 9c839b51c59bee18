"""Read side of the feedback context: lists (cursor paged, index-backed), timelines, statistics.

Every list orders by the UUIDv7 id (time-ordered, unique) so a cursor is just the last id seen.
The Open311 adapter reuses ``search`` (by category, status, date range).
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

import asyncpg

from adapters.postgres.feedback.repositories import (
    REPORT_COLS,
    Conn,
    attachment_from_row,
    newest_per_cell,
    report_from_row,
)
from adapters.postgres.identity.repositories import rows_in_live_session, within_live_session
from domain.feedback.geo import BBox, index_cells
from domain.feedback.model import (
    OPEN_STATUSES,
    ActorKind,
    Attachment,
    Event,
    EventKind,
    Report,
    ReportSummary,
    Status,
)
from domain.feedback.reads import QueueCounts, QueueFilter, SearchFilter, StaffMember, UnitName, UnitStats

# The SQL forms of ``OPEN_STATUSES`` and ``Report.is_public``; the partial indexes of the migrations
# use the same predicates (tests/integration/test_feedback_predicates.py keeps them in step).
OPEN_SQL = "status IN ({})".format(", ".join(f"'{s.value}'" for s in Status if s in OPEN_STATUSES))
PUBLIC_SQL = f"status = '{Status.HANDLED.value}' AND publishable AND NOT hidden"
FOLLOWABLE_SQL = "publishable AND NOT hidden"  # domain.feedback.access.may_follow
_AFTER_ALL = uuid.UUID(int=(1 << 128) - 1)  # "id < this" holds for every id: the first page
# $1 index cells of the box, $2–$5 the box, $6 the cursor, $7 the page size (+1).
PUBLIC_NEAR_SQL = newest_per_cell(f"{PUBLIC_SQL} AND lat BETWEEN $2 AND $3 AND lon BETWEEN $4 AND $5 AND id < $6",
                                  newest="id", cells="$1", limit="$7")


class _Sql:
    """Accumulates WHERE conditions with ``$n`` parameters (never string-formatted values)."""

    def __init__(self, *conds: str) -> None:
        self.conds = list(conds)
        self.args: list[Any] = []

    def add(self, cond: str, *values: Any) -> None:
        for value in values:
            self.args.append(value)
            cond = cond.replace("?", f"${len(self.args)}", 1)
        self.conds.append(cond)

    def where(self) -> str:
        return " AND ".join(self.conds) if self.conds else "true"


def _event(row: asyncpg.Record) -> Event:
    return Event(id=row["id"], report_id=row["report_id"], kind=EventKind(row["kind"]), status=Status(row["status"]),
                 actor_kind=ActorKind(row["actor_kind"]), actor_id=row["actor_id"], public=row["public"],
                 text=row["text"], data=row["data"], created_at=row["created_at"])


# Unit names are reference data (seeded, never edited through the API) shown with every report:
# remembered per process for a while so that answering a new report costs no round trip for them
# (bench.run's capture of feedback.create: 6 → 5 statements). Bounded by the number of units.
UNIT_NAMES_TTL_S = 30.0
_UNIT_NAMES: dict[uuid.UUID, tuple[float, UnitName]] = {}


class PgFeedbackQueries:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def _reports(self, sql: _Sql, after: uuid.UUID | None, limit: int) -> list[Report]:
        if after is not None:
            sql.add("id < ?", after)
        sql.args.append(limit)
        rows = await self.conn.fetch(
            f"SELECT {REPORT_COLS} FROM feedback_reports WHERE {sql.where()} ORDER BY id DESC LIMIT ${len(sql.args)}",
            *sql.args)
        return [report_from_row(r) for r in rows]

    async def _summaries(self, sql: _Sql, now: datetime, after: uuid.UUID | None, limit: int, *,
                         staff: bool = False, follower: bool = False,
                         session: tuple[uuid.UUID, uuid.UUID] | None = None) -> list[ReportSummary] | None:
        """List rows: only the columns a list shows (no answers, description cut in SQL). A follower sees
        the description and address only while the report may be followed (``may_follow``). With
        ``session`` (its id, its user's id) the page is read only while that session is live (None if not)."""
        if after is not None:
            sql.add("id < ?", after)
        sql.args += [now, limit]
        n = len(sql.args)
        assignee = "assignee_id" if staff else "NULL"
        description, address = ((f"CASE WHEN {FOLLOWABLE_SQL} THEN left(description, 200) ELSE '' END",
                                 f"CASE WHEN {FOLLOWABLE_SQL} THEN address ELSE '' END") if follower
                                else ("left(description, 200)", "address"))
        query = f"""SELECT id, ref, status, coalesce(next_deadline_at < ${n - 1}, false) AS overdue, category_id,
                       level, {description} AS description, {address} AS address, unit_id, created_at, updated_at,
                       due_at, {assignee} AS assignee_id,
                       (SELECT u.name_vi FROM units u WHERE u.id = feedback_reports.unit_id) AS unit_name_vi,
                       (SELECT u.name_en FROM units u WHERE u.id = feedback_reports.unit_id) AS unit_name_en
                FROM feedback_reports WHERE {sql.where()} ORDER BY id DESC LIMIT ${n}"""
        if session is None:
            return [ReportSummary(*r) for r in await self.conn.fetch(query, *sql.args)]
        query = within_live_session(query, session=f"${n + 1}", user=f"${n + 2}")
        rows = rows_in_live_session(list(await self.conn.fetch(query, *sql.args, *session)))
        return None if rows is None else [ReportSummary(*r) for r in rows]

    async def my_reports(self, reporter_id: uuid.UUID, now: datetime, after: uuid.UUID | None,
                         limit: int) -> list[ReportSummary]:
        sql = _Sql()
        sql.add("reporter_id = ?", reporter_id)
        return await self._summaries(sql, now, after, limit) or []

    async def my_reports_in_session(self, reporter_id: uuid.UUID, session_id: uuid.UUID, now: datetime,
                                    after: uuid.UUID | None, limit: int) -> list[ReportSummary] | None:
        sql = _Sql()
        sql.add("reporter_id = ?", reporter_id)
        return await self._summaries(sql, now, after, limit, session=(session_id, reporter_id))

    async def followed(self, user_id: uuid.UUID, now: datetime, after: uuid.UUID | None,
                       limit: int) -> list[ReportSummary]:
        sql = _Sql()
        sql.add("id IN (SELECT report_id FROM feedback_followers WHERE user_id = ?)", user_id)
        return await self._summaries(sql, now, after, limit, follower=True) or []

    async def queue(self, unit_id: uuid.UUID, f: QueueFilter, now: datetime, after: uuid.UUID | None,
                    limit: int) -> list[ReportSummary]:
        # Without a status the default view is "open": a literal predicate so the partial index applies.
        sql = _Sql() if f.status else _Sql(OPEN_SQL)
        sql.add("unit_id = ?", unit_id)
        if f.status:
            sql.add("status = ?", f.status.value)
        if f.level:
            sql.add("level = ?", f.level.value)
        if f.category_id:
            sql.add("category_id = ?", f.category_id)
        if f.assignee_id:
            sql.add("assignee_id = ?", f.assignee_id)
        if f.overdue is True:
            sql.add("next_deadline_at < ?", now)
        elif f.overdue is False:
            sql.add("(next_deadline_at IS NULL OR next_deadline_at >= ?)", now)
        return await self._summaries(sql, now, after, limit, staff=True) or []

    async def public_near(self, box: BBox, after: uuid.UUID | None, limit: int) -> list[Report]:
        """Newest public reports in the box: at most ``limit`` from each index cell it touches (index
        ``feedback_reports_public_cell``, newest first per cell), then the newest ``limit`` of those."""
        rows = await self.conn.fetch(PUBLIC_NEAR_SQL, index_cells(box), *box, after or _AFTER_ALL, limit)
        return [report_from_row(r) for r in rows]

    async def public_in_ward(self, ward_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> list[Report]:
        sql = _Sql(PUBLIC_SQL)
        sql.add("ward_id = ?", ward_id)
        return await self._reports(sql, after, limit)

    async def search(self, f: SearchFilter, after: uuid.UUID | None, limit: int) -> list[Report]:
        sql = _Sql(PUBLIC_SQL) if f.public_only else _Sql()
        if f.category_ids:
            sql.add("category_id = ANY(?::uuid[])", list(f.category_ids))
        if f.statuses:
            sql.add("status = ANY(?::text[])", [s.value for s in f.statuses])
        if f.created_from:
            sql.add("created_at >= ?", f.created_from)
        if f.created_to:
            sql.add("created_at < ?", f.created_to)
        return await self._reports(sql, after, limit)

    async def events(self, report_id: uuid.UUID, *, public_only: bool) -> list[Event]:
        rows = await self.conn.fetch(
            "SELECT * FROM feedback_events WHERE report_id = $1 AND (public OR NOT $2) ORDER BY id",
            report_id, public_only)
        return [_event(r) for r in rows]

    async def attachments(self, report_id: uuid.UUID) -> list[Attachment]:
        rows = await self.conn.fetch("SELECT * FROM feedback_attachments WHERE report_id = $1 ORDER BY id",
                                     report_id)
        return [attachment_from_row(r) for r in rows]

    async def attachments_of(self, report_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Attachment]]:
        """Attachments of many reports in one query (lists of reports, no N+1)."""
        found: dict[uuid.UUID, list[Attachment]] = {rid: [] for rid in report_ids}
        rows = await self.conn.fetch(
            "SELECT * FROM feedback_attachments WHERE report_id = ANY($1::uuid[]) ORDER BY report_id, id", report_ids)
        for r in rows:
            found[r["report_id"]].append(attachment_from_row(r))
        return found

    async def attachment(self, report_id: uuid.UUID, attachment_id: uuid.UUID) -> Attachment | None:
        row = await self.conn.fetchrow("SELECT * FROM feedback_attachments WHERE id = $1 AND report_id = $2",
                                       attachment_id, report_id)
        return attachment_from_row(row) if row else None

    async def rating(self, report_id: uuid.UUID) -> tuple[int, str] | None:
        row = await self.conn.fetchrow("SELECT score, comment FROM feedback_ratings WHERE report_id = $1", report_id)
        return (row["score"], row["comment"]) if row else None

    async def follower_count(self, report_id: uuid.UUID) -> int:
        return int(await self.conn.fetchval("SELECT count(*) FROM feedback_followers WHERE report_id = $1",
                                            report_id))

    async def export_for(self, user_id: uuid.UUID) -> dict[str, Any]:
        """The data subject's own feedback: their reports (with rating) and the reports they follow."""
        reports = await self.conn.fetch(
            """SELECT r.id, r.ref, r.status, r.description, r.lat, r.lon, r.address, r.answers, r.publishable,
                      r.created_at, r.handled_at, r.reply, g.score AS rating, g.comment AS rating_comment
               FROM feedback_reports r LEFT JOIN feedback_ratings g ON g.report_id = r.id
               WHERE r.reporter_id = $1 ORDER BY r.id""", user_id)
        followed = await self.conn.fetch(
            """SELECT r.ref, f.created_at FROM feedback_followers f JOIN feedback_reports r ON r.id = f.report_id
               WHERE f.user_id = $1 ORDER BY f.created_at""", user_id)
        return {"reports": [dict(r) for r in reports], "following": [dict(r) for r in followed]}

    async def heatmap(self, start: datetime, end: datetime, steps: tuple[float, float], unit_id: uuid.UUID | None,
                      category_id: uuid.UUID | None, limit: int) -> list[tuple[int, int, int, int]]:
        """Reports created in [start, end) per grid cell: ``(row, col, reports, still open)``, busiest first.
        ``row = floor(lat / Δlat)``, ``col = floor(lon / Δlon)`` (``domain.feedback.geo.grid_steps``)."""
        rows = await self.conn.fetch(
            f"""SELECT floor(lat / $3)::int AS row, floor(lon / $4)::int AS col, count(*) AS reports,
                       count(*) FILTER (WHERE {OPEN_SQL}) AS open
                FROM feedback_reports
                WHERE created_at >= $1 AND created_at < $2 AND ($5::uuid IS NULL OR unit_id = $5)
                  AND ($6::uuid IS NULL OR category_id = $6)
                GROUP BY 1, 2 ORDER BY reports DESC, row, col LIMIT $7""",
            start, end, steps[0], steps[1], unit_id, category_id, limit)
        return [(r["row"], r["col"], r["reports"], r["open"]) for r in rows]

    async def stats(self, start: datetime, end: datetime, unit_id: uuid.UUID | None) -> list[UnitStats]:
        """Per unit for [start, end): received by creation time, outcomes by closing time,
        satisfaction by rating time. ``unit_id`` None = every unit (the city-wide view sums them)."""
        rows = await self.conn.fetch(
            """WITH r AS (
                 SELECT unit_id,
                   count(*) FILTER (WHERE created_at >= $1 AND created_at < $2) AS received,
                   count(*) FILTER (WHERE status = 'handled' AND closed_at >= $1 AND closed_at < $2) AS handled,
                   count(*) FILTER (WHERE status = 'rejected' AND closed_at >= $1 AND closed_at < $2) AS rejected,
                   count(*) FILTER (WHERE status = 'handled' AND closed_at >= $1 AND closed_at < $2
                                    AND handled_at <= due_at) AS on_time,
                   avg(extract(epoch FROM handled_at - created_at) / 3600)
                     FILTER (WHERE status = 'handled' AND closed_at >= $1 AND closed_at < $2) AS avg_hours
                 FROM feedback_reports
                 WHERE ((created_at >= $1 AND created_at < $2) OR (closed_at >= $1 AND closed_at < $2))
                   AND ($3::uuid IS NULL OR unit_id = $3)
                 GROUP BY unit_id),
               s AS (
                 SELECT f.unit_id, count(*) AS ratings, count(*) FILTER (WHERE g.score >= 4) AS satisfied
                 FROM feedback_ratings g JOIN feedback_reports f ON f.id = g.report_id
                 WHERE g.created_at >= $1 AND g.created_at < $2 AND ($3::uuid IS NULL OR f.unit_id = $3)
                 GROUP BY f.unit_id)
               SELECT coalesce(r.unit_id, s.unit_id) AS unit_id, coalesce(received, 0) AS received,
                      coalesce(handled, 0) AS handled, coalesce(rejected, 0) AS rejected,
                      coalesce(on_time, 0) AS on_time, avg_hours, coalesce(ratings, 0) AS ratings,
                      coalesce(satisfied, 0) AS satisfied
               FROM r FULL JOIN s ON s.unit_id = r.unit_id ORDER BY 1""",
            start, end, unit_id)
        return [UnitStats(r["unit_id"], r["received"], r["handled"], r["rejected"], r["on_time"],
                          float(r["avg_hours"]) if r["avg_hours"] is not None else None, r["ratings"],
                          r["satisfied"]) for r in rows]

    async def queue_counts(self, unit_id: uuid.UUID, now: datetime) -> QueueCounts:
        # One pass over the unit's open reports (the partial index of the queue).
        rows = await self.conn.fetch(
            f"""SELECT status, count(*) AS n, count(*) FILTER (WHERE next_deadline_at < $2) AS late
                FROM feedback_reports WHERE {OPEN_SQL} AND unit_id = $1 GROUP BY status""", unit_id, now)
        return QueueCounts(by_status={r["status"]: r["n"] for r in rows}, overdue=sum(r["late"] for r in rows))

    async def handlers(self, unit_id: uuid.UUID) -> list[StaffMember]:
        rows = await self.conn.fetch(
            """SELECT u.id, u.full_name FROM staff_grants g JOIN users u ON u.id = g.user_id
               WHERE g.unit_id = $1 AND g.role = 'handler' AND u.suspended_at IS NULL ORDER BY u.full_name, u.id""",
            unit_id)
        return [StaffMember(r["id"], r["full_name"]) for r in rows]

    async def unit_names(self, unit_ids: list[uuid.UUID]) -> dict[uuid.UUID, UnitName]:
        now = time.monotonic()
        out: dict[uuid.UUID, UnitName] = {}
        missing = []
        for unit_id in unit_ids:
            hit = _UNIT_NAMES.get(unit_id)
            if hit is not None and hit[0] > now:
                out[unit_id] = hit[1]
            else:
                missing.append(unit_id)
        if missing:
            rows = await self.conn.fetch("SELECT id, code, name_vi, name_en FROM units WHERE id = ANY($1::uuid[])",
                                         missing)
            for r in rows:
                out[r["id"]] = name = UnitName(r["code"], r["name_vi"], r["name_en"])
                _UNIT_NAMES[r["id"]] = (now + UNIT_NAMES_TTL_S, name)
        return out
