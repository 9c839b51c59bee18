"""A throw-away PostgreSQL primary and streaming hot standby, from the embedded server's binaries.

The read-replica test needs a *physical* replica, which no shared test server provides: this makes
one in a temp dir (initdb with ``wal_level=replica``, ``pg_basebackup -R`` for the standby), each on
a free port, and removes both at the end. As root the servers run as the ``pgserver`` OS user, like
pgserver's own embedded server (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.live import free_port

_SETTINGS = (
    "listen_addresses = '127.0.0.1'\n"
    "wal_level = replica\nmax_wal_senders = 5\nhot_standby = on\n"
    # Throw-away data: durability buys nothing here and costs seconds of fsync on a busy disk.
    "fsync = off\nfull_page_writes = off\nshared_buffers = 16MB\nmax_connections = 60\n"
    # The standby tells the primary about replay promptly (the lag it reports is what we measure).
    "wal_receiver_status_interval = 1s\n"
)


def _bin(name: str) -> str:
    from pgserver._commands import POSTGRES_BIN_PATH  # type: ignore[import-untyped]

    return str(Path(POSTGRES_BIN_PATH) / name)


def _os_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("pgserver")
    except KeyError:
        subprocess.run(["useradd", "-s", "/bin/bash", "pgserver"], check=True, capture_output=True)
    return "pgserver"


@dataclass
class Node:
    data: Path
    port: int
    user: str | None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, *args: str) -> None:
        subprocess.run(list(args), check=True, capture_output=True, user=self.user, timeout=60)

    def start(self) -> None:
        self.run(
            _bin("pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.data / "server.log"),
            "-w",
            "-t",
            "30",
            "-o",
            f"-p {self.port} -k {self.data}",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self.run(_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")


@dataclass
class Cluster:
    primary: Node
    standby: Node


@contextmanager
def primary_and_standby() -> Iterator[Cluster]:
    """Start a primary and a hot standby streaming from it; stop both and delete their data at the end."""
    user = _os_user()
    root = Path(tempfile.mkdtemp(prefix="thudo-replica-"))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    root.chmod(0o755)
    primary = Node(root / "primary", free_port(), user)
    standby = Node(root / "standby", free_port(), user)
    started: list[Node] = []
    try:
        primary.run(
            _bin("initdb"), "-D", str(primary.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"
        )
        with open(primary.data / "postgresql.conf", "a") as conf:
            conf.write(_SETTINGS)
        primary.start()
        started.append(primary)
        primary.run(
            _bin("pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-D",
            str(standby.data),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
        )
        standby.start()
        started.append(standby)
        yield Cluster(primary, standby)
    finally:
        for node in reversed(started):
            with contextlib.suppress(subprocess.CalledProcessError):  # already stopped by the test
                node.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
