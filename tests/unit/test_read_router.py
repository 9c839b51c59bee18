"""The read router's decisions from polled positions, a fake clock and fake marks (no database).

tests/integration/test_read_replica.py shows the same rules against a real primary and standby.
"""

from __future__ import annotations

from typing import Any

import pytest

from adapters.postgres.replica import ReadRouter
from adapters.postgres.write_marks import MemoryWriteMarks


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class BrokenMarks(MemoryWriteMarks):
    async def record(self, caller: str, lsn: int) -> None:
        raise ConnectionError("redis is down")

    async def get(self, caller: str) -> int | None:
        raise ConnectionError("redis is down")


class Conn:
    def __init__(self, lsn: int) -> None:
        self.lsn = lsn

    async def fetchval(self, query: str) -> int:
        assert "pg_current_wal_insert_lsn" in query
        return self.lsn


class Pool:
    """Stands for the replica's pool: route() only hands it out; a failure expires its connections."""

    expired = 0

    async def expire_connections(self) -> None:
        self.expired += 1


REPLICA: Any = Pool()


def _router(clock: Clock, marks: MemoryWriteMarks | None = None) -> ReadRouter:
    router = ReadRouter(
        "postgresql://u:secret@primary/thudo",
        "postgresql://u:secret@replica:5433/thudo",
        marks or MemoryWriteMarks(3.0),
        max_lag_s=2.0,
        pool_max=1,
        statement_timeout_ms=1000,
        clock=clock,
    )
    router.replica = REPLICA
    return router


async def test_no_reads_before_the_first_poll_answers() -> None:
    router = _router(Clock())
    assert await router.route("a") == (None, "replica_down")


async def test_a_caller_reads_the_primary_until_the_replica_replayed_their_write() -> None:
    clock = Clock()
    router = _router(clock)
    router.observe(replayed=100, position=100)
    assert await router.route("writer") == (REPLICA, "replica")
    await router.record_write("writer", await router.write_position(Conn(150)))
    assert await router.route("writer") == (None, "caller_wrote")
    assert await router.route("other") == (REPLICA, "replica")
    assert await router.route(None) == (REPLICA, "replica")
    clock.t += 0.15
    router.observe(replayed=150, position=160)
    assert await router.route("writer") == (REPLICA, "replica")


async def test_lag_is_the_age_of_the_oldest_primary_position_not_replayed() -> None:
    clock = Clock()
    router = _router(clock)
    router.observe(replayed=100, position=200)  # primary first seen at 200 now
    for _ in range(10):  # replay stuck at 150 while the primary moves on
        clock.t += 0.15
        router.observe(replayed=150, position=300)
    assert router.lag_s() == pytest.approx(1.5)
    assert await router.route("a") == (REPLICA, "replica")
    clock.t += 0.6
    router.observe(replayed=150, position=300)
    assert await router.route("a") == (None, "replica_lagging")
    clock.t += 0.15
    router.observe(replayed=300, position=300)  # caught up
    assert router.lag_s() == 0.0
    assert await router.route("a") == (REPLICA, "replica")


async def test_lag_grows_while_nothing_is_known() -> None:
    """Without fresh polls (primary or poller stuck) the lag keeps growing from the last good sample."""
    clock = Clock()
    router = _router(clock)
    router.observe(replayed=100, position=100)
    clock.t += 2.5
    router.observe(replayed=100, position=None)  # the primary did not answer
    assert await router.route("a") == (None, "replica_lagging")


async def test_lost_marks_send_every_reader_to_the_primary_until_they_would_have_expired(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    router = _router(clock, BrokenMarks(3.0))
    router.observe(replayed=100, position=100)
    assert await router.route("a") == (None, "marks_unavailable")
    assert await router.route(None) == (REPLICA, "replica")  # nobody to have written
    await router.record_write("a", 150)  # committed, but its mark is lost
    router._marks = MemoryWriteMarks(3.0)  # the store is back
    assert await router.route("b") == (None, "marks_unavailable")
    clock.t += ReadRouter.mark_ttl_s(2.0) + 0.01
    router.observe(replayed=100, position=100)
    assert await router.route("b") == (REPLICA, "replica")
    assert "secret" not in caplog.text


async def test_a_failed_replica_opens_the_circuit_until_a_poll_answers(caplog: pytest.LogCaptureFixture) -> None:
    router = _router(Clock())
    router.observe(replayed=100, position=100)
    expired = REPLICA.expired
    await router.replica_failed(ConnectionRefusedError())
    assert not router.up
    assert REPLICA.expired == expired + 1  # idle connections to a restarted replica are dead too
    assert await router.route("a") == (None, "replica_down")
    assert "replica:5433/thudo" in caplog.text
    assert "secret" not in caplog.text
    router.observe(replayed=120, position=120)  # the poller's next answer closes the circuit
    assert await router.route("a") == (REPLICA, "replica")


async def test_a_commit_whose_position_could_not_be_read_sends_every_reader_to_the_primary() -> None:
    class Broken:
        async def fetchval(self, query: str) -> int:
            raise ConnectionResetError("primary connection lost after COMMIT")

    clock = Clock()
    router = _router(clock)
    router.observe(replayed=100, position=100)
    await router.record_write("writer", await router.write_position(Broken()))
    assert await router.route("someone") == (None, "marks_unavailable")
    await router.record_write(None, None)  # no caller (nobody to read their write): nothing changes
    clock.t += ReadRouter.mark_ttl_s(2.0) + 0.01
    router.observe(replayed=100, position=100)
    assert await router.route("someone") == (REPLICA, "replica")
