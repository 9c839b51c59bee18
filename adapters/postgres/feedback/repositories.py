"""Postgres repositories of the feedback context (write side): categories, units, reports."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from adapters.postgres.feedback.cache import ReferenceCache
from domain.feedback.geo import BBox, index_cells
from domain.feedback.model import (
    Attachment,
    AttachmentKind,
    Category,
    Event,
    Level,
    Location,
    Question,
    Rating,
    Report,
    Sla,
    Status,
    UnitKind,
    UnitRef,
)
from domain.feedback.ports import Overdue
from domain.feedback.routing import PlaceIndex
from domain.shared.time import HANOI

Conn = Any  # an asyncpg connection or pool proxy (the unit of work's)

_CATEGORY_COLS = """id, code, name_vi, name_en, description_vi, description_en, grp, keywords, default_level,
    sla_normal_hours, sla_complex_hours, sla_urgent_hours, department_id, route_to_department, questions,
    active, updated_at"""


def category_from_row(row: asyncpg.Record) -> Category:
    return Category(
        id=row["id"], code=row["code"], name_vi=row["name_vi"], name_en=row["name_en"],
        description_vi=row["description_vi"], description_en=row["description_en"], group=row["grp"],
        keywords=tuple(row["keywords"]), default_level=Level(row["default_level"]),
        sla=Sla(row["sla_normal_hours"], row["sla_complex_hours"], row["sla_urgent_hours"]),
        department_id=row["department_id"], route_to_department=row["route_to_department"],
        questions=msgspec.convert(row["questions"], tuple[Question, ...]), active=row["active"],
        updated_at=row["updated_at"])


def _category_args(c: Category) -> tuple[Any, ...]:
    return (c.id, c.code, c.name_vi, c.name_en, c.description_vi, c.description_en, c.group, list(c.keywords),
            c.default_level.value, c.sla.normal_hours, c.sla.complex_hours, c.sla.urgent_hours, c.department_id,
            c.route_to_department, msgspec.to_builtins(c.questions), c.active, c.updated_at)


class PgCategories:
    def __init__(self, conn: Conn, cache: ReferenceCache | None = None) -> None:
        self.conn = conn
        self.cache = cache

    async def get(self, category_id: uuid.UUID) -> Category | None:
        cached = self.cache.category(category_id) if self.cache else None
        if cached is not None:
            return cached
        row = await self.conn.fetchrow(f"SELECT {_CATEGORY_COLS} FROM feedback_categories WHERE id = $1",
                                       category_id)
        category = category_from_row(row) if row else None
        if category is not None and self.cache:
            self.cache.put_category(category)
        return category

    async def list(self, *, active_only: bool = True) -> list[Category]:
        rows = await self.conn.fetch(
            f"SELECT {_CATEGORY_COLS} FROM feedback_categories WHERE active OR NOT $1 ORDER BY grp, code",
            active_only)
        return [category_from_row(r) for r in rows]

    async def get_by_code(self, code: str) -> Category | None:
        row = await self.conn.fetchrow(f"SELECT {_CATEGORY_COLS} FROM feedback_categories WHERE code = $1", code)
        return category_from_row(row) if row else None

    async def code_taken(self, code: str, except_id: uuid.UUID | None = None) -> bool:
        return bool(await self.conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM feedback_categories WHERE code = $1 AND id IS DISTINCT FROM $2)",
            code, except_id))

    async def add(self, category: Category) -> None:
        await self.conn.execute(
            f"INSERT INTO feedback_categories ({_CATEGORY_COLS}) VALUES "
            "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)", *_category_args(category))

    async def update(self, category: Category) -> None:
        await self.conn.execute(
            """UPDATE feedback_categories SET code=$2, name_vi=$3, name_en=$4, description_vi=$5,
               description_en=$6, grp=$7, keywords=$8, default_level=$9, sla_normal_hours=$10,
               sla_complex_hours=$11, sla_urgent_hours=$12, department_id=$13, route_to_department=$14,
               questions=$15, active=$16, updated_at=$17 WHERE id = $1""", *_category_args(category))
        if self.cache:
            self.cache.drop_category(category.id)


def _unit(row: asyncpg.Record) -> UnitRef:
    return UnitRef(row["id"], UnitKind(row["kind"]), row["parent_id"], row["name_vi"], row["name_en"])


class PgUnits:
    def __init__(self, conn: Conn, cache: ReferenceCache | None = None) -> None:
        self.conn = conn
        self.cache = cache

    async def get(self, unit_id: uuid.UUID) -> UnitRef | None:
        row = await self.conn.fetchrow(
            "SELECT id, kind, parent_id, name_vi, name_en FROM units WHERE id = $1 AND active", unit_id)
        return _unit(row) if row else None

    async def _places(self) -> PlaceIndex:
        cached = self.cache.places() if self.cache else None
        if cached is not None:
            return cached
        rows = await self.conn.fetch(
            """SELECT id, kind, parent_id, name_vi, name_en, lat, lon FROM units
               WHERE kind IN ('district', 'ward') AND active AND lat IS NOT NULL""")
        places = PlaceIndex([(_unit(r), r["lat"], r["lon"]) for r in rows])
        if self.cache:
            self.cache.put_places(places)
        return places

    async def locate(self, lat: float, lon: float) -> UnitRef | None:
        return (await self._places()).locate(lat, lon)

    async def staff_roles(self, user_id: uuid.UUID, unit_id: uuid.UUID) -> frozenset[str]:
        rows = await self.conn.fetch("SELECT role FROM staff_grants WHERE user_id = $1 AND unit_id = $2",
                                     user_id, unit_id)
        return frozenset(r["role"] for r in rows)

    async def supervisors(self, unit_id: uuid.UUID) -> list[uuid.UUID]:
        rows = await self.conn.fetch(
            "SELECT user_id FROM staff_grants WHERE unit_id = $1 AND role = 'supervisor' ORDER BY user_id", unit_id)
        return [r["user_id"] for r in rows]


# The index-cell key of a report (domain.feedback.geo.index_cell), as indexed by migrations 0032 and 0033:
# queries must use this very expression for PostgreSQL to match those indexes.
INDEX_CELL_SQL = "(floor(lat * 100)::bigint * 100000 + floor(lon * 100)::bigint)"

REPORT_COLS = """id, ref, reporter_id, category_id, level, status, description, lat, lon, address, ward_id,
    unit_id, assignee_id, answers, publishable, hidden, created_at, updated_at, ack_due_at, due_at,
    acknowledged_at, handled_at, closed_at, duplicate_of, reply, reopen_count, version"""


def newest_per_cell(where: str, newest: str, cells: str, limit: str) -> str:
    """Reports near a point, newest first by ``newest``: at most ``limit`` rows matching ``where`` from each
    index cell in ``cells`` (one short, ordered range of an index keyed by the cell), then the newest
    ``limit`` of those — instead of every matching row in the box's latitude band, sorted."""
    return f"""
    SELECT {REPORT_COLS} FROM feedback_reports WHERE id IN (
      SELECT top.id FROM unnest({cells}::bigint[]) AS c(cell) CROSS JOIN LATERAL (
        SELECT id, {newest} AS newest FROM feedback_reports
        WHERE {INDEX_CELL_SQL} = c.cell AND {where}
        ORDER BY {newest} DESC LIMIT {limit}) AS top
      ORDER BY top.newest DESC LIMIT {limit})
    ORDER BY {newest} DESC"""


