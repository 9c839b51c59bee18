"""PostgreSQL stopped and started again under write load (quality.md, Reliability), against the service as
deployed (``thudo serve`` in a process of its own) and a PostgreSQL of the test's own that it can stop.

Clients create feedback reports, judicial certificate requests and transit tap batches without pause, each
with an ``Idempotency-Key`` that they keep until they get an answer (as the apps do). While the database is
down every answer is 503 problem+json with ``Retry-After`` — never a 500, never slower than the request
timeout; the service is ready again within 5 s of PostgreSQL; every create that got a 2xx is in the
database afterwards, and no retried create was stored twice.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from adapters.postgres.embedded import EmbeddedPostgres
from bench.procs import BENCH_QUOTAS
from tests.support.auth import Session, client_token, login
from tests.support.cluster import cluster
from tests.support.database import prepare
from tests.support.feedback import R as REPORTS
from tests.support.feedback import report_body

pytestmark = pytest.mark.slow

REQUEST_TIMEOUT_S = 10.0  # the clients' own timeout: a request slower than this counts as a hang
ANSWER_BOUND_S = 6.0  # connect timeout (2 s) + pool acquire + margin for a loaded machine
DOWN_S = 4.0
RECOVERY_S = 5.0
TAPS = "/api/v1/transit/validator/taps"
JUDICIAL = "/api/v1/judicial/requests"
HANOI = {"text": "Số 5 phố Lý Thái Tổ, phường Hoàn Kiếm, Hà Nội", "province_code": "01"}


@dataclass
class Tally:
    """What the clients saw, per kind of create."""

    created: dict[str, list[str]] = field(default_factory=dict)  # kind -> ids from 2xx answers
    unavailable: int = 0
    slowest_s: float = 0.0
    wrong: list[str] = field(default_factory=list)  # anything but 2xx or a proper 503
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def postgres() -> Iterator[EmbeddedPostgres]:
    # Its own server, even when TEST_DATABASE_URL names a shared one: this test stops it.
    with tempfile.TemporaryDirectory(prefix="thudo-restart-pg-") as tmp:
        pg = EmbeddedPostgres(Path(tmp))
        asyncio.run(prepare(pg.start()))
        try:
            yield pg
        finally:
            pg.stop()


def _judicial_draft() -> dict[str, Any]:
    return {
        "purpose": "Bổ sung hồ sơ xin việc",
        "copies": 1,
        "applicant": {
            "sex": "male",
            "father": {"full_name": "Nguyễn Văn Bình", "birth_year": 1960},
            "mother": {"full_name": "Lê Thị Cúc", "birth_year": 1962},
        },
        "residence_history": [{"from_month": "2004-05", "address": HANOI, "occupation": "Kỹ sư"}],
    }


def _tap_batch() -> dict[str, Any]:
    at = datetime.now(UTC)
    return {
        "taps": [
            {
                "id": str(uuid.uuid4()),
                "medium": "pass",
                "subject_id": str(uuid.uuid4()),
                "direction": "in",
                "network": 2,
                "route": 3,
                "stop": "L3-01",
                "occurred_at": at.isoformat(),
                "code_timestamp": int(at.timestamp()),
                "counter": i,
                "accepted": True,
            }
            for i in range(20)
        ]
    }


def _create(
    http: httpx.Client,
    tally: Tally,
    kind: str,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    stop: threading.Event,
) -> None:
    """One create, retried with the same key until it is answered (or the test ends)."""
    headers = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    while not stop.is_set():
        started = time.monotonic()
        try:
            r = http.post(path, json=body, headers=headers)
        except httpx.TransportError as exc:
            with tally.lock:
                tally.wrong.append(f"{kind}: {type(exc).__name__} after {time.monotonic() - started:.1f} s")
            return
        took = time.monotonic() - started
        with tally.lock:
            tally.slowest_s = max(tally.slowest_s, took)
            if r.is_success:
                ident = r.json().get("id") or ",".join(t["id"] for t in body.get("taps", []))
                tally.created.setdefault(kind, []).append(ident)
                return
            proper = (
                r.status_code == 503
                and int(r.headers.get("retry-after", "0")) > 0
                and r.headers["content-type"].startswith("application/problem+json")
                and "Traceback" not in r.text
            )
            if not proper:
                tally.wrong.append(f"{kind}: {r.status_code} {r.text[:200]}")
                return
            tally.unavailable += 1
        time.sleep(0.2)  # shorter than Retry-After: the test wants to see the recovery promptly


def _client_loop(
    base: str,
    tally: Tally,
    kind: str,
    make: Callable[[], tuple[str, dict[str, Any]]],
    headers: dict[str, str],
    stop: threading.Event,
) -> None:
    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT_S) as http:
        while not stop.is_set():
            path, body = make()
            _create(http, tally, kind, path, body, headers, stop)


def _wait_ready(base: str, limit_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        try:
            if httpx.get(base + "/health/ready", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"not ready within {limit_s} s of PostgreSQL starting")


async def _present(url: str, tally: Tally) -> dict[str, tuple[int, int]]:
    """Per kind: (ids answered 2xx, of those found in the database)."""
    conn = await asyncpg.connect(url)
    try:
        reports = [uuid.UUID(i) for i in tally.created.get("report", [])]
        drafts = [uuid.UUID(i) for i in tally.created.get("judicial", [])]
        taps = [uuid.UUID(t) for batch in tally.created.get("taps", []) for t in batch.split(",")]
        return {
            "report": (
                len(reports),
                await conn.fetchval("SELECT count(*) FROM feedback_reports WHERE id = ANY($1::uuid[])", reports),
            ),
            "judicial": (
                len(drafts),
                await conn.fetchval("SELECT count(*) FROM judicial_requests WHERE id = ANY($1::uuid[])", drafts),
            ),
            "taps": (
                len(taps),
                await conn.fetchval("SELECT count(*) FROM transit_taps WHERE id = ANY($1::uuid[])", taps),
            ),
        }
    finally:
        await conn.close()


async def _stored_per_citizen(url: str, citizen: Session) -> tuple[int, int]:
    conn = await asyncpg.connect(url)
    try:
        return (
            await conn.fetchval("SELECT count(*) FROM feedback_reports WHERE reporter_id = $1", citizen.user_id),
            await conn.fetchval("SELECT count(*) FROM judicial_requests WHERE requester_id = $1", citizen.user_id),
        )
    finally:
        await conn.close()


def test_writes_through_a_postgres_restart(postgres: EmbeddedPostgres, tmp_path: Path) -> None:
    url = postgres.start()
    with cluster(url, "", tmp_path, servers=1, workers=0, env=BENCH_QUOTAS) as procs:
        base = procs.urls[0]
        with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT_S) as http:
            citizen = login(http)
            gate = client_token(http, url, "validator")
            body = report_body(http)
        tally, stop = Tally(), threading.Event()
        loops = [
            ("report", lambda: (REPORTS, body), citizen.headers),
            ("judicial", lambda: (JUDICIAL, _judicial_draft()), citizen.headers),
            ("taps", lambda: (TAPS, _tap_batch()), gate.headers),
        ]
        threads = [
            threading.Thread(target=_client_loop, args=(base, tally, kind, make, headers, stop))
            for kind, make, headers in loops
            for _ in range(2)
        ]
        for t in threads:
            t.start()
        try:
            time.sleep(2.0)
            before = {k: len(v) for k, v in tally.created.items()}
            postgres.stop()
            time.sleep(DOWN_S)
            down_answers = tally.unavailable
            postgres.start()
            recovered_s = _wait_ready(base, RECOVERY_S)
            time.sleep(2.0)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
    print(
        f"\ncreated {dict((k, len(v)) for k, v in tally.created.items())}, 503 answers {tally.unavailable}, "
        f"slowest {tally.slowest_s:.2f} s, ready {recovered_s:.2f} s after PostgreSQL started"
    )
    assert not tally.wrong, tally.wrong[:5]
    assert all(before.get(kind, 0) > 0 for kind in ("report", "judicial", "taps"))  # load ran before the stop
    assert down_answers > 0  # ...and was answered 503 while PostgreSQL was down
    assert tally.slowest_s < ANSWER_BOUND_S
    assert all(len(tally.created.get(kind, [])) > before.get(kind, 0) for kind in before)  # and after
    present = asyncio.run(_present(url, tally))
    assert all(answered == found for answered, found in present.values()), present
    # No retried create was stored twice: the citizen has exactly the rows the clients were told about.
    assert asyncio.run(_stored_per_citizen(url, citizen)) == (present["report"][0], present["judicial"][0])
