"""Rate limits on login and refresh, on an app of their own with low limits.

Runs once with the in-process store and once with Redis (127.0.0.1:6379, skipped if absent).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import redis

from api.platform.app import create_app
from api.platform.settings import Settings
from tests.support.auth import login
from tests.support.live import free_port, serve

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_available() -> bool:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False
    return True


@pytest.fixture(params=["memory", "redis"])
def limited(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> Iterator[httpx.Client]:
    if request.param == "redis":
        if not _redis_available():
            pytest.skip("no Redis on 127.0.0.1:6379")
        url = REDIS_URL
    else:
        url = ""
    port = free_port()
    # Same database and keys as the shared app; only the limits and the store differ. Redis db 15
    # is flushed so counters from an earlier run cannot leak in.
    if url:
        redis.Redis.from_url(url).flushdb()
    low = replace(settings, port=port, redis_url=url, rate_limit_ip_per_minute=3, rate_limit_account_per_minute=2)
    with serve(create_app(low), port) as base, httpx.Client(base_url=base, timeout=15) as client:
        yield client


def test_start_is_limited_per_ip_with_retry_after(limited: httpx.Client) -> None:
    codes = [limited.post("/api/v1/auth/vneid/start", json={}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = limited.post("/api/v1/auth/vneid/start", json={})
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "rate_limited"


def test_refresh_is_limited_per_ip(limited: httpx.Client) -> None:
    codes = [limited.post("/api/v1/auth/refresh", json={"refresh_token": secrets.token_urlsafe(32)}).status_code
             for _ in range(4)]
    assert codes == [401, 401, 401, 429]


def test_refresh_is_limited_per_session(limited: httpx.Client) -> None:
    # Three refreshes stay within the per-IP limit (3); the session's own limit (2) stops the third.
    session = login(limited)
    token = session.refresh_token
    statuses = []
    for _ in range(3):
        r = limited.post("/api/v1/auth/refresh", json={"refresh_token": token})
        statuses.append(r.status_code)
        if r.status_code == 200:
            token = r.json()["refresh_token"]
    assert statuses == [200, 200, 429]
