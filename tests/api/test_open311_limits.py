"""Open311 rate limits (per client IP without a key, per partner key with one), on an app of
their own with a low budget; the answer is a 429 in Open311's error format with Retry-After."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from api.platform.app import create_app
from api.platform.settings import Settings
from tests.support.live import free_port, serve
from tests.support.open311 import O311, issue_key, open311_errors, post_request


@pytest.fixture
def limited(settings: Settings) -> Iterator[httpx.Client]:
    port = free_port()
    low = replace(settings, port=port, open311_requests_per_minute=3)
    with serve(create_app(low), port) as base, httpx.Client(base_url=base, timeout=15) as client:
        yield client


def test_anonymous_reads_are_limited_per_ip(limited: httpx.Client) -> None:
    codes = [limited.get(f"{O311}/requests.json").status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    errors = open311_errors(limited.get(f"{O311}/services.xml"), 429)
    assert errors[0]["description"]
    r = limited.get(f"{O311}/requests.json")
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 60


def test_a_partner_key_has_its_own_budget(limited: httpx.Client, http: httpx.Client, database_url: str) -> None:
    key = issue_key(http, database_url)
    for _ in range(3):
        assert limited.get(f"{O311}/requests.json", params={"api_key": key.api_key}).status_code == 200
    open311_errors(post_request(limited, key), 429)
    other = issue_key(http, database_url, "Other")
    assert post_request(limited, other).status_code == 200
