"""README's first command: ``thudo serve`` with no DATABASE_URL runs on an embedded PostgreSQL.

Runs the real CLI in a subprocess (as ``uv run thudo serve`` does), measures the time to a ready
service on a cold and on a warm data directory, and checks that SIGTERM also stops PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support.live import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WARM_LIMIT_S = 10  # quality.md: first request within 10 s on a warm install
COLD_LIMIT_S = 30  # the first start also runs initdb


def start(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "TEST_DATABASE_URL", "STANDINS", "RUN_WORKER", "SEED_DEMO")}
    env.update(DATA_DIR=str(data_dir), PORT=str(port), HOST="127.0.0.1", LOG_LEVEL="INFO", WORKERS="1")
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "api.platform.cli", "serve"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def seconds_until_ready(proc: subprocess.Popen[bytes], port: int, limit_s: float, started: float) -> float:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=2) as http:
        while time.monotonic() - started < limit_s:
            if proc.poll() is not None:
                pytest.fail(f"thudo serve exited early with {proc.returncode}")
            try:
                if http.get("/health/ready").status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    pytest.fail(f"not ready within {limit_s} s")


def postgres_processes(data_dir: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["name"] == "postgres" and str(data_dir) in cmdline:
            found.append(proc)
    return found


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail("thudo serve did not stop within 30 s of SIGTERM")


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Outside pytest's basetemp, like the session database (see tests/conftest.py).
    with tempfile.TemporaryDirectory(prefix="thudo-serve-") as tmp:
        yield Path(tmp).resolve()


def test_serve_on_embedded_postgres_cold_then_warm(data_dir: Path, tmp_path: Path) -> None:
    timings = {}
    for run in ("cold", "warm"):
        port, log = free_port(), tmp_path / f"{run}.log"
        started = time.monotonic()
        proc = start(data_dir, port, log)
        try:
            timings[run] = seconds_until_ready(proc, port, COLD_LIMIT_S if run == "cold" else WARM_LIMIT_S,
                                               started)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
                assert http.get("/health/live").json() == {"status": "ok"}
                missing = http.get("/api/v1/nothing-here", headers={"X-Request-ID": f"serve-{run}"})
                assert missing.status_code == 404
                assert missing.headers["content-type"].startswith("application/problem+json")
            assert postgres_processes(data_dir), "the embedded PostgreSQL should be running"
        finally:
            code = stop(proc)
        assert code == 0
        assert not postgres_processes(data_dir), "SIGTERM must also stop the embedded PostgreSQL"
        assert not (data_dir / "pg" / "postmaster.pid").exists()

        output = log.read_text(encoding="utf-8", errors="replace")
        assert "applied:" in output if run == "cold" else "schema is up to date" in output
        records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        access = [r for r in records if r.get("logger") == "thudo.access" and r.get("request_id") == f"serve-{run}"]
        assert [(a["status"], a["route"]) for a in access] == [(404, "<unmatched>")]
        # The server's own lines are JSON too (granian's default is "[INFO] ...").
        assert not [line for line in output.splitlines() if line.startswith("[INFO]")]

    print(f"\nthudo serve on embedded PostgreSQL, start to /health/ready=200: "
          f"cold (initdb) {timings['cold']:.2f} s, warm {timings['warm']:.2f} s")
    assert timings["warm"] <= WARM_LIMIT_S
