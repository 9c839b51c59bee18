"""Read routing to a PostgreSQL streaming replica, with read-your-writes per caller.

``ReadRouter.route(caller)`` answers which pool a read-only unit of work should use: the replica's,
or None for the primary, and why. The replica serves a read when

* it answered the last poll as a hot standby (a connection error, in a poll or a request, opens the
  circuit: reads go to the primary and polls retry with backoff until it answers again);
* its lag is within ``max_lag_s``: a background task samples the primary's WAL position and the
  replica's replayed position every ``POLL_INTERVAL_S``; the lag is how long ago the primary was
  first seen at the oldest position the replica has not replayed yet (so it grows while replay is
  paused or the replica is cut off, even if the replica itself looks healthy);
* the caller has no write the replica has not replayed: after a caller's commit, ``record_write``
  stores the primary's WAL position under the caller (``WriteMarks``), and until the polled replay
  position passes it, that caller's reads stay on the primary.

Nothing here is per-request I/O except the mark lookup (Redis or a dict): positions are polled in
the background, never fetched for a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from adapters.postgres.pool import CONNECT_TIMEOUT_S, create_pool
from adapters.postgres.write_marks import WriteMarks

log = logging.getLogger("thudo.db.replica")

POLL_INTERVAL_S = 0.15
BACKOFF_MAX_S = 5.0
# Marks outlive the lag bound by more than a poll interval: once a mark expires, a replica that still
# had not replayed it would show a lag above the bound and get no reads (see ``_lag``).
MARK_MARGIN_S = 1.0

# The insert position, not pg_current_wal_lsn() (the write position): it is at or past the end of our
# commit record even with synchronous_commit=off, where the commit may not be written out yet.
_PRIMARY_LSN = "SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint"
_REPLICA_LSN = "SELECT pg_is_in_recovery(), (pg_last_wal_replay_lsn() - '0/0')::bigint"

# The replica is gone or going: connection lost or refused, server shutting down or still starting.
REPLICA_GONE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)
# A hot standby cancels a query that conflicts with replaying the primary's changes (SQLSTATE 40001,
# 40P01): the same read on the primary succeeds, and the replica itself is fine.
RECOVERY_CONFLICT: tuple[type[BaseException], ...] = (asyncpg.SerializationError, asyncpg.DeadlockDetectedError)


def describe(dsn: str) -> str:
    """host:port/database of a DSN, for logs (never the user or password)."""
    parts = urlsplit(dsn)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or '/'}"


class PollConnection:
    """One connection of the poller, opened on first use and again after any failure."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn: asyncpg.Connection[Any] | None = None

    async def fetchrow(self, query: str) -> Any:
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                if self._conn is None or self._conn.is_closed():
                    self._conn = await asyncpg.connect(self._dsn, server_settings={"application_name": "thudo-poll"})
                return await self._conn.fetchrow(query)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()  # no goodbye round trip to a server that may be gone


