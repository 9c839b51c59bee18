"""ES256 signing keys kept as PEM files in one directory, with rotation by overlap.

Every ``*.pem`` file in the directory is a key; its file stem is the ``kid``. The key whose name
sorts last signs new tokens; all keys verify and are published in the JWKS, so rotating is:
add a newer file (``thudo rotate-keys``), restart, delete the old file after the longest token
lifetime has passed. Development generates the first key on start; the lock file makes that
safe when several processes start at once.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from adapters.keyfiles import locked, write_atomically


class KeyRingError(Exception):
    pass


def _generate(directory: Path) -> str:
    now = time.time_ns()
    kid = "es256-" + time.strftime("%Y%m%dT%H%M%S", time.gmtime(now / 1e9)) + f".{now % 1_000_000_000:09d}"
    newest = max((p.stem for p in directory.glob("*.pem")), default="")
    if kid <= newest:  # clock stepped back: the new key must still sort last, or it would not sign
        kid = newest + "a"
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    write_atomically(directory / f"{kid}.pem", pem)
    return kid


def add_signing_key(directory: Path) -> str:
    """Generate a new ES256 key that sorts after every existing one; return its kid."""
    with locked(directory):
        return _generate(directory)


def ensure_signing_key(directory: Path) -> None:
    """Create the first key if the directory has none (development); no-op otherwise.

    Check and creation happen under one exclusive lock, so processes starting together end up
    with exactly one key.
    """
    with locked(directory):
        if not any(directory.glob("*.pem")):
            _generate(directory)


class KeyRing:
    def __init__(self, keys: dict[str, ec.EllipticCurvePrivateKey]) -> None:
        if not keys:
            raise KeyRingError("no signing keys")
        self._keys = dict(sorted(keys.items()))
        self.signing_kid = next(reversed(self._keys))
        self.signing_key = self._keys[self.signing_kid]
        self.public_keys = {kid: k.public_key() for kid, k in self._keys.items()}
        self.jwks: dict[str, Any] = {"keys": [self._jwk(kid, pub) for kid, pub in self.public_keys.items()]}

    @staticmethod
    def _jwk(kid: str, public: ec.EllipticCurvePublicKey) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(public))
        return {**jwk, "kid": kid, "use": "sig", "alg": "ES256"}

    @classmethod
    def load(cls, directory: Path) -> KeyRing:
        keys: dict[str, ec.EllipticCurvePrivateKey] = {}
        for path in sorted(directory.glob("*.pem")):
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
                raise KeyRingError(f"{path.name}: only P-256 (ES256) keys are supported")
            keys[path.stem] = key
        return cls(keys)
