"""The read-only unit of work: no transaction, and its connection refuses writing statements."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.postgres.uow import PgUnitOfWork, ReadOnlyConnection, ReadOnlyViolation
from api.platform.app import create_app
from api.platform.deps import READ_ONLY_OPT


class _Conn:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        self.sent.append(query)
        return []

    fetchrow = fetchval = fetch

    def transaction(self) -> Any:
        raise AssertionError("a read-only unit of work must not open a transaction")


class _Pool:
    def __init__(self) -> None:
        self.conn, self.released = _Conn(), False

    async def acquire(self, timeout: float) -> _Conn:
        return self.conn

    async def release(self, conn: _Conn) -> None:
        self.released = True


@pytest.mark.parametrize("sql", [
    "INSERT INTO t VALUES (1)", "update t set a = 1", "WITH x AS (DELETE FROM t RETURNING id) SELECT * FROM x",
    "SELECT * FROM t WHERE id = $1 FOR UPDATE", "SELECT nextval('s')", "SELECT 1 FROM t FOR SHARE",
])
async def test_writing_statements_are_refused_before_they_are_sent(sql: str) -> None:
    conn = _Conn()
    with pytest.raises(ReadOnlyViolation):
        await ReadOnlyConnection(conn).fetch(sql)  # type: ignore[arg-type]
    assert conn.sent == []


async def test_read_only_unit_of_work_runs_reads_without_a_transaction() -> None:
    pool = _Pool()
    async with PgUnitOfWork(pool, read_only=True) as uow:  # type: ignore[arg-type]
        await uow.conn.fetchrow("SELECT id, updated_at FROM users WHERE id = $1", 1)
        await uow.commit()
    assert pool.conn.sent == ["SELECT id, updated_at FROM users WHERE id = $1"]
    assert pool.released


def test_only_pure_reads_are_marked_read_only() -> None:
    marked = {h.operation_id or h.name for route in create_app().routes
              for h in getattr(route, "route_handlers", []) if h.opt.get(READ_ONLY_OPT)}
    # Exactly these, each checked to run independent single reads only: marking another handler is a
    # decision to make here, not by accident (a write on a read-only unit of work fails at run time).
    # Console pages (no operation id) go by their route name; a lost grant's revocation in their session
    # guard runs in a unit of work of its own.
    assert marked == {"meGet", "feedbackMyReports", "feedbackFollowing", "feedbackHeatmap", "judicialQueue",
                      "console.home", "console.feedback.queue", "console.feedback.overdue",
                      "console.feedback.report", "console.feedback.file",
                      "console.judicial.queue", "console.judicial.request", "console.stats", "console.stats.csv",
                      "console.admin", "console.admin.staff", "console.admin.categories", "console.admin.keys",
                      "console.admin.category", "console.admin.category.new",
                      "console.admin.facilities", "console.admin.authorities"}


def test_dependencies_resolve_one_at_a_time_with_the_unit_of_work_then_the_caller_last() -> None:
    app = create_app()
    route = next(r for r in app.routes if r.path == "/api/v1/me")
    _, model = route.route_handler_map["GET"]  # type: ignore[attr-defined]
    order = [next(iter(batch)).key for batch in model.dependency_batches]
    assert all(len(batch) == 1 for batch in model.dependency_batches)
    assert order[-2:] == ["uow", "principal"]


async def test_autocommit_unit_of_work_sends_its_one_write_without_a_transaction() -> None:
    """``autocommit=True`` (online validation of a dynamic code): no BEGIN/COMMIT, and writes go through."""
    pool = _Pool()
    async with PgUnitOfWork(pool, autocommit=True) as uow:  # type: ignore[arg-type]
        await uow.conn.fetchrow("INSERT INTO t VALUES ($1) ON CONFLICT DO NOTHING", 1)
        await uow.commit()
    assert pool.conn.sent == ["INSERT INTO t VALUES ($1) ON CONFLICT DO NOTHING"]
    assert pool.released
