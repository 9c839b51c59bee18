"""Decompression bombs cannot blow up the server's memory (docs/operations.md, "Image memory").

Six 7070×7070 RGBA PNGs (194 KB each, just under the 50 Mpx cap) are uploaded at once to a real
granian server in a subprocess; the worker process's peak RSS (VmHWM, reset just before) may grow
by at most the bound the docs state. Before the bound, this cost ~3.8 GB.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.support.auth import login
from tests.support.feedback import submit, upload
from tests.support.live import granian_process

pytestmark = pytest.mark.slow

PEAK_BOUND_MB = 320  # docs/operations.md, "Image memory" (measured ~305 MB on a 50 Mpx RGBA PNG)


def _status(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        line = next(x for x in f if x.startswith(field + ":"))
    return int(line.split()[1]) // 1024  # kB -> MB


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(x) for x in f.read().split()]


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, int]]:
    with granian_process(database_url, tmp_path, "api.platform.app:create_app", log=tmp_path / "server.log") \
            as (base, proc):
        workers = _children(proc.pid)
        assert len(workers) == 1, workers
        yield base, workers[0]


def _bomb(shade: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (7070, 7070), (0, shade, 0, 128)).save(buf, "PNG")
    return buf.getvalue()


def test_six_concurrent_pixel_bombs_stay_within_the_documented_peak(server: tuple[str, int]) -> None:
    base, worker = server
    bombs = [_bomb(100 + i) for i in range(6)]  # distinct: an identical file is not processed twice
    assert all(len(b) < 300_000 for b in bombs)
    with httpx.Client(base_url=base, timeout=120) as http:
        citizen = login(http)
        # One report each: uploads to one report queue on its row lock, which is not what is measured.
        reports = [submit(http, citizen)["id"] for _ in range(6)]
        # Warm the upload path once (imports, pools) with a small photo, then measure from here.
        small = io.BytesIO()
        Image.new("RGB", (64, 64)).save(small, "JPEG")
        assert upload(http, citizen, f"/api/v1/feedback/reports/{reports[1]}/photos",
                      small.getvalue()).status_code == 201
        with open(f"/proc/{worker}/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
        before = _status(worker, "VmRSS")
        with ThreadPoolExecutor(6) as pool:
            futures = [pool.submit(upload, http, citizen, f"/api/v1/feedback/reports/{reports[i]}/photos",
                                   bombs[i], "bomb.png", "image/png") for i in range(6)]
            codes = [f.result().status_code for f in futures]
    assert codes == [201] * 6  # accepted and processed, not refused
    assert _status(worker, "VmHWM") - before <= PEAK_BOUND_MB
