"""Run the real app over real HTTP in a background thread (uvicorn), for API tests.

The app's lifespan owns its asyncpg pool on the server thread's event loop (the Litestar
test-client pitfall), and tests talk to it with a plain ``httpx.Client`` — the same way the
VNeID and FCM adapters talk to their stand-ins.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from litestar import Litestar

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def serve(app: Litestar, port: int = 0) -> Iterator[str]:
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto says
    # TCP, and without it Nagle + delayed ACK add ~40 ms to every response.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def granian_process(database_url: str, data_dir: Path, factory: str, *, ready_within_s: float = 60.0,
                    log: Path | None = None) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The service as production runs it: granian with one worker in a process of its own, against
    ``database_url``; yields its base URL once ``/health/ready`` answers 200, and the process."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "DATA_DIR": str(data_dir), "ENVIRONMENT": "test",
           "STANDINS": "true", "RUN_WORKER": "false", "SEED_DEMO": "false", "LOG_LEVEL": "WARNING",
           "HOST": "127.0.0.1", "PORT": str(port)}  # the stand-in login links back to HOST:PORT
    granian = Path(sys.executable).parent / "granian"
    stderr = log.open("w") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen([str(granian), "--interface", "asgi", "--factory", "--host", "127.0.0.1",
                             "--port", str(port), "--workers", "1", factory],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_within_s
        while True:
            try:
                if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("server did not become ready: " + (log.read_text()[-2000:] if log else ""))
            time.sleep(0.1)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
