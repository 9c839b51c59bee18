"""SIGTERM to the server lets an in-flight request finish before the process exits; SIGTERM to the worker
hands its claimed outbox rows back (operations.md, "Graceful shutdown")."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from api.platform.worker import SHUTDOWN_GRACE_S
from tests.support.cluster import start_worker, worker_env
from tests.support.database import truncate_all
from tests.support.fcm_recorder import fcm_recorder
from tests.support.live import granian_process
from tests.support.push import outbox_rows, queue_messages, wait_until

pytestmark = pytest.mark.slow


def test_in_flight_request_finishes_after_sigterm(database_url: str, tmp_path: Path) -> None:
    # Ready within 60 s: under a fully loaded CI machine the first start of granian takes ~20-30 s.
    with granian_process(database_url, tmp_path, "tests.support.slow_app:factory") as (base, proc):
        with ThreadPoolExecutor(1) as pool:
            in_flight = pool.submit(httpx.get, f"{base}/probe/slow", timeout=15)
            time.sleep(0.5)  # the request is now inside its two-second query
            proc.send_signal(signal.SIGTERM)
            response = in_flight.result()
        assert response.status_code == 200
        assert response.json() == {"slept": True}
        assert proc.wait(timeout=20) == 0
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{base}/health/live", timeout=1)


def test_a_stopped_worker_hands_back_the_rows_it_claimed(database_url: str, tmp_path: Path) -> None:
    """SIGTERM while a push batch is in flight (FCM answering slowly): the worker exits within its grace
    period and its claimed rows are due again at once, not after the lease; another worker then delivers
    every message exactly once."""
    asyncio.run(truncate_all(database_url))
    with fcm_recorder(tmp_path / "fcm") as fcm, ExitStack() as stack:
        env = {**worker_env(database_url, tmp_path / "data"), **fcm.env()}
        fcm.delay_s = 60.0  # longer than the worker's grace: the batch is cancelled, not finished
        first = start_worker(stack, "worker-1", env)
        first.wait_ready("/metrics", timeout=90)
        tokens = asyncio.run(queue_messages(database_url, 200, "stop"))
        assert wait_until(lambda: outbox_rows(database_url, "claim_id IS NOT NULL") == 200, 30), first.output_tail()
        started = time.monotonic()
        os.killpg(first.proc.pid, signal.SIGTERM)
        assert first.proc.wait(timeout=30) == 0
        assert time.monotonic() - started < SHUTDOWN_GRACE_S + 5
        # Handed back: unclaimed and due now (the lease would have kept them for WORKER_LEASE_SECONDS).
        assert outbox_rows(database_url, "claim_id IS NULL AND available_at <= now() AND status = 'pending'") == 200
        fcm.delay_s = 0.0
        second = start_worker(stack, "worker-2", env)
        second.wait_ready("/metrics", timeout=90)
        assert wait_until(lambda: outbox_rows(database_url, "status = 'sent'") == 200, 60)
        with fcm.lock:
            assert {t: fcm.received[t] for t in tokens} == dict.fromkeys(tokens, 1)
    asyncio.run(truncate_all(database_url))
