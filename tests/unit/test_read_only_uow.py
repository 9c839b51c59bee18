"""The read-only unit of work: no transaction, and its connection refuses writing statements."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import pytest
from litestar import Litestar, Request, get
from litestar.di import NamedDependency, Provide
from litestar.testing import TestClient

from adapters.postgres.uow import PgUnitOfWork, ReadOnlyConnection, ReadOnlyViolation
from api.platform.app import create_app
from api.platform.deps import (
    _ASYNC_GEN,
    _AWAIT,
    _CALL,
    _LITESTAR,
    _PLANS,
    READ_ONLY_OPT,
    TX_ON_WRITE_OPT,
    _SequentialKwargsModel,
    resolve_dependencies_in_order,
)


class _Conn:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        self.sent.append(query)
        return []

    fetchrow = fetchval = execute = fetch

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
                      "healthTimeline", "transitCredentialIssue",
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


def test_request_only_providers_are_called_directly_and_the_others_through_litestar() -> None:
    """The per-handler plan (api.platform.deps): ``uow``/``principal``/``container`` skip Litestar's per-request
    signature-model parse; a Litestar upgrade that renames what the plan reads fails here, not in production."""

    app = create_app()
    route = next(r for r in app.routes if r.path == "/api/v1/me")
    _, model = route.route_handler_map["GET"]  # type: ignore[attr-defined]
    assert type(model) is _SequentialKwargsModel
    how = {key: kind for key, kind, *_ in _PLANS[id(model)][1]}
    assert how["uow"] == _ASYNC_GEN
    assert how["principal"] == _AWAIT

    closed: list[str] = []

    def one() -> int:
        return 1

    def plus_one(one: NamedDependency[int]) -> int:  # takes another dependency: resolved by Litestar
        return one + 1

    async def path_of(request: Request[Any, Any, Any]) -> AsyncGenerator[str, None]:
        yield request.url.path
        closed.append(request.url.path)  # the generator's cleanup still runs

    async def cached() -> int:
        return 3

    @get("/x", sync_to_thread=False)
    def handler(one: NamedDependency[int], two: NamedDependency[int], where: NamedDependency[str],
                three: NamedDependency[int]) -> dict[str, Any]:
        return {"one": one, "two": two, "where": where, "three": three}

    small = Litestar([handler], dependencies={"one": Provide(one, sync_to_thread=False),
                                              "two": Provide(plus_one, sync_to_thread=False),
                                              "where": Provide(path_of), "three": Provide(cached, use_cache=True)})
    resolve_dependencies_in_order(small)
    _, small_model = next(r for r in small.routes if r.path == "/x").route_handler_map["GET"]  # type: ignore[attr-defined]
    assert {key: kind for key, kind, *_ in _PLANS[id(small_model)][1]} == {
        "one": _CALL, "two": _LITESTAR, "where": _ASYNC_GEN, "three": _LITESTAR}
    with TestClient(small) as client:
        assert client.get("/x").json() == {"one": 1, "two": 2, "where": "/x", "three": 3}
    assert closed == ["/x"]


async def test_autocommit_unit_of_work_sends_its_one_write_without_a_transaction() -> None:
    """``autocommit=True`` (online validation of a dynamic code): no BEGIN/COMMIT, and writes go through."""
    pool = _Pool()
    async with PgUnitOfWork(pool, autocommit=True) as uow:  # type: ignore[arg-type]
        await uow.conn.fetchrow("INSERT INTO t VALUES ($1) ON CONFLICT DO NOTHING", 1)
        await uow.commit()
    assert pool.conn.sent == ["INSERT INTO t VALUES ($1) ON CONFLICT DO NOTHING"]
    assert pool.released


async def test_transaction_on_write_begins_before_the_first_write_only() -> None:
    """``on_write=True`` (the FHIR reads): reads alone make no BEGIN/COMMIT; a write is preceded by BEGIN, and
    everything from it on is one transaction, committed (or rolled back) as any other."""
    pool = _Pool()
    async with PgUnitOfWork(pool, on_write=True, begin_check="SELECT 1") as uow:  # type: ignore[arg-type]
        await uow.conn.fetchrow("SELECT id FROM health_patients WHERE id = $1", 1)
        await uow.conn.fetch("SELECT id FROM health_resources WHERE patient_id = $1", 1)
        await uow.commit()
        assert not uow.wrote
    assert pool.conn.sent == ["SELECT 1",  # the caller's session check: first, alone, no BEGIN
                              "SELECT id FROM health_patients WHERE id = $1",
                              "SELECT id FROM health_resources WHERE patient_id = $1"]
    assert pool.released

    pool = _Pool()
    async with PgUnitOfWork(pool, on_write=True) as uow:  # type: ignore[arg-type]
        await uow.conn.fetch("SELECT id FROM health_resources WHERE patient_id = $1", 1)
        await uow.conn.fetchval("WITH ins AS (INSERT INTO health_access_log VALUES ($1)) SELECT true", 1)
        await uow.conn.fetchrow("SELECT user_id FROM health_patients WHERE id = $1", 1)
        await uow.conn.execute("UPDATE push_outbox SET available_at = $2 WHERE id = $1", 1, 2)
        await uow.commit()
        assert uow.wrote
    assert pool.conn.sent == ["SELECT id FROM health_resources WHERE patient_id = $1", "BEGIN",
                              "WITH ins AS (INSERT INTO health_access_log VALUES ($1)) SELECT true",
                              "SELECT user_id FROM health_patients WHERE id = $1",
                              "UPDATE push_outbox SET available_at = $2 WHERE id = $1", "COMMIT"]

    pool = _Pool()

    async def fails() -> None:
        async with PgUnitOfWork(pool, on_write=True) as uow:  # type: ignore[arg-type]
            await uow.conn.fetchrow("SELECT 1 FROM t FOR UPDATE")  # a lock needs its transaction too
            raise RuntimeError("the handler failed")

    with pytest.raises(RuntimeError):
        await fails()
    assert pool.conn.sent == ["BEGIN", "SELECT 1 FROM t FOR UPDATE", "ROLLBACK"]
    assert pool.released


def test_only_reads_that_sometimes_write_are_marked_transaction_on_write() -> None:
    marked = {h.operation_id or h.name for route in create_app().routes
              for h in getattr(route, "route_handlers", []) if h.opt.get(TX_ON_WRITE_OPT)}
    # The FHIR reads: the patient's own read writes nothing; anyone else's writes the access log (and may
    # notify the patient), in one transaction begun before that write.
    assert marked == {"fhirPatientRead", "fhirPatientSummary", "fhirRead", "fhirSearch"}
