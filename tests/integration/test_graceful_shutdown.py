"""SIGTERM to the server lets an in-flight request finish before the process exits (operations.md)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support.live import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_in_flight_request_finishes_after_sigterm(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "DATA_DIR": str(tmp_path), "ENVIRONMENT": "test",
           "STANDINS": "true", "RUN_WORKER": "false", "SEED_DEMO": "false", "LOG_LEVEL": "WARNING"}
    granian = Path(sys.executable).parent / "granian"
    proc = subprocess.Popen([str(granian), "--interface", "asgi", "--factory", "--host", "127.0.0.1",
                             "--port", str(port), "--workers", "1", "tests.support.slow_app:factory"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.1)
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
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
