"""Unit of work over one pooled connection and one transaction.

Repositories of each bounded context are built on ``self.conn``; a context's adapter subclasses
nothing — it takes the unit of work's connection. ``commit`` is explicit; leaving the context
without it rolls back, so an exception never leaves half-written rows.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

import asyncpg
from asyncpg.transaction import Transaction

from adapters.postgres.replica import RECOVERY_CONFLICT, REPLICA_GONE

if TYPE_CHECKING:
    from adapters.postgres.replica import ReadRouter

# A request waits at most this long for a free pooled connection, then gets 503 + Retry-After:
# under overload or an outage the client is told to come back instead of the request hanging.
ACQUIRE_TIMEOUT_S = 5.0

# What a read-only unit of work refuses: anything that could change data or take row locks.
_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|COPY|NEXTVAL|SETVAL|CALL|LOCK)\b"
                     r"|\bFOR\s+(NO\s+KEY\s+)?(UPDATE|SHARE)", re.IGNORECASE)


_VERDICTS: dict[str, bool] = {}


def writes(query: str) -> bool:
    """Whether ``query`` may write or take row locks (``_WRITES``). Verdicts are cached per SQL text (queries
    are constants), so the check costs a dict lookup instead of a regex over the text (~40-120 µs for a
    1 kB query on this machine)."""
    verdict = _VERDICTS.get(query)
    if verdict is None:
        verdict = _WRITES.search(query) is not None
        if len(_VERDICTS) < 10_000:
            _VERDICTS[query] = verdict
    return verdict


class ReadOnlyViolation(RuntimeError):
    """A read-only unit of work was asked to run a statement that writes (a programming error)."""


class ReadOnlyConnection:
    """The pooled connection of a read-only unit of work: queries only, checked before they are sent.

    Without BEGIN/COMMIT every statement commits on its own, so a write here would not be atomic
    with anything else; refusing it keeps the ``read_only`` marker honest (``writes``: a cached verdict).
    """

    def __init__(self, conn: asyncpg.pool.PoolConnectionProxy[Any],
                 failover: Callable[[BaseException], Awaitable[Any]] | None = None) -> None:
        self._conn = conn
        # On a replica: gives a primary connection to re-run a statement the replica could not answer.
        self._failover = failover

    def _check(self, query: str) -> None:
        if writes(query):
            raise ReadOnlyViolation("a read-only unit of work cannot run a writing statement")

    async def _on_primary(self, exc: BaseException) -> Any:
        """The replica failed this statement: every statement here stands alone, so run it on the primary."""
        if self._failover is None or not isinstance(exc, REPLICA_GONE + RECOVERY_CONFLICT):
            raise exc
        failover, self._failover = self._failover, None
        self._conn = await failover(exc)
        return self._conn

    async def fetch(self, query: str, *args: Any, **kw: Any) -> list[Any]:
        self._check(query)
        try:
            return list(await self._conn.fetch(query, *args, **kw))
        except Exception as exc:  # only replica failures are retried (``_on_primary`` re-raises the rest)
            return list(await (await self._on_primary(exc)).fetch(query, *args, **kw))

    async def fetchrow(self, query: str, *args: Any, **kw: Any) -> Any:
        self._check(query)
        try:
            return await self._conn.fetchrow(query, *args, **kw)
        except Exception as exc:
            return await (await self._on_primary(exc)).fetchrow(query, *args, **kw)

    async def fetchval(self, query: str, *args: Any, **kw: Any) -> Any:
        self._check(query)
        try:
            return await self._conn.fetchval(query, *args, **kw)
        except Exception as exc:
            return await (await self._on_primary(exc)).fetchval(query, *args, **kw)


class TransactionOnWrite:
    """The pooled connection of a unit of work that begins its transaction only before its first write.

    For reads that write only sometimes (a FHIR read writes the access log when someone other than the
    patient reads): until a statement that writes or locks is about to be sent, every statement runs on its
    own, as in a read-only unit of work (under READ COMMITTED each statement of a transaction takes its own
    snapshot anyway); that statement is preceded by ``BEGIN``, and everything from it on is one transaction
    that ``PgUnitOfWork.commit`` commits. A patient reading their own record makes no BEGIN/COMMIT round
    trips; a reader who is logged gets the log row and its notification atomically, as before.
    """

    def __init__(self, conn: asyncpg.pool.PoolConnectionProxy[Any]) -> None:
        self._conn = conn
        self.begun = False

    async def _before(self, query: str) -> None:
        if not self.begun and writes(query):
            await self._conn.execute("BEGIN")
            self.begun = True

    async def fetch(self, query: str, *args: Any, **kw: Any) -> list[Any]:
        await self._before(query)
        return list(await self._conn.fetch(query, *args, **kw))

    async def fetchrow(self, query: str, *args: Any, **kw: Any) -> Any:
        await self._before(query)
        return await self._conn.fetchrow(query, *args, **kw)

    async def fetchval(self, query: str, *args: Any, **kw: Any) -> Any:
        await self._before(query)
        return await self._conn.fetchval(query, *args, **kw)

    async def execute(self, query: str, *args: Any, **kw: Any) -> Any:
        await self._before(query)
        return await self._conn.execute(query, *args, **kw)

    async def executemany(self, query: str, args: Any, **kw: Any) -> Any:
        await self._before(query)
        return await self._conn.executemany(query, args, **kw)


class PgUnitOfWork:
    """``read_only=True``: no BEGIN/COMMIT (two round trips saved); every query runs on its own.

    Only for handlers whose queries are independent single reads (a statement sees one consistent
    snapshot by itself); ``conn`` is then a ``ReadOnlyConnection`` that refuses writes.

    ``autocommit=True``: no BEGIN/COMMIT either, and writes allowed: each statement commits on its
    own and nothing can be rolled back. Only for work whose change is a single statement (there is
    nothing for it to be atomic with), decided by the use case (e.g. ``ValidateOnline.needs_transaction``).

    ``begin_check`` (transactional only): a statement sent with BEGIN in the same round trip, expected to
    find exactly one row; ``confirmed`` says whether it did. The caller's session check rides here
    (api.identity.auth), so a transactional request makes no round trip of its own for it.

    ``on_write=True``: no BEGIN until a statement that writes is about to be sent (``TransactionOnWrite``);
    ``commit`` sends COMMIT only if a transaction was begun, and ``wrote`` says whether one was. A
    ``begin_check`` is sent alone as the unit of work's first statement (no BEGIN to ride with).

    ``replica`` (read-only only): the pool of a streaming replica chosen by ``router`` for this unit of
    work. If the replica cannot be reached or fails a statement (connection lost, recovery conflict),
    the unit of work moves to the primary (``pool``) and re-runs the statement; ``served_by`` says
    where it ended up.
    """

    def __init__(self, pool: asyncpg.Pool[Any], *, read_only: bool = False, autocommit: bool = False,
                 replica: asyncpg.Pool[Any] | None = None, router: ReadRouter | None = None,
                 begin_check: str | None = None, on_write: bool = False) -> None:
        self._pool = pool
        self._on_write = on_write and not read_only and not autocommit
        self._begin_check = None if read_only or autocommit else begin_check
        self._manual = False
        # Whether ``begin_check`` found its row (True when there is no check).
        self.confirmed = True
        self._read_only = read_only
        self._autocommit = autocommit
        self._replica = replica if read_only else None
        self._router = router
        self._from: asyncpg.Pool[Any] = pool
        self.served_by = "primary"
        self._conn: asyncpg.pool.PoolConnectionProxy[Any] | None = None
        self._view: Any = None
        self._tx: Transaction | None = None
        self._done = False

    @property
    def conn(self) -> Any:
        if self._view is None:
            raise RuntimeError("unit of work not started")
        return self._view

    async def __aenter__(self) -> PgUnitOfWork:
        if self._replica is not None:
            try:
                self._conn = await self._replica.acquire(timeout=ACQUIRE_TIMEOUT_S)
            except REPLICA_GONE as exc:
                await self._replica_failed(exc)
            else:
                self._from, self.served_by = self._replica, "replica"
                self._view = ReadOnlyConnection(self._conn, self._to_primary)
                return self
        self._conn = await self._pool.acquire(timeout=ACQUIRE_TIMEOUT_S)
        if self._read_only:
            self._view = ReadOnlyConnection(self._conn)
            return self
        if self._on_write:
            self._view = TransactionOnWrite(self._conn)
            if self._begin_check is not None:  # the check alone, in the unit of work's first round trip
                try:
                    self.confirmed = await self._conn.execute(self._begin_check) == "SELECT 1"
                except BaseException:
                    await self._pool.release(self._conn)
                    self._conn = self._view = None
                    raise
            return self
        self._view = self._conn
        if self._autocommit:
            return self
        try:
            if self._begin_check is None:
                self._tx = self._conn.transaction()
                await self._tx.start()
            else:
                # BEGIN and the check in one round trip: the simple-query protocol runs both, and the status
                # tag of the last statement counts its rows ("SELECT 1" or "SELECT 0").
                self._manual = True
                self.confirmed = await self._conn.execute("BEGIN; " + self._begin_check) == "SELECT 1"
        except BaseException:
            if self._manual:
                with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                    await self._conn.execute("ROLLBACK")
            await self._pool.release(self._conn)
            self._conn = self._view = None
            raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        try:
            if not self._done:
                await self.rollback()
        finally:
            if self._conn is not None:
                self._view = None
                await self._from.release(self._conn)
                self._conn = None

    async def _replica_failed(self, exc: BaseException) -> None:
        if self._router is not None and isinstance(exc, REPLICA_GONE):
            await self._router.replica_failed(exc)
        self.served_by = "primary_after_replica_failed"

    async def _to_primary(self, exc: BaseException) -> asyncpg.pool.PoolConnectionProxy[Any]:
        await self._replica_failed(exc)
        assert self._conn is not None
        # A broken connection is discarded by its pool on release; a healthy one goes back.
        with contextlib.suppress(Exception):
            await self._from.release(self._conn)
        self._conn = None
        self._from = self._pool
        self._conn = await self._pool.acquire(timeout=ACQUIRE_TIMEOUT_S)
        return self._conn

    @property
    def wrote(self) -> bool:
        """Whether this unit of work opened a transaction that may have written (always, unless read-only or
        ``on_write`` without a write)."""
        if self._read_only:
            return False
        return self._begun_on_write() if self._on_write else True

    def _begun_on_write(self) -> bool:
        return self._on_write and isinstance(self._view, TransactionOnWrite) and self._view.begun

    async def commit(self) -> None:
        """Commit; a no-op after ``rollback()`` (a handler that discarded its change on purpose)."""
        if self._done:
            return
        self._done = True
        if self._tx is not None:
            await self._tx.commit()
        elif self._manual or self._begun_on_write():
            await self._conn.execute("COMMIT")  # type: ignore[union-attr]

    async def rollback(self) -> None:
        if (self._tx is not None or self._manual or self._begun_on_write()) and not self._done:
            self._done = True
            # A broken connection (database restarted) cannot roll back; the pool discards it on release.
            with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                if self._tx is not None:
                    await self._tx.rollback()
                else:
                    await self._conn.execute("ROLLBACK")  # type: ignore[union-attr]
