"""Two ``thudo serve`` and two ``thudo worker`` processes against one PostgreSQL and one Redis (compose.yaml's
topology without containers): limits and quotas are shared, a revocation is seen by every server on the
next request, each push is delivered exactly once (also across an FCM outage), periodic jobs run
once per period however many workers run them, a certificate revoked through one server is revoked in
the status list every server publishes, and deny-list entries made through both servers at once get
unique, gap-free numbers that a gate syncing deltas from either server receives in full.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from adapters.transit_crypto.offline import OfflineVerifier, keys_from_json
from domain.payments.model import EventType
from domain.transit.codes import Direction, Network
from domain.transit.denylist import DenyKind, device_subject
from domain.transit.validation import Gate
from tests.support.auth import client_token, login, login_staff, refresh, unit_id
from tests.support.cluster import Cluster, cluster
from tests.support.database import truncate_all
from tests.support.fcm_recorder import Recorder, fcm_recorder
from tests.support.feedback import R, report_body
from tests.support.payments import notify
from tests.support.push import query, queue_messages
from tests.support.redis import redis_url
from tests.support.transit_api import bind_phone, buy, open_card

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


JUDICIAL = "/api/v1/judicial"
JUDICIAL_STAFF = "/api/v1/staff/judicial"
JUDICIAL_PUBLIC = "/api/v1/public/judicial"
HANOI = {"text": "Số 5 phố Lý Thái Tổ, phường Hoàn Kiếm, Hà Nội", "province_code": "01"}
DRAFT = {"purpose": "Bổ sung hồ sơ xin việc", "copies": 3,
         "applicant": {"sex": "male", "father": {"full_name": "Nguyễn Văn Bình", "birth_year": 1960},
                       "mother": {"full_name": "Lê Thị Cúc", "birth_year": 1962}},
         "residence_history": [{"from_month": "2004-05", "address": HANOI, "occupation": "Kỹ sư"}]}


def _ok(r: httpx.Response, status: int = 200) -> dict[str, object]:
    assert r.status_code == status, r.text
    return r.json()  # type: ignore[no-any-return]


def _revocation_bit(client: httpx.Client, path: str, index: int, keys: KeySet) -> tuple[bool, str]:
    """The list as ``client``'s server serves it, its signature checked with ``keys``: (bit set, encodedList)."""
    listed = client.get(path)
    assert listed.status_code == 200, listed.text
    subject = jose_jwt.decode(listed.text, keys).claims["credentialSubject"]
    raw = subject["encodedList"][1:]
    bits = gzip.decompress(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    return bool(bits[index // 8] & (0x80 >> (index % 8))), subject["encodedList"]


def test_a_certificate_revoked_through_one_server_is_revoked_in_the_list_every_server_serves(
        running: Cluster, database_url: str) -> None:
    a, b = _clients(running)
    me, boss = login(a), login_staff(a, database_url, "CA-TP", "supervisor")
    # The request's steps alternate between the servers, as a load balancer would send them.
    draft = _ok(b.post(f"{JUDICIAL}/requests", json=DRAFT, headers=me.headers), 201)
    rid = _ok(a.post(f"{JUDICIAL}/requests/{draft['id']}/submit", json={}, headers=me.headers))["id"]
    for i, action in enumerate(("receive", "verify", "approve", "issue")):
        done = _ok((b, a)[i % 2].post(f"{JUDICIAL_STAFF}/requests/{rid}/{action}", json={}, headers=boss.headers))
    certs = _ok(b.get(f"{JUDICIAL}/certificates", headers=me.headers))
    cert = next(c for c in certs if c["id"] == done["certificate_id"])  # type: ignore[attr-defined]
    jwks = [KeySet.import_key_set(_ok(c.get(f"{JUDICIAL_PUBLIC}/jwks"))) for c in (a, b)]
    assert jwks[0].as_dict() == jwks[1].as_dict()
    entry = next(e for e in jose_jwt.decode(cert["vc_jwt"], jwks[1]).claims["credentialStatus"]
                 if e["statusPurpose"] == "revocation")
    path = "/api/v1" + entry["statusListCredential"].split("/api/v1", 1)[1]
    index = int(entry["statusListIndex"])
    # Both servers have served (and so cached their signed copy of) the list before the revocation.
    before = [_revocation_bit(c, path, index, keys) for c, keys in ((a, jwks[1]), (b, jwks[0]))]
    assert [bit for bit, _ in before] == [False, False]
    assert before[0][1] == before[1][1]

    _ok(a.post(f"{JUDICIAL_STAFF}/certificates/{cert['id']}/status", json={"action": "revoke", "reason": "Cấp sai"},
               headers=boss.headers))

    # Revoked through A: B's next answer already says so (its copy was of the older list version), and
    # both lists are the same list (same bits), each verifiable with the other server's keys.
    after = [_revocation_bit(c, path, index, keys) for c, keys in ((b, jwks[0]), (a, jwks[1]))]
    assert [bit for bit, _ in after] == [True, True]
    assert after[0][1] == after[1][1] != before[0][1]
    assert query(database_url, "SELECT version FROM judicial_status_lists WHERE id = $1",
                 uuid.UUID(path.rsplit("/", 1)[1]))[0]["version"] >= 1


DENY_SEQS = """SELECT d.seq FROM transit_deny d WHERE d.kind = $1 AND d.subject = ANY($2::bytea[]) ORDER BY d.seq"""


def test_deny_list_entries_made_through_both_servers_at_once_reach_a_gate_syncing_from_either(
        running: Cluster, database_url: str) -> None:
    a, b = _clients(running)
    citizens = [login(a) for _ in range(16)]
    old_phones = [bind_phone((a, b)[i % 2], c) for i, c in enumerate(citizens)]
    gate_client = client_token(a, database_url, "validator")
    gate = OfflineVerifier(Gate(Network.METRO, 3, Direction.IN),
                           keys=keys_from_json(_ok_bytes(b.get("/api/v1/transit/validator/keys",
                                                               headers=gate_client.headers))))
    gate.apply_deny_list(_ok_bytes(a.get("/api/v1/transit/validator/deny-list", headers=gate_client.headers)))
    start, held = gate.deny_seq, len(gate.deny)
    deltas: list[tuple[int, int]] = []
    done = False

    def rebind(i: int) -> None:
        # A new phone through A or B: the old key goes on the deny list (one numbered entry each).
        with httpx.Client(base_url=running.urls[i % 2], timeout=15) as http:
            bind_phone(http, citizens[i])

    def sync() -> None:
        # The gate keeps syncing deltas from the servers by turns while the entries are being made.
        turn = 0
        while True:
            last = done
            got = (b, a)[turn % 2].get("/api/v1/transit/validator/deny-list", params={"since": gate.deny_seq},
                                       headers=gate_client.headers)
            doc = gate.apply_deny_list(_ok_bytes(got))  # a gap or a bad signature raises
            deltas.append((doc.from_seq, doc.to_seq))
            turn += 1
            if last:
                return
            time.sleep(0.02)

    with ThreadPoolExecutor(9) as pool:
        syncing = pool.submit(sync)
        list(pool.map(rebind, range(len(citizens))))
        done = True
        syncing.result(timeout=30)

    subjects = [device_subject(p.public_key) for p in old_phones]
    seqs = [r["seq"] for r in query(database_url, DENY_SEQS, int(DenyKind.DEVICE), subjects)]
    head = query(database_url, "SELECT seq FROM transit_deny_head")[0]["seq"]
    # Unique, gap-free numbers after the gate's start, the last one the head the servers publish.
    assert seqs == list(range(start + 1, start + len(citizens) + 1))
    assert head == seqs[-1]
    assert len(deltas) >= 2
    assert all(to >= frm for frm, to in deltas)
    assert gate.deny_seq == head
    # No entry lost between the deltas: the gate denies every old phone, and no new one.
    assert all(gate.deny.denies(DenyKind.DEVICE, s) for s in subjects)
    assert len(gate.deny) == held + len(citizens)


def _ok_bytes(r: httpx.Response) -> bytes:
    assert r.status_code == 200, r.text
    return r.content
