"""Feedback repositories against real PostgreSQL: routing by centroid, escalation once, and EXPLAIN
checks that the hot queries (my reports, unit queue, nearby duplicates, public feed) use indexes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from adapters.calendar.vietnam import VietnamHolidays
from adapters.postgres.feedback import queries as feedback_queries
from adapters.postgres.feedback.queries import PUBLIC_NEAR_SQL, PgFeedbackQueries
from adapters.postgres.feedback.repositories import NEARBY_SQL, REPORT_COLS, PgCategories, PgReports, PgUnits
from adapters.postgres.notifications.notifier import PgNotifier
from adapters.postgres.pool import connect
from domain.feedback.calendar import WorkingCalendar
from domain.feedback.geo import BBox, index_cell, index_cells
from domain.feedback.model import Status, UnitKind
from domain.feedback.reads import QueueFilter, SearchFilter
from domain.feedback.usecases import citizen, staff
from domain.feedback.usecases.common import Deps
from domain.feedback.usecases.escalation import EscalateOverdue
from domain.identity.principal import Principal, PrincipalKind, StaffGrant, StaffRole
from tests.support.database import fresh_database
from tests.support.notifications import make_user


class Clock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def now(self) -> datetime:
        return self.t


def run(database_url: str, body: Callable[[asyncpg.Connection[Any]], Awaitable[None]]) -> None:
    async def go() -> None:
        conn = await connect(database_url)
        tx = conn.transaction()
        await tx.start()
        try:
            await body(conn)
        finally:
            await tx.rollback()  # nothing of this test survives it
            await conn.close()
    asyncio.run(go())


def deps(conn: Any, clock: Clock) -> Deps:
    return Deps(reports=PgReports(conn), categories=PgCategories(conn), units=PgUnits(conn),
                notifier=PgNotifier(conn, clock), clock=clock, calendar=WorkingCalendar(VietnamHolidays()))


async def _user(conn: Any, **kw: Any) -> Principal:
    return Principal(kind=PrincipalKind.USER, id=await make_user(conn), level=2, **kw)


async def _category(conn: Any, code: str) -> uuid.UUID:
    return uuid.UUID(str(await conn.fetchval("SELECT id FROM feedback_categories WHERE code = $1", code)))


def test_routing_escalation_and_search(database_url: str) -> None:
    async def body(conn: asyncpg.Connection[Any]) -> None:
        clock = Clock(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))  # Friday 16:00 in Hanoi
        d = deps(conn, clock)
        reporter = await _user(conn)
        cmd = citizen.NewReport(category_id=await _category(conn, "SIDEWALK"), description="Lấn chiếm vỉa hè",
                                lat=21.0287, lon=105.8545)
        report = await citizen.SubmitReport(d).execute(reporter, cmd)
        ward = await conn.fetchval("SELECT code FROM units WHERE id = $1", report.unit_id)
        assert ward == "W00058"
        assert report.ack_due_at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Monday 16:00 Hanoi
        light = await citizen.SubmitReport(d).execute(reporter, citizen.NewReport(
            category_id=await _category(conn, "STREET_LIGHT"), description="Đèn tắt cả phố", lat=21.0287,
            lon=105.8545))
        assert await conn.fetchval("SELECT code FROM units WHERE id = $1", light.unit_id) == "HAPULICO"
        far = await citizen.SubmitReport(d).execute(reporter, citizen.NewReport(
            category_id=await _category(conn, "SIDEWALK"), description="Lấn chiếm ở Sóc Sơn", lat=21.25,
            lon=105.85))
        assert (await PgUnits(conn).get(far.unit_id)).kind is UnitKind.DISTRICT  # type: ignore[union-attr]

        supervisor = await make_user(conn)
        await conn.execute("INSERT INTO staff_grants (user_id, unit_id, role) VALUES ($1, $2, 'supervisor')",
                           supervisor, report.unit_id)
        clock.t += timedelta(days=4)  # Tuesday: acknowledgement (due Monday) is late, handling not yet
        job = EscalateOverdue(d)
        assert await job.execute() >= 1
        while await job.execute():  # other tests' reports in this database may be overdue too
            pass
        assert await job.execute() == 0
        sent = await conn.fetchval(
            "SELECT count(*) FROM notification_inbox WHERE user_id = $1 AND template = 'feedback.overdue' "
            "AND object_id = $2", supervisor, str(report.id))
        assert sent == 1
        handler = Principal(kind=PrincipalKind.USER, id=supervisor, grants=(
            StaffGrant(report.unit_id, StaffRole.SUPERVISOR),))
        await staff.Acknowledge(d).execute(handler, report.id)
        clock.t += timedelta(days=2)  # Thursday: the 24-working-hour handling deadline (Wednesday) has passed
        q = PgFeedbackQueries(conn)
        overdue = await q.queue(report.unit_id, QueueFilter(overdue=True), clock.now(), None, 10)
        assert report.id in [r.id for r in overdue]  # acknowledged late, handling deadline passed too
        assert all(r.overdue for r in overdue)
        assert report.id not in [r.id for r in await q.queue(report.unit_id, QueueFilter(overdue=False), clock.now(),
                                                              None, 100)]
        opened = await q.search(SearchFilter(category_ids=(report.category_id,), statuses=(Status.IN_PROGRESS,)),
                                None, 10)
        assert report.id in [r.id for r in opened]
        assert {r.status for r in opened} == {Status.IN_PROGRESS}

    run(database_url, body)


def _plan(rows: list[asyncpg.Record]) -> str:
    return "\n".join(r[0] for r in rows)


def test_hot_queries_use_indexes(database_url: str) -> None:
    async def body(conn: asyncpg.Connection[Any]) -> None:
        # Small tables make sequential scans cheapest; forbid them to see which index the plan can use.
        await conn.execute("SET LOCAL enable_seqscan = off")
        uid, unit, cat = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        now = datetime.now(UTC)
        box = BBox.around(21.03, 105.85, 100)
        checks = {
            "feedback_reports_reporter": (
                f"SELECT {REPORT_COLS} FROM feedback_reports WHERE reporter_id = $1 ORDER BY id DESC LIMIT 21", uid),
            "feedback_reports_unit_open": (
                f"SELECT {REPORT_COLS} FROM feedback_reports WHERE status IN ('pending', 'transferred', "
                "'in_progress') AND unit_id = $1 ORDER BY id DESC LIMIT 21", unit),
            "feedback_reports_unit_status": (
                f"SELECT {REPORT_COLS} FROM feedback_reports WHERE unit_id = $1 AND status = 'handled' "
                "ORDER BY id DESC LIMIT 21", unit),
            # Duplicate suggestions and the public feed near a point: one short range per index cell.
            "feedback_reports_category_cell": (NEARBY_SQL, cat, index_cells(box), now - timedelta(days=30), *box, 50),
            "feedback_reports_public_cell": (PUBLIC_NEAR_SQL, index_cells(box), *box, uuid.UUID(int=(1 << 128) - 1),
                                             21),
            "feedback_reports_deadline": (
                "SELECT id FROM feedback_reports WHERE next_deadline_at < $1 ORDER BY next_deadline_at LIMIT 100", now),
        }
        for index, (query, *args) in checks.items():
            plan = _plan(await conn.fetch("EXPLAIN " + query, *args))
            assert index in plan, f"{index} not used:\n{plan}"
            assert "Seq Scan" not in plan

    # A database of its own, analysed first: the planner's choice between two usable indexes must not
    # depend on other tests' rows or on stale statistics (it picked another index once in a full run).
    with fresh_database(database_url) as own:
        asyncio.run(_analyze(own))
        run(own, body)


async def _analyze(url: str) -> None:
    conn = await connect(url)
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def test_public_feed_near_a_point_pages_across_index_cells(database_url: str) -> None:
    async def body(conn: asyncpg.Connection[Any]) -> None:
        d = deps(conn, Clock(datetime(2026, 11, 25, 2, 0, tzinfo=UTC)))
        reporter = await _user(conn)
        category = await _category(conn, "SIDEWALK")
        centre = (21.1045, 105.7050)  # Đan Phượng: no other test reports here
        inside = [(21.1010, 105.7010), (21.1040, 105.7040), (21.0995, 105.7060), (21.1090, 105.7095),
                  (21.1050, 105.6990)]
        assert len({index_cell(*p) for p in inside}) >= 3  # the box spans several feed cells
        hidden_point, outside = (21.1030, 105.7030), (21.1300, 105.7300)  # ~3.5 km away
        ids = []
        for lat, lon in [*inside, hidden_point, outside]:
            r = await citizen.SubmitReport(d).execute(reporter, citizen.NewReport(
                category_id=category, description="Vỉa hè bị lấn chiếm", lat=lat, lon=lon))
            ids.append(r.id)
        await conn.execute("UPDATE feedback_reports SET status = 'handled', handled_at = now(), closed_at = now() "
                           "WHERE id = ANY($1::uuid[])", ids)
        await conn.execute("UPDATE feedback_reports SET hidden = true WHERE id = $1", ids[len(inside)])
        q, box = PgFeedbackQueries(conn), BBox.around(*centre, 1000)
        seen: list[uuid.UUID] = []
        after = None
        while True:  # pages of 2, as the API fetches them (limit + 1 tells whether there is more)
            page = await q.public_near(box, after, 3)
            seen += [r.id for r in page[:2]]
            if len(page) <= 2:
                break
            after = page[1].id
        assert seen == sorted(ids[:len(inside)], reverse=True)  # all, once, newest first; not hidden/outside

    run(database_url, body)


def test_unit_names_are_remembered_per_process(database_url: str) -> None:
    """The names shown with every report come from PostgreSQL once, then from memory for a while."""
    async def body(conn: asyncpg.Connection[Any]) -> None:
        unit = uuid.uuid4()
        await conn.execute("INSERT INTO units (id, code, kind, name_vi, name_en) VALUES ($1, $2, 'department', $3, $3)",
                           unit, f"T{unit.hex[:8]}", "Phòng thử")
        q = PgFeedbackQueries(conn)
        assert (await q.unit_names([unit]))[unit].name_vi == "Phòng thử"
        await conn.execute("UPDATE units SET name_vi = 'Đổi tên' WHERE id = $1", unit)
        assert (await q.unit_names([unit]))[unit].name_vi == "Phòng thử"  # no round trip: remembered
        feedback_queries._UNIT_NAMES[unit] = (0.0, feedback_queries._UNIT_NAMES[unit][1])  # expired
        assert (await q.unit_names([unit]))[unit].name_vi == "Đổi tên"
        assert await q.unit_names([uuid.uuid4()]) == {}  # unknown ids: nothing, and nothing remembered

    run(database_url, body)


def test_worker_job_escalates_through_the_pool(database_url: str, tmp_path: Any) -> None:
    from adapters.postgres.pool import create_pool
    from api.feedback.jobs import escalate_overdue
    from api.feedback.wiring import FeedbackServices, build_feedback
    from api.platform.container import Container
    from api.platform.settings import load_settings

    async def go() -> None:
        pool = await create_pool(database_url, min_size=1, max_size=2)
        try:
            clock = Clock(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))
            async with pool.acquire() as conn:
                reporter = await _user(conn)
                report = await citizen.SubmitReport(deps(conn, clock)).execute(reporter, citizen.NewReport(
                    category_id=await _category(conn, "FALLEN_TREE"), description="Cây đổ chắn đường",
                    lat=21.0287, lon=105.8545, answers={"blocking_road": "yes"}))
            clock.t += timedelta(days=1, hours=1)  # urgent: 4 h to handle and 8 h to acknowledge have both passed
            settings = load_settings({}, database_url=database_url, data_dir=tmp_path)
            container = Container(settings=settings, pool=pool, services={FeedbackServices: build_feedback(settings)},
                                  clock=clock)
            while await escalate_overdue(container):
                pass
            async with pool.acquire() as conn:
                kinds = await conn.fetch("SELECT deadline FROM feedback_escalations WHERE report_id = $1 ORDER BY 1",
                                         report.id)
                assert [r["deadline"] for r in kinds] == ["acknowledge", "handle"]
                internal = await conn.fetchval(
                    "SELECT count(*) FROM feedback_events WHERE report_id = $1 AND kind = 'escalated' AND NOT public",
                    report.id)
                assert internal == 2
        finally:
            await pool.close()

    asyncio.run(go())
