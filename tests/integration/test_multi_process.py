"""Two ``thudo serve`` and two ``thudo worker`` processes against one PostgreSQL and one Redis (compose.yaml's
topology without containers): limits and quotas are shared, a revocation is seen by every server on the
next request, each push is delivered exactly once (also across an FCM outage), and periodic jobs run
once per period however many workers run them.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from domain.payments.model import EventType
from tests.support.auth import login, login_staff, refresh, unit_id
from tests.support.cluster import Cluster, cluster
from tests.support.database import truncate_all
from tests.support.fcm_recorder import Recorder, fcm_recorder
from tests.support.feedback import R, report_body
from tests.support.payments import notify
from tests.support.push import query, queue_messages
from tests.support.redis import redis_url
from tests.support.transit_api import buy, open_card

pytestmark = pytest.mark.slow

QUOTA = 3
ACCOUNT_LIMIT = 3
# An outage "for minutes", compressed: retries every 1-4 s, and a message gives up after 3 failed
# attempts of its own — fewer than an outage of several seconds costs.
WORKER_ENV = {"WORKER_BACKOFF_BASE_SECONDS": "1", "WORKER_BACKOFF_MAX_SECONDS": "2", "WORKER_MAX_ATTEMPTS": "3"}


@pytest.fixture(scope="module")
def fcm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorder]:
    with fcm_recorder(tmp_path_factory.mktemp("fcm")) as recorder:
        yield recorder


@pytest.fixture(scope="module")
def running(database_url: str, fcm: Recorder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    asyncio.run(truncate_all(database_url))
    env = {
        "FEEDBACK_QUOTA_REPORTS": f"{QUOTA}/hour",
        "RATE_LIMIT_ACCOUNT_PER_MINUTE": str(ACCOUNT_LIMIT),
        "RATE_LIMIT_IP_PER_MINUTE": "100000",
    }
    with (
        redis_url(12) as redis,
        cluster(
            database_url, redis, Path(tmp_path_factory.mktemp("data")), env=env, worker_env={**WORKER_ENV, **fcm.env()}
        ) as procs,
    ):
        yield procs
    asyncio.run(truncate_all(database_url))


PERIODS = "SELECT job, runs, period_s, extract(epoch FROM now() - first_run_at)::float8 AS age FROM worker_periods"
OUTBOX_STATES = """SELECT o.status, count(*) AS n FROM push_outbox o JOIN devices d ON d.id = o.device_id
                   WHERE o.kind = 'token' AND d.fcm_token LIKE $1 GROUP BY o.status"""


def _clients(running: Cluster) -> list[httpx.Client]:
    return [httpx.Client(base_url=url, timeout=15) for url in running.urls]


def test_periodic_jobs_run_once_per_period_with_two_workers(running: Cluster, database_url: str) -> None:
    rows = {r["job"]: r for r in query(database_url, PERIODS)}
    periodic = {
        "idempotency.purge",
        "notifications.purge",
        "feedback.deadline_escalation",
        "transit.deny_list_prune",
        "transit.expiry_reminders",
        "payments.reconcile",
        "payments.daily_report",
    }
    assert periodic <= rows.keys()
    # Two workers each try every job at start and after every period: one claim per period wins.
    assert {job: rows[job]["runs"] for job in periodic} == {
        job: 1 + int(rows[job]["age"] // rows[job]["period_s"]) for job in periodic
    }


def test_limits_and_quotas_are_shared_by_the_servers(running: Cluster) -> None:
    a, b = _clients(running)
    citizen = login(a)
    # The creation quota: reports alternate between the servers; the fourth is refused, whichever server.
    codes = [(a, b)[i % 2].post(R, json=report_body(a), headers=citizen.headers).status_code for i in range(QUOTA + 1)]
    assert codes == [201] * QUOTA + [429]
    assert a.post(R, json=report_body(a), headers=citizen.headers).status_code == 429
    # The per-session refresh limit: alternating servers, the fourth refresh is over the shared limit.
    token, statuses = citizen.refresh_token, []
    for i in range(ACCOUNT_LIMIT + 1):
        r = (a, b)[i % 2].post("/api/v1/auth/refresh", json={"refresh_token": token})
        statuses.append(r.status_code)
        if r.status_code == 200:
            token = r.json()["refresh_token"]
    assert statuses == [200] * ACCOUNT_LIMIT + [429]


def test_a_bank_notification_delivered_to_both_servers_at_once_applies_once(running: Cluster) -> None:
    """The bank retries through the load balancer: the same notification reaches both replicas together,
    then an older one ("processing") arrives after it."""
    a, b = _clients(running)
    citizen = login(a)
    order = buy(a, citizen, open_card(a, citizen)["id"]).json()
    intent = f"/api/v1/payments/intents/{order['payment_intent_id']}"
    ref, amount = order["payment_ref"], a.get(intent, headers=citizen.headers).json()["amount"]
    event = uuid.uuid4().hex
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda c: notify(c, ref, amount, event_id=event), (a, b)))
    assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]
    assert sorted(r.json()["outcome"] for r in answers) == ["applied", "duplicate"]
    assert notify(b, ref, amount, EventType.PAYMENT_PROCESSING).json()["outcome"] == "stale"
    assert [c.get(intent, headers=citizen.headers).json()["status"] for c in (a, b)] == ["succeeded"] * 2
    assert len(b.get("/api/v1/transit/passes", headers=citizen.headers).json()["items"]) == 1


def test_a_revoked_session_or_grant_is_refused_by_every_server(running: Cluster, database_url: str) -> None:
    a, b = _clients(running)
    citizen = login(a)
    assert [c.get("/api/v1/me", headers=citizen.headers).status_code for c in (a, b)] == [200, 200]
    assert b.post("/api/v1/auth/logout", headers=citizen.headers).status_code == 204
    assert [c.get("/api/v1/me", headers=citizen.headers).status_code for c in (a, b)] == [401, 401]

    staff = login_staff(a, database_url, "D005", "handler")
    queue = {"unit_id": str(unit_id(database_url, "D005"))}
    path = "/api/v1/staff/feedback/queue"
    assert [c.get(path, params=queue, headers=staff.headers).status_code for c in (a, b)] == [200, 200]
    query(database_url, "DELETE FROM staff_grants WHERE user_id = $1", staff.user_id)
    # The same access token, not refreshed: roles are read with the session on every request.
    assert [c.get(path, params=queue, headers=staff.headers).status_code for c in (a, b)] == [403, 403]
    assert refresh(a, staff).user["id"] == str(staff.user_id)


def _wait_delivered(database_url: str, fcm: Recorder, tokens: list[str], timeout: float) -> None:
    wanted = set(tokens)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with fcm.lock:
            if wanted <= fcm.received.keys():
                break
        time.sleep(0.2)
    time.sleep(1.0)  # anything a second worker would send twice arrives within this
    with fcm.lock:
        missing = wanted - fcm.received.keys()
        twice = {t: c for t, c in fcm.received.items() if t in wanted and c > 1}
    assert not missing, f"{len(missing)} of {len(tokens)} never delivered"
    assert not twice, f"{len(twice)} delivered more than once"


def _metric(base_url: str, name: str) -> float:
    for line in httpx.get(base_url, timeout=5).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exposed at {base_url}")


def _outbox_states(database_url: str, tag: str) -> dict[str, int]:
    rows = query(database_url, OUTBOX_STATES, tag + "-%")
    return {r["status"]: r["n"] for r in rows}


def test_two_workers_deliver_every_message_exactly_once(running: Cluster, database_url: str, fcm: Recorder) -> None:
    tokens = asyncio.run(queue_messages(database_url, 3000, "once"))
    _wait_delivered(database_url, fcm, tokens, timeout=60)
    assert _outbox_states(database_url, "once") == {"sent": 3000}
    # Both workers took part (each claims its own batches with SKIP LOCKED): their own metrics say so.
    assert all(_metric(worker.base_url, "thudo_push_sent_total") > 0 for worker in running.workers)


def test_an_fcm_outage_loses_nothing_and_duplicates_nothing(running: Cluster, database_url: str, fcm: Recorder) -> None:
    fcm.failing = True
    try:
        tokens = asyncio.run(queue_messages(database_url, 500, "outage"))
        # Longer than a message's own three attempts (1 + 2 + 2 s of backoff at most) would last.
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            time.sleep(0.5)
        assert fcm.refused > 0
        assert fcm.total() == len({t for t in fcm.received if t.startswith("once-")})  # nothing new got through
        assert _outbox_states(database_url, "outage") == {"pending": 500}
    finally:
        fcm.failing = False
    _wait_delivered(database_url, fcm, tokens, timeout=60)
    assert _outbox_states(database_url, "outage") == {"sent": 500}
