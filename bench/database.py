"""The database a bench runs against: a dedicated, freshly migrated and seeded database.

Server choice, in order: ``DATABASE_URL``; the machine's PostgreSQL if it answers; an embedded one
(``adapters/postgres/embedded.py``) in a temp dir. The bench database is dropped afterwards, so runs
never meet each other or the test databases.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import asyncpg

from adapters.postgres.embedded import EmbeddedPostgres
from adapters.postgres.feedback.seed import seed_feedback_categories
from adapters.postgres.migrator import migrate
from adapters.postgres.pool import connect
from adapters.postgres.scratch import execute_on, fetchval_on, scratch_database
from adapters.postgres.seed import seed_units

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


async def _reachable(url: str) -> bool:
    try:
        await execute_on(url, "SELECT 1")
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


async def _prepare(url: str) -> None:
    conn = await connect(url)
    try:
        await migrate(conn)
        await seed_units(conn)
        await seed_feedback_categories(conn)
    finally:
        await conn.close()


async def vacuum_analyze(url: str) -> float:
    """``VACUUM (ANALYZE)`` of the bench database, in seconds: run after a scenario's set-up so that the rows it
    just inserted (my reports: 30,000 reports, 1,000 citizens' accounts and sessions) are vacuumed and analysed
    before the measurement, not by autovacuum during it (seen in the first open-loop window on a server with
    autovacuum on, docs/performance.md "The my-reports stall"), and the planner has their statistics."""
    conn = await asyncpg.connect(url, timeout=10)
    try:
        started = asyncio.get_running_loop().time()
        await conn.execute("VACUUM (ANALYZE)")
        return asyncio.get_running_loop().time() - started
    finally:
        await conn.close()


async def postgres_version(url: str) -> str:
    return str(await fetchval_on(url, "SHOW server_version"))


@contextmanager
def server_url(embedded: bool = False) -> Iterator[tuple[str, str]]:
    """(url of a server we may create databases on, how it was chosen). ``embedded``: always a server of our
    own, so that other users of the machine's server (their connections, their checkpoints) stay out of it."""
    given = os.environ.get("DATABASE_URL")
    if given and not embedded:
        yield given, "DATABASE_URL"
        return
    if not embedded and asyncio.run(_reachable(LOCAL_SERVER)):
        yield LOCAL_SERVER, "local server"
        return
    with tempfile.TemporaryDirectory(prefix="thudo-bench-pg-") as tmp:
        embedded = EmbeddedPostgres(Path(tmp))
        try:
            yield embedded.start(), "embedded"
        finally:
            embedded.stop()


def bench_database(server: str) -> AbstractContextManager[str]:
    """A new database on ``server`` with the real migrations and demo seed; dropped on exit."""
    return scratch_database(server, "thudo_bench_", _prepare)


@contextmanager
def run_database(given: str | None, *, embedded: bool = False) -> Iterator[tuple[str, str]]:
    """(url, how it was chosen) for one bench run: ``given`` (already migrated) or a fresh bench database
    (on an embedded server of its own with ``embedded``)."""
    if given:
        yield given, "given (--database-url, already migrated)"
        return
    with server_url(embedded) as (server, how), bench_database(server) as url:
        yield url, f"{how}, dedicated database migrated + seeded for this run"
