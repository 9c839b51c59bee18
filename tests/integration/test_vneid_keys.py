"""Development keys: created once, mode 0600, and the same file for processes that race to create it."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

from adapters.vneid.keys import ensure_ec_key_file, public_jwk


def _create(path: str) -> str:
    return str(public_jwk(ensure_ec_key_file(Path(path)))["kid"])


def test_racing_processes_end_up_with_one_key(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "vneid-client.pem"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        kids = pool.map(_create, [str(path)] * 8)
    assert len(set(kids)) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["vneid-client.pem"]  # no temp files left behind
    assert _create(str(path)) == kids[0]
