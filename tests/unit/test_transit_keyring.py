"""Issuer key files: windows, the signing key's choice during rotation, development bootstrap."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from adapters.transit_crypto.keyring import IssuerKeyRing, NoSigningKey, add_issuer_key, ensure_issuer_key
from adapters.transit_crypto.p256 import P256Verifier
from tests.support.transit import DAY, NOW


def test_rotation_switches_to_the_newer_key_and_keeps_72h_to_spare(tmp_path: Path) -> None:
    first = add_issuer_key(tmp_path, NOW - 100 * DAY, NOW + 10 * DAY)
    second = add_issuer_key(tmp_path, NOW + 5 * DAY, NOW + 400 * DAY)
    ring = IssuerKeyRing.load(tmp_path)
    assert [k.kid for k in ring.published()] == [first, second]
    assert ring.signer(NOW).kid == first                  # the new key's window has not started
    assert ring.signer(NOW + 6 * DAY).kid == second
    assert ring.signer(NOW + 5 * DAY - 1).kid == first
    # Less than 72 h left on the only key: nothing may sign.
    only = tmp_path / "only"
    add_issuer_key(only, NOW - DAY, NOW + 2 * DAY + 3600)
    with pytest.raises(NoSigningKey):
        IssuerKeyRing.load(only).signer(NOW)
    assert stat.S_IMODE((tmp_path / f"{first}.pem").stat().st_mode) == 0o600


def test_keys_sign_what_their_published_half_verifies(tmp_path: Path) -> None:
    ensure_issuer_key(tmp_path, NOW)
    ensure_issuer_key(tmp_path, NOW)                      # idempotent
    ring = IssuerKeyRing.load(tmp_path)
    [key] = ring.published()
    signer = ring.signer(NOW)
    assert signer.public_key == key.public_key
    assert P256Verifier().verify(key.public_key, signer.sign(b"data"), b"data")
    with pytest.raises(ValueError, match="72 h"):
        add_issuer_key(tmp_path, NOW, NOW + DAY)
