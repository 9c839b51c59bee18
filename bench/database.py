"""The database a bench runs against: a dedicated, freshly migrated and seeded database.

Server choice, in order: ``DATABASE_URL``; the machine's PostgreSQL if it answers; an embedded one
(``adapters/postgres/embedded.py``) in a temp dir. The bench database is dropped afterwards, so runs
never meet each other or the test databases.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from adapters.postgres.embedded import EmbeddedPostgres
from adapters.postgres.migrator import migrate
from adapters.postgres.pool import connect
from adapters.postgres.seed import seed_demo

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


async def _execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _reachable(url: str) -> bool:
    try:
        await _execute(url, "SELECT 1")
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


async def _prepare(url: str) -> None:
    conn = await connect(url)
    try:
        await migrate(conn)
        await seed_demo(conn)
    finally:
        await conn.close()


async def postgres_version(url: str) -> str:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


@contextmanager
def server_url() -> Iterator[tuple[str, str]]:
    """(url of a server we may create databases on, how it was chosen)."""
    given = os.environ.get("DATABASE_URL")
    if given:
        yield given, "DATABASE_URL"
        return
    if asyncio.run(_reachable(LOCAL_SERVER)):
        yield LOCAL_SERVER, "local server"
        return
    with tempfile.TemporaryDirectory(prefix="thudo-bench-pg-") as tmp:
        embedded = EmbeddedPostgres(Path(tmp))
        try:
            yield embedded.start(), "embedded"
        finally:
            embedded.stop()


@contextmanager
def bench_database(server: str) -> Iterator[str]:
    """A new database on ``server`` with the real migrations and demo seed; dropped on exit."""
    name = "thudo_bench_" + secrets.token_hex(5)
    asyncio.run(_execute(server, f'CREATE DATABASE "{name}"'))
    url = with_database(server, name)
    try:
        asyncio.run(_prepare(url))
        yield url
    finally:
        asyncio.run(_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
