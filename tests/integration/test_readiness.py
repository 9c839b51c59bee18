"""PostgreSQL stops and starts under a running app: 503 with Retry-After quickly, then recovery.

The test owns its own embedded PostgreSQL (even when TEST_DATABASE_URL names a shared server) so
that it can stop and restart it without disturbing anything else.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Controller, get

from adapters.postgres import uow as uow_module
from adapters.postgres.embedded import EmbeddedPostgres
from api.platform.app import create_app
from api.platform.deps import UnitOfWork
from api.platform.settings import Settings, load_settings
from tests.support.database import prepare
from tests.support.live import serve

pytestmark = pytest.mark.slow


class ProbeDbController(Controller):
    path = "/probe/db"

    @get("")
    async def count_units(self, uow: UnitOfWork) -> dict[str, Any]:
        return {"units": await uow.conn.fetchval("SELECT count(*) FROM units")}

    @get("/slow")
    async def slow(self, uow: UnitOfWork) -> dict[str, Any]:
        await uow.conn.execute("SET LOCAL statement_timeout = 100")
        await uow.conn.execute("SELECT pg_sleep(2)")
        return {"finished": True}

    @get("/hold")
    async def hold(self, uow: UnitOfWork) -> dict[str, Any]:
        await uow.conn.execute("SELECT pg_sleep(2)")
        return {"held": True}


@pytest.fixture
def embedded() -> Iterator[EmbeddedPostgres]:
    # Outside pytest's basetemp, like the session database (see tests/conftest.py).
    with tempfile.TemporaryDirectory(prefix="thudo-ready-pg-") as tmp:
        pg = EmbeddedPostgres(Path(tmp))
        pg.start()
        try:
            yield pg
        finally:
            pg.stop()


def wait_for(http: httpx.Client, path: str, status: int, limit_s: float) -> float:
    """Seconds until ``path`` answers ``status`` (polling every 100 ms); fails after ``limit_s``."""
    start = time.monotonic()
    while True:
        try:
            if http.get(path).status_code == status:
                return time.monotonic() - start
        except httpx.TransportError:
            pass
        if time.monotonic() - start > limit_s:
            pytest.fail(f"{path} did not answer {status} within {limit_s} s")
        time.sleep(0.1)


def test_database_outage_gives_503_and_recovers_without_restart(embedded: EmbeddedPostgres, tmp_path: Path) -> None:
    url = embedded.start()  # idempotent: returns the running server's URL
    asyncio.run(prepare(url))
    settings = load_settings({}, database_url=url, environment="test", data_dir=tmp_path / "app",
                             standins=True, run_worker=False, seed_demo=False, log_level="WARNING")
    app = create_app(settings)
    app.register(ProbeDbController)
    with serve(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        assert http.get("/health/ready").status_code == 200
        assert http.get("/probe/db").json()["units"] > 30

        embedded.stop()
        started = time.monotonic()
        ready = http.get("/health/ready")
        took = time.monotonic() - started
        print(f"\n/health/ready while the database is down: {ready.status_code} in {took * 1000:.0f} ms")
        assert ready.status_code == 503
        assert took < 5
        assert int(ready.headers["retry-after"]) > 0

        started = time.monotonic()
        down = http.get("/probe/db", headers={"Accept-Language": "en"})
        took = time.monotonic() - started
        print(f"DB-using request while the database is down: {down.status_code} in {took * 1000:.0f} ms")
        assert down.status_code == 503
        assert took < 5
        assert down.headers["content-type"].startswith("application/problem+json")
        assert down.json()["code"] == "unavailable"
        assert int(down.headers["retry-after"]) > 0
        assert "Traceback" not in down.text
        assert "asyncpg" not in down.text

        embedded.start()
        recovered = wait_for(http, "/health/ready", 200, limit_s=5)
        print(f"ready again {recovered * 1000:.0f} ms after PostgreSQL started")
        assert http.get("/probe/db").json()["units"] > 30


def test_exhausted_pool_answers_503_instead_of_hanging(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uow_module, "ACQUIRE_TIMEOUT_S", 0.5)
    app = create_app(replace(settings, db_pool_max=1))
    app.register(ProbeDbController)
    with serve(app) as base, httpx.Client(base_url=base, timeout=10) as http, ThreadPoolExecutor(1) as pool:
        holder = pool.submit(http.get, "/probe/db/hold")
        time.sleep(0.5)  # the single pooled connection is now busy for two seconds
        started = time.monotonic()
        waiting = http.get("/probe/db")
        took = time.monotonic() - started
        assert waiting.status_code == 503
        assert waiting.json()["code"] == "unavailable"
        assert int(waiting.headers["retry-after"]) > 0
        assert took < 1.5
        assert holder.result().json() == {"held": True}
        assert http.get("/probe/db").status_code == 200


def test_statement_timeout_is_503_not_500(settings: Settings) -> None:
    app = create_app(settings)
    app.register(ProbeDbController)
    with serve(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        r = http.get("/probe/db/slow")
        assert r.status_code == 503
        assert r.json()["code"] == "unavailable"
        assert "retry-after" in r.headers
        assert http.get("/probe/db").status_code == 200
