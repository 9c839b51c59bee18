"""Token keys (rotation with overlap, race-safe creation) and the PII protector."""

from __future__ import annotations

import multiprocessing
import uuid
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from adapters.signing.jwt_tokens import JwtSigner
from adapters.signing.keys import KeyRing, add_signing_key, ensure_signing_key
from adapters.signing.pii import AesPiiProtector, load_or_create_master_key
from domain.errors import Unauthenticated
from domain.identity.principal import PrincipalKind
from domain.identity.tokens import AccessClaims

CLAIMS = AccessClaims(subject=uuid.uuid4(), kind=PrincipalKind.USER, roles=("citizen",), level=2,
                      session_id=uuid.uuid4())


def _signer(directory: Path) -> JwtSigner:
    return JwtSigner(KeyRing.load(directory), issuer="https://thudo.test", audience="thudo-api", ttl_seconds=600)


def test_rotation_keeps_old_tokens_valid_until_the_old_key_is_removed(tmp_path: Path) -> None:
    ensure_signing_key(tmp_path)
    old = _signer(tmp_path)
    old_token = old.issue(CLAIMS)
    new_kid = add_signing_key(tmp_path)
    rotated = _signer(tmp_path)
    new_token = rotated.issue(CLAIMS)
    assert KeyRing.load(tmp_path).signing_kid == new_kid
    assert rotated.verify(old_token).subject == CLAIMS.subject  # overlap: old key still verifies
    assert rotated.verify(new_token).session_id == CLAIMS.session_id
    assert len(KeyRing.load(tmp_path).jwks["keys"]) == 2
    for pem in tmp_path.glob("*.pem"):
        if pem.stem != new_kid:
            pem.unlink()
    retired = _signer(tmp_path)
    with pytest.raises(Unauthenticated):
        retired.verify(old_token)
    assert retired.verify(new_token).subject == CLAIMS.subject


def test_other_issuer_or_audience_is_refused(tmp_path: Path) -> None:
    ensure_signing_key(tmp_path)
    token = _signer(tmp_path).issue(CLAIMS)
    ring = KeyRing.load(tmp_path)
    with pytest.raises(Unauthenticated):
        JwtSigner(ring, issuer="https://other.test", audience="thudo-api", ttl_seconds=600).verify(token)
    with pytest.raises(Unauthenticated):
        JwtSigner(ring, issuer="https://thudo.test", audience="other", ttl_seconds=600).verify(token)


def test_access_tokens_live_at_most_15_minutes(tmp_path: Path) -> None:
    ensure_signing_key(tmp_path)
    with pytest.raises(ValueError, match="15 minutes"):
        JwtSigner(KeyRing.load(tmp_path), issuer="i", audience="a", ttl_seconds=901)


def _ensure(directory: str) -> None:
    ensure_signing_key(Path(directory))
    load_or_create_master_key("", Path(directory), allow_generate=True)


def test_concurrent_first_start_creates_exactly_one_key(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_ensure, args=(str(tmp_path),)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert len(list(tmp_path.glob("*.pem"))) == 1
    assert len((tmp_path / "pii.key").read_bytes().strip()) >= 43
    assert not list(tmp_path.glob(".pii.*"))


def test_pii_protector(tmp_path: Path) -> None:
    pii = AesPiiProtector(load_or_create_master_key("", tmp_path, allow_generate=True))
    again = AesPiiProtector(load_or_create_master_key("", tmp_path, allow_generate=True))
    other = AesPiiProtector(b"k" * 32)
    pid = "001085000101"
    assert pii.lookup_hash(pid) == again.lookup_hash(pid)
    assert pii.lookup_hash(pid) != other.lookup_hash(pid)
    enc = pii.encrypt(pid)
    assert pid.encode() not in enc
    assert pii.encrypt(pid) != enc  # random nonce
    assert again.decrypt(enc) == pid
    tampered = enc[:-1] + bytes([enc[-1] ^ 1])
    with pytest.raises(InvalidTag):
        pii.decrypt(tampered)
    with pytest.raises(ValueError, match="required"):
        load_or_create_master_key("", tmp_path / "prod", allow_generate=False)


def test_cached_verification_still_expires(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from adapters.signing import jwt_tokens

    monkeypatch.setattr(jwt_tokens, "LEEWAY_S", 0)
    ensure_signing_key(tmp_path)
    signer = JwtSigner(KeyRing.load(tmp_path), issuer="https://thudo.test", audience="thudo-api", ttl_seconds=1)
    token = signer.issue(CLAIMS)
    assert signer.verify(token) == signer.verify(token)  # the second call is served from the cache
    time.sleep(2.1)
    with pytest.raises(Unauthenticated):
        signer.verify(token)
