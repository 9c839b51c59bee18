"""Server processes under test: started on free ports in their own session, stopped by their id."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.floor_app import FLOOR_PATH

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], port: int) -> None:
        self.name = name
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **env}, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def output_tail(self, limit: int = 3000) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-limit:]

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.output_tail()}")
            try:
                if httpx.get(self.base_url + path, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready at {path} within {timeout:.0f}s:\n{self.output_tail()}")

    def stop(self) -> None:
        # Our own session id equals the child's pid: signal exactly the processes we started
        # (granian forks its worker into the same session).
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGINT)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        self._log.close()


@dataclass(frozen=True)
class Launch:
    argv: list[str]
    env: dict[str, str]
    port: int
    ready_path: str


@contextmanager
def running(name: str, launch: Launch) -> Iterator[ServerProcess]:
    server = ServerProcess(name, launch.argv, launch.env, launch.port)
    try:
        server.wait_ready(launch.ready_path)
        yield server
    finally:
        server.stop()


def floor_app(database_url: str, server: str = "granian", data_dir: Path | None = None) -> Launch:
    """``data_dir``: the service's DATA_DIR, for references that decrypt what the service encrypted."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.floor_app", "--server", server, "--port", str(port)]
    env = {"DATABASE_URL": database_url, **({"DATA_DIR": str(data_dir)} if data_dir else {})}
    return Launch(argv, env, port, FLOOR_PATH)


# The bench drives a few accounts at thousands of requests a minute: the creation quotas stay on (their
# check is part of what is measured) with limits a bench never reaches.
BENCH_QUOTAS = {name: "1000000000/hour" for name in (
    "FEEDBACK_QUOTA_REPORTS", "FEEDBACK_QUOTA_PHOTOS", "FEEDBACK_QUOTA_FOLLOWS", "FEEDBACK_QUOTA_RATINGS",
    "OPEN311_QUOTA_REQUESTS", "NOTIFICATIONS_QUOTA_DEVICES")}


def service(database_url: str, data_dir: Path, extra_env: Mapping[str, str] | None = None) -> Launch:
    """The real service exactly as deployed: ``python -m api.platform.cli serve`` (granian), one worker.

    At the default log level (INFO), so every request writes its access line as in production.
    """
    port = free_port()
    env = {"DATABASE_URL": database_url, "HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "1",
           "LOG_LEVEL": "INFO", "ENVIRONMENT": "development", "STANDINS": "true", "RUN_WORKER": "false",
           "SEED_DEMO": "false", "DATA_DIR": str(data_dir), **BENCH_QUOTAS, **(extra_env or {})}
    return Launch([sys.executable, "-m", "api.platform.cli", "serve"], env, port, "/health/ready")
