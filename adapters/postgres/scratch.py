"""Throw-away databases for tests and benchmarks: created on a server, dropped afterwards.

Each run gets its own database name, so concurrent test runs and benches on one server never meet.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` on the same server."""
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


async def fetchval_on(url: str, sql: str, *args: Any) -> Any:
    """One statement on its own short-lived connection (CREATE/DROP DATABASE cannot run in a pool)."""
    conn = await asyncpg.connect(url, timeout=5)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def execute_on(url: str, sql: str) -> None:
    await fetchval_on(url, sql)


@contextmanager
def scratch_database(server: str, prefix: str,
                     prepare: Callable[[str], Coroutine[Any, Any, None]] | None = None) -> Iterator[str]:
    """A new database on ``server`` (``prepare``d, e.g. migrated and seeded); dropped on exit."""
    name = prefix + secrets.token_hex(6)
    asyncio.run(execute_on(server, f'CREATE DATABASE "{name}"'))
    url = with_database(server, name)
    try:
        if prepare is not None:
            asyncio.run(prepare(url))
        yield url
    finally:
        asyncio.run(execute_on(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
