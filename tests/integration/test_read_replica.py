"""Read-only requests on a real streaming replica, read-your-writes, and falling back to the primary.

One throw-away primary + hot standby (tests/support/replica.py) and one live app with
``DATABASE_READ_URL`` pointing at the standby. Which server answered is read from the app's
``thudo_db_reads_total{server, reason}`` counters; the standby is checked to really be a standby.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis
from prometheus_client import REGISTRY

from adapters.postgres.pool import create_pool
from adapters.postgres.scratch import fetchval_on
from adapters.postgres.uow import PgUnitOfWork, ReadOnlyViolation
from api.platform.app import create_app
from api.platform.quota import Quota
from api.platform.settings import context_settings, load_settings
from tests.support.auth import Session, login
from tests.support.database import prepare
from tests.support.live import free_port, serve
from tests.support.replica import Cluster, primary_and_standby

MAX_LAG_S = 6.0


@contextmanager
def _redis() -> Iterator[str]:
    """Redis for the shared read-your-writes marks, as in production: the machine's, else a throw-away
    ``redis-server`` on a free port; "" (marks in-process, one app only) when there is neither."""
    try:
        redis.Redis(socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pass
    else:
        yield "redis://127.0.0.1:6379/15"
        return
    binary = shutil.which("redis-server")
    if binary is None:
        yield ""
        return
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
    )
    try:
        _wait(lambda: _answers(port), "redis-server answers")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _answers(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_connect_timeout=0.2).ping())
    except redis.RedisError:
        return False


@dataclass
class Setup:
    cluster: Cluster
    app: Any
    http: httpx.Client
    # A second API process's app on the same databases and Redis (None without Redis).
    other_http: httpx.Client | None

    @property
    def router(self) -> Any:
        return self.app.state.container.reads


def _sql(url: str, query: str) -> Any:
    async def go() -> Any:
        conn = await asyncpg.connect(url, timeout=5)
        try:
            return await conn.fetchval(query)
        finally:
            await conn.close()

    return asyncio.run(go())


def _wait(condition: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    with primary_and_standby() as cluster, _redis() as redis_url:
        asyncio.run(prepare(cluster.primary.url))
        port, other_port = free_port(), free_port()
        settings = load_settings(
            {},
            port=port,
            # Both apps issue and accept tokens as the first one (its stand-ins log citizens in).
            public_base_url=f"http://127.0.0.1:{port}",
            database_url=cluster.primary.url,
            database_read_url=cluster.standby.url,
            database_read_max_lag_seconds=MAX_LAG_S,
            redis_url=redis_url,
            environment="test",
            data_dir=Path(tmp_path_factory.mktemp("data")),
            standins=True,
            run_worker=False,
            seed_demo=False,
            log_level="WARNING",
            rate_limit_ip_per_minute=1_000_000,
            rate_limit_account_per_minute=1_000_000,
            extra={name: Quota(()) for name, spec in context_settings().items() if spec.parse == Quota.parse},
        )
        app = create_app(settings)
        with ExitStack() as stack:
            url = stack.enter_context(serve(app, port))
            http = stack.enter_context(httpx.Client(base_url=url, timeout=15))
            other_http = None
            if redis_url:
                other_url = stack.enter_context(serve(create_app(settings), other_port))
                other_http = stack.enter_context(httpx.Client(base_url=other_url, timeout=15))
            yield Setup(cluster, app, http, other_http)


def _reads() -> dict[tuple[str, str], float]:
    counts: dict[tuple[str, str], float] = {}
    for metric in REGISTRY.collect():
        if metric.name == "thudo_db_reads":
            for sample in metric.samples:
                if sample.name == "thudo_db_reads_total":
                    counts[(sample.labels["server"], sample.labels["reason"])] = sample.value
    return counts


def _me(s: Setup, who: Session, http: httpx.Client | None = None) -> tuple[dict[str, Any], tuple[str, str]]:
    """GET /me (a read-only handler) and which (server, reason) answered it."""
    before = _reads()
    r = (http or s.http).get("/api/v1/me", headers=who.headers)
    assert r.status_code == 200, r.text
    changed = [k for k, v in _reads().items() if v != before.get(k, 0)]
    assert len(changed) == 1, changed
    return r.json(), changed[0]


def _caught_up(s: Setup) -> None:
    primary = _sql(s.cluster.primary.url, "SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint")
    _wait(
        lambda: s.router.up and s.router.replayed >= primary and s.router.lag_s() < MAX_LAG_S,
        "the replica has replayed everything",
    )


def test_reads_go_to_the_standby_and_a_writer_reads_its_write_while_replay_is_paused(setup: Setup) -> None:
    s = setup
    assert _sql(s.cluster.standby.url, "SELECT pg_is_in_recovery()") is True
    writer, other = login(s.http), login(s.http)
    # Just logged in: the new account is the caller's own write, so /me must find it even before replay.
    _caught_up(s)
    assert _me(s, writer)[1] == ("replica", "replica")
    assert _me(s, other)[1] == ("replica", "replica")

    _sql(s.cluster.standby.url, "SELECT pg_wal_replay_pause()")
    try:
        # A first login creates the account: the newcomer's /me finds it although the standby lacks it.
        newcomer = login(s.http)
        assert _sql(s.cluster.standby.url, f"SELECT count(*) FROM users WHERE id = '{newcomer.user_id}'") == 0
        body, route = _me(s, newcomer)
        assert (body["id"], route) == (str(newcomer.user_id), ("primary", "caller_wrote"))
        r = s.http.patch("/api/v1/me", headers=writer.headers, json={"locale": "en"})
        assert r.status_code == 200, r.text
        # The standby really is behind: the write is not there yet.
        assert _sql(s.cluster.standby.url, f"SELECT locale FROM users WHERE id = '{writer.user_id}'") == "vi"
        body, route = _me(s, writer)
        assert (body["locale"], route) == ("en", ("primary", "caller_wrote"))
        if s.other_http is not None:  # another API process knows of the write through Redis
            body, route = _me(s, writer, s.other_http)
            assert (body["locale"], route) == ("en", ("primary", "caller_wrote"))
            assert _me(s, other, s.other_http)[1] == ("replica", "replica")
        assert _me(s, other)[1] == ("replica", "replica")  # everyone else still reads the standby

        # Paused replay makes the lag grow past the bound: then nobody reads the standby.
        _wait(lambda: s.router.lag_s() > MAX_LAG_S, "the lag exceeds the bound", timeout_s=MAX_LAG_S + 5)
        assert _me(s, other)[1] == ("primary", "replica_lagging")
    finally:
        _sql(s.cluster.standby.url, "SELECT pg_wal_replay_resume()")
    _caught_up(s)
    body, route = _me(s, writer)
    assert (body["locale"], route) == ("en", ("replica", "replica"))  # replayed: back on the standby


def test_a_stopped_standby_sends_reads_to_the_primary_without_errors_and_is_used_again_after(setup: Setup) -> None:
    s = setup
    who = login(s.http)
    _caught_up(s)
    assert _me(s, who)[1] == ("replica", "replica")
    s.cluster.standby.stop("fast")
    try:
        # Before the poller notices, a request meets the dead pooled connection and moves to the primary.
        servers = {_me(s, who)[1][0] for _ in range(5)}
        assert servers <= {"primary", "primary_after_replica_failed"}
        _wait(lambda: not s.router.up, "the circuit is open")
        assert _me(s, who)[1] == ("primary", "replica_down")
    finally:
        s.cluster.standby.start()
    _caught_up(s)
    assert _me(s, who)[1] == ("replica", "replica")


def test_the_unit_of_work_runs_on_the_standby_and_moves_a_failed_statement_to_the_primary(setup: Setup) -> None:
    """At the unit of work itself: which server a statement ran on, told by that server's pg_is_in_recovery()."""
    primary_url, standby_url = setup.cluster.primary.url, setup.cluster.standby.url

    async def go() -> None:
        primary = await create_pool(primary_url, min_size=1, max_size=2)
        replica = await create_pool(standby_url, min_size=1, max_size=1)
        nowhere = await create_pool(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres", min_size=0)
        try:
            async with PgUnitOfWork(primary, read_only=True, replica=replica) as uow:
                assert await uow.conn.fetchval("SELECT pg_is_in_recovery()") is True
                assert uow.served_by == "replica"

            # The standby ends the connection in the middle of a statement (as a restart would): the
            # statement is re-run on the primary, within the same unit of work, without an error.
            async def terminate_once_running() -> None:
                for _ in range(200):  # until the statement is running on the standby (a loaded machine is slow)
                    ended = await fetchval_on(
                        standby_url,
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE query LIKE '%FROM pg_sleep(2)%' AND pid <> pg_backend_pid()",
                    )
                    if ended:
                        return
                    await asyncio.sleep(0.02)
                raise AssertionError("the statement never ran on the standby")

            async with PgUnitOfWork(primary, read_only=True, replica=replica) as uow:
                killer = asyncio.ensure_future(terminate_once_running())
                assert await uow.conn.fetchval("SELECT pg_is_in_recovery() FROM pg_sleep(2)") is False
                await killer
                assert uow.served_by == "primary_after_replica_failed"
                with pytest.raises(ReadOnlyViolation):  # still the read-only view, on the primary too
                    await uow.conn.fetchval("DELETE FROM users")
            # A replica that refuses connections: the unit of work starts on the primary.
            async with PgUnitOfWork(primary, read_only=True, replica=nowhere) as uow:
                assert await uow.conn.fetchval("SELECT pg_is_in_recovery()") is False
                assert uow.served_by == "primary_after_replica_failed"
        finally:
            for pool in (primary, replica, nowhere):
                await pool.close()

    asyncio.run(go())
