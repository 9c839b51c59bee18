"""Reference offline verifier for validator firmware: no database and no network at scan time.

A gate holds the published issuer keys (with their validity windows), the signed deny list
(snapshot, then deltas by sequence number) and its station's replay/anti-passback memory, and
decides every scan from those alone. This class is the whole of it; docs/transit-qr.md is the same
algorithm in prose for vendors who write their own.

    gate = OfflineVerifier(Gate(networks=Network.METRO, route=3))
    gate.load_keys_json(keys_json)            # GET /api/v1/transit/validator/keys
    gate.apply_deny_list(snapshot_bytes, now)  # .../deny-list?since=0, later ?since=gate.deny_seq
    verdict = gate.verify(scanned_bytes, now)
"""

from __future__ import annotations

import base64
import time

import msgspec

from adapters.transit_crypto.p256 import P256Verifier
from domain.transit.denylist import DenyDocument, DenySet
from domain.transit.passback import PassbackMemory
from domain.transit.trust import IssuerKey, TrustStore
from domain.transit.validation import CodeValidator, Gate, Policy, Verdict


class PublishedKey(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    kid: int
    public_key: str         # base64url (no padding) of the 33-byte compressed point
    valid_from: int
    valid_until: int
    alg: str = "ES256"


class PublishedKeys(msgspec.Struct, frozen=True):
    keys: list[PublishedKey]


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def keys_from_json(data: bytes | str) -> list[IssuerKey]:
    published = msgspec.json.decode(data, type=PublishedKeys)
    keys = []
    for k in published.keys:
        if k.alg != "ES256":
            continue  # an algorithm this gate does not implement is simply not trusted
        public = unb64u(k.public_key)
        if len(public) != 33:
            raise ValueError(f"key {k.kid}: not a compressed P-256 point")
        keys.append(IssuerKey(k.kid, public, k.valid_from, k.valid_until))
    return keys


def keys_to_json(keys: list[IssuerKey]) -> bytes:
    return msgspec.json.encode(PublishedKeys([
        PublishedKey(k.kid, b64u(k.public_key), k.valid_from, k.valid_until) for k in keys]))


class OfflineVerifier:
    def __init__(self, gate: Gate, policy: Policy | None = None, memory: PassbackMemory | None = None,
                 keys: list[IssuerKey] | None = None) -> None:
        policy = policy or Policy()
        self.trust = TrustStore(keys or [])
        self.deny = DenySet()
        self.memory = memory if memory is not None else PassbackMemory(window_s=policy.passback_s,
                                               code_ttl_s=policy.code_lifetime_s + 2 * policy.skew_s)
        self.crypto = P256Verifier()
        self.validator = CodeValidator(self.trust, self.deny, self.memory, self.crypto, gate, policy)

    @property
    def deny_seq(self) -> int:
        return self.deny.seq

    def load_keys(self, keys: list[IssuerKey]) -> None:
        self.trust.replace(keys)

    def load_keys_json(self, data: bytes | str) -> None:
        self.trust.replace(keys_from_json(data))

    def _key_for(self, kid: int, now: int, signed_at: int) -> bytes | None:
        key = self.trust.get(kid)
        return key.public_key if key is not None and key.usable(now, signed_at) else None

    def apply_deny_list(self, document: bytes, now: int | None = None) -> DenyDocument:
        """Raises ``DenyListRejected`` (bad signature/key, older list) or ``DenyListGap`` (fetch
        a snapshot); the list held is unchanged then."""
        at = int(time.time()) if now is None else now
        return self.deny.apply(document, self._key_for, self.crypto.verify, at)

    def verify(self, data: bytes, now: int | None = None) -> Verdict:
        return self.validator.validate(data, int(time.time()) if now is None else now)
