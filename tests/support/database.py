"""A throw-away PostgreSQL database per test run.

``TEST_DATABASE_URL`` names a server to use (a fresh database is created on it and dropped at the
end, so concurrent runs never meet); without it an embedded PostgreSQL is started in a temp dir.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import asyncpg

from adapters.postgres.embedded import EmbeddedPostgres
from adapters.postgres.migrator import migrate
from adapters.postgres.pool import connect
from adapters.postgres.scratch import scratch_database
from api.platform.cli import seed_reference

# Per database: the tables that hold reference data after ``prepare`` (units, every context's
# catalogues, the migrations), kept between tests.
_KEEP: dict[str, set[str]] = {}


async def prepare(url: str) -> None:
    conn = await connect(url)
    try:
        await migrate(conn)
        await seed_reference(conn)
        tables = [r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        _KEEP[url] = {t for t in tables if await conn.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{t}")')}
    finally:
        await conn.close()


@contextmanager
def server_url(tmp: Path) -> Iterator[str]:
    """URL of the server tests run on: TEST_DATABASE_URL or a new embedded one in ``tmp``.

    ``tmp`` must not be under pytest's basetemp (see tests/conftest.py ``database_url``).
    """
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield given
        return
    embedded = EmbeddedPostgres(tmp)
    try:
        yield embedded.start()
    finally:
        embedded.stop()


def fresh_database(server: str) -> AbstractContextManager[str]:
    return scratch_database(server, "thudo_test_", prepare)




async def truncate_all(url: str) -> None:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        tables = [r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") if r["tablename"] not in _KEEP[url]]
        if tables:
            await conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
    finally:
        await conn.close()
