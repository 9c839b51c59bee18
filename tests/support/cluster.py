"""compose.yaml's topology without containers: ``thudo serve`` and ``thudo worker`` processes against one
PostgreSQL and one Redis, each process started on its own and stopped by its id (``bench.procs``)."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from api.platform.registry import CONTEXTS
from api.platform.settings import load_settings
from bench.procs import ServerProcess, free_port


def process_env(database_url: str, redis_url: str, data_dir: Path, extra: Mapping[str, str]) -> dict[str, str]:
    # ENVIRONMENT=test: the VNeID stand-in logs the tests in; every other setting as production runs it.
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DATA_DIR": str(data_dir),
        "ENVIRONMENT": "test",
        "STANDINS": "true",
        "RUN_WORKER": "false",
        "SEED_DEMO": "false",
        "WORKERS": "1",
        "DB_POOL_MAX": "4",
        "LOG_LEVEL": "WARNING",
        "HOST": "127.0.0.1",
        **extra,
    }


def worker_env(database_url: str, data_dir: Path) -> dict[str, str]:
    """A lone worker's environment (no Redis: workers keep no counters), with the development keys a
    server would have created in ``data_dir`` before it (``thudo serve`` runs every context's prepare)."""
    env = process_env(database_url, "", data_dir, {})
    settings = load_settings(env)
    for context in CONTEXTS:
        if context.prepare is not None:
            context.prepare(settings)
    return env


@dataclass
class Cluster:
    servers: list[ServerProcess] = field(default_factory=list)
    workers: list[ServerProcess] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [s.base_url for s in self.servers]


def start_server(stack: ExitStack, name: str, env: dict[str, str], port: int | None = None) -> ServerProcess:
    port = port or free_port()
    server = ServerProcess(name, [sys.executable, "-m", "api.platform.cli", "serve"], {**env, "PORT": str(port)}, port)
    stack.callback(server.stop)
    return server


def start_worker(stack: ExitStack, name: str, env: dict[str, str]) -> ServerProcess:
    # The worker's metrics port doubles as its readiness signal (it opens once the worker runs).
    port = free_port()
    worker = ServerProcess(
        name, [sys.executable, "-m", "api.platform.cli", "worker"], {**env, "WORKER_METRICS_PORT": str(port)}, port
    )
    stack.callback(worker.stop)
    return worker


@contextmanager
def cluster(
    database_url: str,
    redis_url: str,
    data_dir: Path,
    *,
    servers: int = 2,
    workers: int = 2,
    env: Mapping[str, str] | None = None,
    worker_env: Mapping[str, str] | None = None,
) -> Iterator[Cluster]:
    # One public address for all (compose.yaml's PUBLIC_BASE_URL, the proxy): it is the tokens' issuer and
    # audience. Here it is the first server's, where the VNeID stand-in the tests log in with lives.
    port = free_port()
    base = {**process_env(database_url, redis_url, data_dir, env or {}), "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    with ExitStack() as stack:
        # The first server creates the development keys in DATA_DIR (production mounts provisioned ones);
        # the others start once it is ready, so every process signs and verifies with the same keys.
        first = start_server(stack, "serve-1", base, port)
        first.wait_ready("/health/ready", timeout=90)
        running = Cluster(servers=[first])
        running.servers += [start_server(stack, f"serve-{i + 1}", base) for i in range(1, servers)]
        running.workers = [
            start_worker(stack, f"worker-{i + 1}", {**base, **(worker_env or {})}) for i in range(workers)
        ]
        for process in running.servers[1:]:
            process.wait_ready("/health/ready", timeout=90)
        for process in running.workers:
            process.wait_ready("/metrics", timeout=90)
        # All stop at once (each one's stop then waits for its own exit), not one grace period after another.
        stack.callback(_signal_all, [*running.servers, *running.workers])
        yield running


def _signal_all(processes: list[ServerProcess]) -> None:
    for process in processes:
        if process.proc.poll() is None:
            os.killpg(process.proc.pid, signal.SIGINT)