# $1 category, $2 index cells of the box, $3 since, $4–$7 the box, $8 how many.
NEARBY_SQL = newest_per_cell(
    "category_id = $1 AND created_at >= $3 AND lat BETWEEN $4 AND $5 AND lon BETWEEN $6 AND $7",
    newest="created_at", cells="$2", limit="$8")


def report_from_row(row: asyncpg.Record) -> Report:
    return Report(
        id=row["id"], ref=row["ref"], reporter_id=row["reporter_id"], category_id=row["category_id"],
        level=Level(row["level"]), status=Status(row["status"]), description=row["description"],
        location=Location(row["lat"], row["lon"]), address=row["address"], ward_id=row["ward_id"],
        unit_id=row["unit_id"], assignee_id=row["assignee_id"], answers=row["answers"],
        publishable=row["publishable"], hidden=row["hidden"], created_at=row["created_at"],
        updated_at=row["updated_at"], ack_due_at=row["ack_due_at"], due_at=row["due_at"],
        acknowledged_at=row["acknowledged_at"], handled_at=row["handled_at"], closed_at=row["closed_at"],
        duplicate_of=row["duplicate_of"], reply=row["reply"], reopen_count=row["reopen_count"],
        version=row["version"])


def attachment_from_row(row: asyncpg.Record) -> Attachment:
    return Attachment(id=row["id"], report_id=row["report_id"], kind=AttachmentKind(row["kind"]),
                      content_type=row["content_type"], size=row["size"], blob_key=row["blob_key"],
                      thumb_key=row["thumb_key"], uploaded_by=row["uploaded_by"], created_at=row["created_at"],
                      used=row["used"], source_sha256=row["source_sha256"])


