"""Per-account creation quotas (README "Configuration", docs/api-guide.md "Quotas").

On an app of its own with tiny quotas, once with the in-process store and once with Redis
(127.0.0.1:6379). Counters are keyed by account and partner-key ids, which are new in every run,
so concurrent runs sharing the Redis database cannot see each other's counts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from api.platform.app import create_app
from api.platform.quota import Quota
from api.platform.settings import Settings
from tests.support.auth import Session, login
from tests.support.feedback import R, jpeg_with_gps, report_body, sql, submit, upload
from tests.support.live import free_port, serve
from tests.support.open311 import issue_key, open311_errors, post_request

REDIS_URL = "redis://127.0.0.1:6379/13"
QUOTAS = {"feedback_quota_reports": "2/hour,5/day", "feedback_quota_photos": "2/hour",
          "feedback_quota_follows": "2/hour", "feedback_quota_ratings": "1/hour",
          "notifications_quota_devices": "2/hour", "open311_quota_requests": "2/day"}


@pytest.fixture(scope="module", params=["memory", "redis"])
def http(request: pytest.FixtureRequest, settings: Settings) -> Iterator[httpx.Client]:
    port = free_port()
    low = replace(settings, port=port, redis_url=REDIS_URL if request.param == "redis" else "",
                  extra={**settings.extra, **{k: Quota.parse(v) for k, v in QUOTAS.items()}})
    with serve(create_app(low), port) as base, httpx.Client(base_url=base, timeout=15) as client:
        yield client


def _assert_quota_exceeded(r: httpx.Response, window_s: int = 3600) -> None:
    assert r.status_code == 429, r.text
    assert 1 <= int(r.headers["retry-after"]) <= window_s
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "quota_exceeded"


def test_reports_quota_per_citizen_and_rejected_input_is_not_counted(http: httpx.Client) -> None:
    alice, bob = login(http), login(http)
    unknown = http.post(R, json=report_body(http, category_id=str(uuid.uuid4())), headers=alice.headers)
    assert 400 <= unknown.status_code < 500
    assert unknown.status_code != 429
    submit(http, alice)
    submit(http, alice)
    _assert_quota_exceeded(http.post(R, json=report_body(http), headers=alice.headers))
    submit(http, bob)  # another citizen is unaffected


def test_an_idempotent_replay_does_not_use_quota(http: httpx.Client) -> None:
    alice = login(http)
    headers = {**alice.headers, "Idempotency-Key": uuid.uuid4().hex}
    body = report_body(http)
    assert [http.post(R, json=body, headers=headers).status_code for _ in range(3)] == [201, 201, 201]
    submit(http, alice)  # the second of two


def test_photos_quota(http: httpx.Client) -> None:
    alice, bob = login(http), login(http)
    url = f"{R}/{submit(http, alice)['id']}/photos"
    for colour in ((200, 0, 0), (0, 200, 0)):
        assert upload(http, alice, url, jpeg_with_gps(colour)).status_code == 201
    _assert_quota_exceeded(upload(http, alice, url, jpeg_with_gps((0, 0, 200))))
    bobs = f"{R}/{submit(http, bob)['id']}/photos"
    assert upload(http, bob, bobs, jpeg_with_gps((0, 0, 200))).status_code == 201


def test_follows_quota(http: httpx.Client) -> None:
    reporter, alice, bob = login(http), login(http), login(http)
    rid = submit(http, reporter)["id"]
    follow = f"{R}/{rid}/follow"
    assert [http.post(follow, headers=alice.headers).status_code for _ in range(2)] == [200, 200]
    _assert_quota_exceeded(http.post(follow, headers=alice.headers))
    assert http.post(follow, headers=bob.headers).status_code == 200


def _handled_report(http: httpx.Client, database_url: str, who: Session) -> str:
    rid = str(submit(http, who)["id"])
    sql(database_url, "UPDATE feedback_reports SET status = 'handled', handled_at = now(), reply = 'Đã xử lý' "
                      "WHERE id = $1::uuid RETURNING id", rid)
    return rid


def test_ratings_quota(http: httpx.Client, database_url: str) -> None:
    alice, bob = login(http), login(http)
    first, second = _handled_report(http, database_url, alice), _handled_report(http, database_url, alice)
    bobs = _handled_report(http, database_url, bob)
    # Refused input (another citizen's report: 404) does not use the quota up.
    assert http.post(f"{R}/{bobs}/rating", json={"score": 1}, headers=alice.headers).status_code == 404
    assert http.post(f"{R}/{first}/rating", json={"score": 5}, headers=alice.headers).status_code == 201
    _assert_quota_exceeded(http.post(f"{R}/{second}/rating", json={"score": 4}, headers=alice.headers))
    assert http.post(f"{R}/{bobs}/rating", json={"score": 3}, headers=bob.headers).status_code == 201


def _device(http: httpx.Client, who: Session) -> httpx.Response:
    return http.post("/api/v1/me/devices", headers=who.headers,
                     json={"fcm_token": uuid.uuid4().hex * 3, "platform": "android", "app_version": "1.4.0"})


def test_device_registrations_quota(http: httpx.Client) -> None:
    alice, bob = login(http), login(http)
    assert [_device(http, alice).status_code for _ in range(2)] == [201, 201]
    _assert_quota_exceeded(_device(http, alice))
    assert _device(http, bob).status_code == 201


def test_open311_post_quota_per_key(http: httpx.Client, database_url: str) -> None:
    key, other = issue_key(http, database_url), issue_key(http, database_url, "Hà Nội Xanh")
    bad = post_request(http, key, service_code="NO_SUCH_SERVICE")
    assert 400 <= bad.status_code < 500
    assert bad.status_code != 429
    assert [post_request(http, key).status_code for _ in range(2)] == [200, 200]
    over = post_request(http, key)
    assert open311_errors(over, 429)
    assert 1 <= int(over.headers["retry-after"]) <= 86400
    assert post_request(http, other).status_code == 200


def test_quota_setting_format() -> None:
    assert Quota.parse("20/hour,100/day") == Quota(((20, 3600), (100, 86400)))
    assert Quota.parse("off") == Quota(())
    for bad in ("20", "0/hour", "20/week", "-1/day"):
        with pytest.raises(ValueError, match="N/minute"):
            Quota.parse(bad)
