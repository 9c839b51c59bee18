"""A Redis database for tests that need one: 127.0.0.1:6379 (CI and the dev machine run one), flushed
before use; without it, a throw-away ``redis-server`` on a free port if the binary is installed."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from tests.support.live import free_port


def _up(url: str) -> bool:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False
    return True


@contextmanager
def redis_url(db: int) -> Iterator[str]:
    url = f"redis://127.0.0.1:6379/{db}"
    if _up(url):
        redis.Redis.from_url(url).flushdb()
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("these tests need Redis: none on 127.0.0.1:6379 and no redis-server to start")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/{db}"
    try:
        deadline = time.monotonic() + 10
        while not _up(url):
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