# Placeholders are numbered by the caller: alone ($1..$10) or after the report's in one statement.
_EVENT_INSERT = ("INSERT INTO feedback_events (id, report_id, kind, status, actor_kind, actor_id, public, text, "
                 "data, created_at) VALUES (${},${},${},${},${},${},${},${},${},${})")


def _event_args(e: Event) -> list[Any]:
    return [e.id, e.report_id, e.kind.value, e.status.value, e.actor_kind.value, e.actor_id, e.public, e.text,
            e.data, e.created_at]


class PgReports:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def add(self, r: Report, first_event: Event | None = None) -> None:
        # The reference code comes from a sequence inside the INSERT (never reused); the first timeline
        # event rides along in a data-modifying CTE, so a new report costs one round trip, not two.
        report_sql = (f"INSERT INTO feedback_reports ({REPORT_COLS}) VALUES ($1,"
                      "'PA-' || $2::text || '-' || lpad(nextval('feedback_report_seq')::text, 6, '0'),"
                      "$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,"
                      "$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27) RETURNING ref")
        args = [r.id, str(r.created_at.astimezone(HANOI).year), r.reporter_id, r.category_id, r.level.value,
                r.status.value, r.description,
                r.location.lat, r.location.lon, r.address, r.ward_id, r.unit_id, r.assignee_id, r.answers,
                r.publishable, r.hidden, r.created_at, r.updated_at, r.ack_due_at, r.due_at, r.acknowledged_at,
                r.handled_at, r.closed_at, r.duplicate_of, r.reply, r.reopen_count, r.version]
        if first_event is not None:
            report_sql = (f"WITH r AS ({report_sql}), e AS ({_EVENT_INSERT.format(*range(28, 38))}) "
                          "SELECT ref FROM r")
            args += _event_args(first_event)
        r.ref = await self.conn.fetchval(report_sql, *args)

    async def get(self, report_id: uuid.UUID, *, for_update: bool = False) -> Report | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self.conn.fetchrow(f"SELECT {REPORT_COLS} FROM feedback_reports WHERE id = $1{lock}", report_id)
        return report_from_row(row) if row else None

    async def save(self, r: Report) -> None:
        await self.conn.execute(
            """UPDATE feedback_reports SET category_id=$2, level=$3, status=$4, unit_id=$5, assignee_id=$6,
               hidden=$7, updated_at=$8, ack_due_at=$9, due_at=$10, acknowledged_at=$11, handled_at=$12,
               closed_at=$13, duplicate_of=$14, reply=$15, reopen_count=$16, version = version + 1
               WHERE id = $1""",
            r.id, r.category_id, r.level.value, r.status.value, r.unit_id, r.assignee_id, r.hidden, r.updated_at,
            r.ack_due_at, r.due_at, r.acknowledged_at, r.handled_at, r.closed_at, r.duplicate_of, r.reply,
            r.reopen_count)
        r.version += 1

    async def add_event(self, e: Event) -> None:
        await self.conn.execute(_EVENT_INSERT.format(*range(1, 11)), *_event_args(e))

    async def add_follower(self, report_id: uuid.UUID, user_id: uuid.UUID, at: datetime) -> bool:
        return bool(await self.conn.fetchval(
            """INSERT INTO feedback_followers (report_id, user_id, created_at) VALUES ($1, $2, $3)
               ON CONFLICT DO NOTHING RETURNING true""", report_id, user_id, at))

    async def remove_follower(self, report_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        return bool(await self.conn.fetchval(
            "DELETE FROM feedback_followers WHERE report_id = $1 AND user_id = $2 RETURNING true",
            report_id, user_id))

    async def follower_ids(self, report_id: uuid.UUID) -> list[uuid.UUID]:
        rows = await self.conn.fetch("SELECT user_id FROM feedback_followers WHERE report_id = $1", report_id)
        return [r["user_id"] for r in rows]

    async def add_attachment(self, a: Attachment) -> None:
        await self.conn.execute(
            """INSERT INTO feedback_attachments (id, report_id, kind, content_type, size, blob_key, thumb_key,
               uploaded_by, used, created_at, source_sha256) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)""",
            a.id, a.report_id, a.kind.value, a.content_type, a.size, a.blob_key, a.thumb_key, a.uploaded_by,
            a.used, a.created_at, a.source_sha256)

    async def attachments(self, report_id: uuid.UUID) -> list[Attachment]:
        rows = await self.conn.fetch("SELECT * FROM feedback_attachments WHERE report_id = $1 ORDER BY id",
                                     report_id)
        return [attachment_from_row(r) for r in rows]

    async def mark_attachments_used(self, ids: list[uuid.UUID]) -> None:
        await self.conn.execute("UPDATE feedback_attachments SET used = true WHERE id = ANY($1::uuid[])", ids)

    async def add_rating(self, rating: Rating) -> bool:
        return bool(await self.conn.fetchval(
            """INSERT INTO feedback_ratings (report_id, score, comment, created_at) VALUES ($1, $2, $3, $4)
               ON CONFLICT DO NOTHING RETURNING true""",
            rating.report_id, rating.score, rating.comment, rating.created_at))

    async def nearby(self, category_id: uuid.UUID, box: BBox, since: datetime, limit: int) -> list[Report]:
        """Reports of the category created since ``since`` in the box, newest first: at most ``limit`` from
        each index cell the box touches (index ``feedback_reports_category_cell``), then the newest of those."""
        rows = await self.conn.fetch(NEARBY_SQL, category_id, index_cells(box), since, *box, limit)
        return [report_from_row(r) for r in rows]

    async def overdue(self, now: datetime, limit: int) -> list[Overdue]:
        rows = await self.conn.fetch(
            f"""SELECT {REPORT_COLS}, d.deadline, d.deadline_due
                FROM feedback_reports r
                CROSS JOIN LATERAL (VALUES ('acknowledge', r.ack_due_at), ('handle', r.due_at))
                  AS d(deadline, deadline_due)
                WHERE r.next_deadline_at < $1 AND d.deadline_due < $1
                  AND (d.deadline = 'handle' OR r.status IN ('pending', 'transferred'))
                  AND NOT EXISTS (SELECT 1 FROM feedback_escalations e WHERE e.report_id = r.id
                                  AND e.deadline = d.deadline AND e.due_at = d.deadline_due)
                ORDER BY r.next_deadline_at LIMIT $2""", now, limit)
        return [Overdue(report_from_row(r), r["deadline"], r["deadline_due"]) for r in rows]

    async def record_escalation(self, report_id: uuid.UUID, deadline: str, due_at: datetime, at: datetime) -> bool:
        return bool(await self.conn.fetchval(
            """INSERT INTO feedback_escalations (report_id, deadline, due_at, escalated_at) VALUES ($1,$2,$3,$4)
               ON CONFLICT DO NOTHING RETURNING true""", report_id, deadline, due_at, at))
