"""Unit of work over one pooled connection and one transaction.

Repositories of each bounded context are built on ``self.conn``; a context's adapter subclasses
nothing — it takes the unit of work's connection. ``commit`` is explicit; leaving the context
without it rolls back, so an exception never leaves half-written rows.
"""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import Any

import asyncpg
from asyncpg.transaction import Transaction

# A request waits at most this long for a free pooled connection, then gets 503 + Retry-After:
# under overload or an outage the client is told to come back instead of the request hanging.
ACQUIRE_TIMEOUT_S = 5.0


class PgUnitOfWork:
    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        self._pool = pool
        self._conn: asyncpg.pool.PoolConnectionProxy[Any] | None = None
        self._tx: Transaction | None = None
        self._done = False

    @property
    def conn(self) -> asyncpg.pool.PoolConnectionProxy[Any]:
        if self._conn is None:
            raise RuntimeError("unit of work not started")
        return self._conn

    async def __aenter__(self) -> PgUnitOfWork:
        self._conn = await self._pool.acquire(timeout=ACQUIRE_TIMEOUT_S)
        try:
            self._tx = self._conn.transaction()
            await self._tx.start()
        except BaseException:
            await self._pool.release(self._conn)
            self._conn = None
            raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        try:
            if not self._done:
                await self.rollback()
        finally:
            if self._conn is not None:
                await self._pool.release(self._conn)
                self._conn = None

    async def commit(self) -> None:
        assert self._tx is not None
        self._done = True
        await self._tx.commit()

    async def rollback(self) -> None:
        if self._tx is not None and not self._done:
            self._done = True
            # A broken connection (database restarted) cannot roll back; the pool discards it on release.
            with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                await self._tx.rollback()