class ReadRouter:
    def __init__(
        self,
        primary_dsn: str,
        replica_dsn: str,
        marks: WriteMarks,
        *,
        max_lag_s: float,
        pool_max: int,
        statement_timeout_ms: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.replica: asyncpg.Pool[Any] | None = None
        # The poller's own connections: never queued behind requests for a pooled one (an overloaded
        # primary pool would otherwise stall the samples and look like lag).
        self._primary_poll = PollConnection(primary_dsn)
        self._replica_poll = PollConnection(replica_dsn)
        self._dsn = replica_dsn
        self._marks = marks
        self.max_lag_s = max_lag_s
        self._pool_max = pool_max
        self._statement_timeout_ms = statement_timeout_ms
        self._clock = clock
        self.up = False
        self.replayed = -1  # the replica's replay position at the last poll
        self._fresh_at = float("-inf")  # when the replica was last seen caught up with a primary sample
        self._samples: deque[tuple[float, int]] = deque()  # (first seen, primary position), growing
        self._marks_lost_until = float("-inf")
        self._backoff = POLL_INTERVAL_S
        self._lagging = False
        self._task: asyncio.Task[None] | None = None

    @staticmethod
    def mark_ttl_s(max_lag_s: float) -> float:
        return max_lag_s + MARK_MARGIN_S

    async def start(self) -> None:
        # min_size=0: no connection at start, so a replica that is down does not stop the API starting.
        self.replica = await create_pool(
            self._dsn, min_size=0, max_size=self._pool_max, statement_timeout_ms=self._statement_timeout_ms
        )
        self._task = asyncio.get_running_loop().create_task(self._poll_forever(), name="replica-poll")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.replica is not None:
            await self.replica.close()
        await self._primary_poll.close()
        await self._replica_poll.close()
        await self._marks.close()

    def lag_s(self) -> float:
        """Seconds since the primary was first seen at a position the replica lacks (inf: unknown)."""
        oldest = self._samples[0][0] if self._samples else self._fresh_at
        return max(0.0, self._clock() - oldest)

    async def route(self, caller: str | None) -> tuple[asyncpg.Pool[Any] | None, str]:
        """The pool for a read-only unit of work (None: the primary) and the reason, a metric label."""
        if not self.up or self.replica is None:
            return None, "replica_down"
        if self.lag_s() > self.max_lag_s:
            return None, "replica_lagging"
        if caller is not None:
            if self._clock() < self._marks_lost_until:
                return None, "marks_unavailable"
            try:
                mark = await self._marks.get(caller)
            except Exception:  # the mark store is down: the caller may have written, so be safe
                log.warning("read-your-writes marks unavailable; reads go to the primary", exc_info=True)
                return None, "marks_unavailable"
            if mark is not None and mark > self.replayed:
                return None, "caller_wrote"
        return self.replica, "replica"

    async def write_position(self, conn: Any) -> int | None:
        """The primary's WAL position on ``conn`` right after its commit (None: could not be read)."""
        try:
            return int(await conn.fetchval(_PRIMARY_LSN))
        except Exception:
            log.warning("could not read the WAL position after a commit", exc_info=True)
            return None

    async def record_write(self, caller: str | None, position: int | None) -> None:
        """The caller's reads stay on the primary until the replica has replayed ``position``.

        ``position`` None (it could not be read) or a mark that cannot be stored: the write is committed
        and its response due, so instead nobody reads from the replica until every mark made before
        could have expired.
        """
        if caller is None:
            return
        if position is not None:
            try:
                await self._marks.record(caller, position)
                return
            except Exception:
                log.warning("could not store a read-your-writes mark", exc_info=True)
        self._marks_lost_until = self._clock() + self.mark_ttl_s(self.max_lag_s)
        log.warning("reads go to the primary for %.1f s (a write's mark is missing)", self.mark_ttl_s(self.max_lag_s))

    async def replica_failed(self, exc: BaseException) -> None:
        """A request met a dead replica: open the circuit (the poller closes it once the replica answers)."""
        if self.up:
            self.up = False
            log.warning("read replica %s failed (%s); reads go to the primary", describe(self._dsn), type(exc).__name__)
        if self.replica is not None:
            # Idle connections to a restarted replica are dead too: replace them instead of failing on each.
            await self.replica.expire_connections()

    async def _poll_forever(self) -> None:
        while True:
            try:
                await self.poll()
            except Exception as exc:
                await self.replica_failed(exc)
                self._backoff = min(self._backoff * 2, BACKOFF_MAX_S)
            else:
                self._backoff = POLL_INTERVAL_S
            await asyncio.sleep(self._backoff)

    async def poll(self) -> None:
        """One sample: the replica's replay position, then the primary's position (one query each)."""
        in_recovery, replayed = await self._replica_poll.fetchrow(_REPLICA_LSN)
        if not in_recovery or replayed is None:
            # Promoted (after a failover) or not a standby at all: its data may have forked from the primary's.
            if self.up:
                log.warning("read replica %s is not a standby; reads go to the primary", describe(self._dsn))
            self.up = False
            return
        position: int | None = None
        try:
            position = (await self._primary_poll.fetchrow(_PRIMARY_LSN))[0]
        except Exception:
            # Not the replica's fault; without fresh samples its lag grows until the primary answers again.
            log.debug("could not sample the primary's WAL position", exc_info=True)
        self.observe(replayed, position)

    def observe(self, replayed: int, position: int | None) -> None:
        """Book one poll: the replica replayed to ``replayed``; the primary is at ``position`` (None: unknown)."""
        self.replayed = replayed
        while self._samples and self._samples[0][1] <= replayed:
            self._samples.popleft()
        if position is not None:
            now = self._clock()
            if position > replayed and (not self._samples or position > self._samples[-1][1]):
                self._samples.append((now, position))
            elif not self._samples:
                self._fresh_at = now
        if not self.up:
            log.info("read replica %s serves reads (replayed to %X)", describe(self._dsn), replayed)
            self.up = True
        lagging = self.lag_s() > self.max_lag_s
        if lagging != self._lagging:
            self._lagging = lagging
            log.warning(
                "read replica %s %s",
                describe(self._dsn),
                f"lags more than {self.max_lag_s:g} s; reads go to the primary"
                if lagging
                else "is within the lag bound again",
            )
