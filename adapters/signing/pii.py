"""Personal id numbers at rest: HMAC-SHA256 keyed hash for lookup, AES-256-GCM for display.

Both sub-keys are derived (HKDF) from one 32-byte master key so that operations manage a single
secret. The ciphertext carries a version byte and its nonce; the user row id is not bound as
associated data because the row id is created after encryption.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = b"\x01"


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


class AesPiiProtector:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) < 32:
            raise ValueError("the PII key must be at least 32 bytes")
        self._mac_key = _derive(master_key, b"thudo/pii/lookup")
        self._aead = AESGCM(_derive(master_key, b"thudo/pii/encrypt"))

    def lookup_hash(self, personal_id: str) -> bytes:
        return hmac.new(self._mac_key, personal_id.strip().encode(), hashlib.sha256).digest()

    def encrypt(self, personal_id: str) -> bytes:
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, personal_id.encode(), _VERSION)

    def decrypt(self, blob: bytes) -> str:
        if blob[:1] != _VERSION:
            raise ValueError("unknown PII ciphertext version")
        return self._aead.decrypt(blob[1:13], blob[13:], _VERSION).decode()


def load_or_create_master_key(configured: str, directory: Path, *, allow_generate: bool) -> bytes:
    """``configured`` is base64 (PII_KEY); without it development keeps a generated key on disk."""
    if configured:
        return base64.urlsafe_b64decode(configured + "=" * (-len(configured) % 4))
    if not allow_generate:
        raise ValueError("PII_KEY is required outside development")
    path = directory / "pii.key"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        # Write a complete temp file, then link it into place: link fails if another process won
        # the race, and a reader never sees a half-written key.
        tmp = directory / f".pii.{os.getpid()}.{os.urandom(4).hex()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"="))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return base64.urlsafe_b64decode(path.read_bytes().strip() + b"==")
