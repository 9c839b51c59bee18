"""SIGTERM to the server lets an in-flight request finish before the process exits (operations.md)."""

from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support.live import granian_process

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
