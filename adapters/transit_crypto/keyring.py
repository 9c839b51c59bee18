"""The issuer's P-256 keys as files, with validity windows and rotation by overlap.

A directory holds ``<kid>.pem`` (PKCS#8 private key, mode 0600) and ``<kid>.json``
(``{"valid_from": epoch, "valid_until": epoch}``). Every key is published with its window; the key
that signs is the newest one whose window contains now with at least 72 h (the longest credential
life) to spare, so no credential outlives the key that signed it. Rotation: add a key whose window
starts before the current one has less than 72 h left, publish it (gates fetch keys at least daily),
and the ring switches to it by itself. In production the directory is a mounted secret, or this class
is replaced by an HSM-backed ``IssuerSigner``.
"""

from __future__ import annotations

import json
from pathlib import Path

from adapters.keyfiles import locked, write_atomically
from adapters.transit_crypto.p256 import P256Signer, generate, load_private_pem, private_pem, public_bytes
from domain.transit.qr import MAX_CREDENTIAL_SECONDS
from domain.transit.trust import IssuerKey

DEFAULT_VALIDITY_S = 400 * 86_400


class NoSigningKey(RuntimeError):
    pass


def _kids(directory: Path) -> list[int]:
    return sorted(int(p.stem) for p in directory.glob("*.pem") if p.stem.isdigit())


def add_issuer_key(directory: Path, valid_from: int, valid_until: int | None = None) -> int:
    """Generate the next key (kid = highest + 1) with the given window; return its kid."""
    until = valid_until if valid_until is not None else valid_from + DEFAULT_VALIDITY_S
    if until - valid_from <= MAX_CREDENTIAL_SECONDS:
        raise ValueError("a key window must be longer than 72 h")
    with locked(directory):
        kid = (_kids(directory) or [0])[-1] + 1
        key = generate()
        window = json.dumps({"valid_from": valid_from, "valid_until": until}).encode()
        write_atomically(directory / f"{kid}.json", window, 0o644)
        write_atomically(directory / f"{kid}.pem", private_pem(key), 0o600)
        return kid


def ensure_issuer_key(directory: Path, now: int) -> None:
    """Development: create a first key when the directory has none usable now."""
    with locked(directory):
        has = _kids(directory)
    if not has or not IssuerKeyRing.load(directory).can_sign(now):
        add_issuer_key(directory, now - 60)


class IssuerKeyRing:
    def __init__(self, keys: dict[int, tuple[P256Signer, IssuerKey]]) -> None:
        self._keys = keys

    @classmethod
    def load(cls, directory: Path) -> IssuerKeyRing:
        keys: dict[int, tuple[P256Signer, IssuerKey]] = {}
        for kid in _kids(directory):
            meta = json.loads((directory / f"{kid}.json").read_text())
            private = load_private_pem((directory / f"{kid}.pem").read_bytes())
            keys[kid] = (P256Signer(private, kid=kid),
                         IssuerKey(kid, public_bytes(private), int(meta["valid_from"]), int(meta["valid_until"])))
        return cls(keys)

    def published(self) -> list[IssuerKey]:
        return [k for _, k in sorted(self._keys.values(), key=lambda pair: pair[1].kid)]

    def can_sign(self, now: int) -> bool:
        return any(self._eligible(k, now) for _, k in self._keys.values())

    @staticmethod
    def _eligible(key: IssuerKey, now: int) -> bool:
        return key.valid_from <= now and now + MAX_CREDENTIAL_SECONDS <= key.valid_until

    def signer(self, now: int) -> P256Signer:
        """The newest key that may sign now (an ``IssuerSigner``)."""
        usable = [(kid, pair) for kid, pair in self._keys.items() if self._eligible(pair[1], now)]
        if not usable:
            raise NoSigningKey("no transit issuer key may sign now; add one (see adapters/transit_crypto/keyring.py)")
        return max(usable)[1][0]
