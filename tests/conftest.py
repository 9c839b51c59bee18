"""Shared fixtures: one migrated database per run, a live app over HTTP, isolation per test."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.platform.access_log import ACCESS_LOG
from api.platform.app import create_app
from api.platform.quota import Quota
from api.platform.settings import Settings, context_settings, load_settings
from tests.support.database import fresh_database, server_url, truncate_all
from tests.support.live import free_port, serve


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    # Not under pytest's basetemp: every new pytest run chmods /tmp/pytest-of-<user> to 0700, which
    # locks out the embedded server's own OS user (pgserver runs PostgreSQL as "pgserver" under root).
    with tempfile.TemporaryDirectory(prefix="thudo-test-pg-") as tmp, server_url(Path(tmp)) as server, \
            fresh_database(server) as url:
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    port = free_port()
    return load_settings({}, database_url=database_url, environment="test", port=port,
                         data_dir=Path(tmp_path_factory.mktemp("data")), standins=True, run_worker=False,
                         seed_demo=False, log_level="WARNING", cors_origins=("https://app.thudo.example",),
                         # Every API test logs in from 127.0.0.1; the limits get their own app in
                         # tests/api/test_auth_rate_limits.py.
                         rate_limit_ip_per_minute=1_000_000, rate_limit_account_per_minute=1_000_000,
                         # Likewise the creation quotas (tests/api/test_quotas.py has its own app).
                         extra={name: Quota(()) for name, spec in context_settings().items()
                                if spec.parse == Quota.parse})


@pytest.fixture(scope="session")
def base_url(settings: Settings) -> Iterator[str]:
    with serve(create_app(settings), settings.port) as url:
        yield url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=15) as client:
        yield client


@pytest.fixture
def clean_db(database_url: str) -> Iterator[str]:
    """Empties every non-reference table before and after the test (integration and API tests use it):
    before too, because API tests share the live app's database and do not clean up after themselves."""
    asyncio.run(truncate_all(database_url))
    yield database_url
    asyncio.run(truncate_all(database_url))


@pytest.fixture
def access_log(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    """The access lines the live server writes from now on (decoded), instead of stderr."""
    lines: list[dict[str, object]] = []
    monkeypatch.setattr(ACCESS_LOG, "sink", lambda data: lines.extend(json.loads(x) for x in data.splitlines()))
    return lines
