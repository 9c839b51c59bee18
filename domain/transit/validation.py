"""The gate's decision for one scanned code, with nothing but public keys, the deny list and the
station's replay memory (no database, no network): the rules of docs/transit-qr.md §6.

Signatures come through the ``SignatureVerifier`` port. A credential whose issuer signature
verified once is remembered (by its exact bytes and the key that verified it), because a rider
shows the same credential for up to 72 h while the code around it changes every 15 s; every
time-dependent check still runs on every code.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict

import msgspec

from domain.transit.codes import NO_EXPIRY, Direction, Network, Rejection
from domain.transit.denylist import DenyKind, DenySet, device_subject
from domain.transit.passback import PassbackMemory
from domain.transit.ports import SignatureVerifier
from domain.transit.qr import (
    CODE_SIGNED_LEN,
    CREDENTIAL_LEN,
    KIND_DYNAMIC,
    KIND_PAPER,
    MAX_CREDENTIAL_SECONDS,
    MalformedCode,
    PassFacts,
    decode_code,
    decode_paper,
    peek_kind,
)
from domain.transit.trust import TrustStore


class Policy(msgspec.Struct, frozen=True):
    code_lifetime_s: int = 30     # how long after its timestamp a code is accepted
    skew_s: int = 15              # how far a code's timestamp may be ahead of the gate's clock
    passback_s: int = 600         # anti-passback window of a station / vehicle


class Gate(msgspec.Struct, frozen=True):
    networks: Network             # BUS on buses, METRO at metro gates
    route: int                    # this vehicle's or line's route number
    direction: Direction = Direction.IN


class Verdict(msgspec.Struct, frozen=True):
    accepted: bool
    reason: Rejection | None = None
    kind: str | None = None       # "pass" | "paper"
    facts: PassFacts | None = None
    timestamp: int | None = None  # the device's timestamp (dynamic codes)
    counter: int | None = None
    device_subject: bytes | None = None  # accepted dynamic codes: the deny-list subject of the phone's key

    @property
    def pass_id(self) -> uuid.UUID | None:
        return self.facts.pass_id if self.facts else None


def _reject(reason: Rejection, kind: str | None = None, facts: PassFacts | None = None) -> Verdict:
    return Verdict(False, reason, kind, facts)


class _Verified(msgspec.Struct, frozen=True):
    issuer_key: bytes
    device_subject: bytes


class VerifiedCredentials:
    """Credentials whose issuer signature verified, by their exact bytes (bounded, least recently used out first).

    A gate keeps one; the server's online validation builds a ``CodeValidator`` per request and
    shares one per process, so a rider's second online scan of a credential checks only the device
    signature, as at a gate. Only the signature is remembered: key windows, expiry and every other
    time-dependent check run on each code.
    """

    def __init__(self, size: int = 4096) -> None:
        self._seen: OrderedDict[bytes, _Verified] = OrderedDict()
        self._size = size

    def get(self, raw_credential: bytes) -> _Verified | None:
        found = self._seen.get(raw_credential)
        if found is not None:
            self._seen.move_to_end(raw_credential)  # a rider scanning every day stays while one-off scans go
        return found

    def add(self, raw_credential: bytes, verified: _Verified) -> None:
        self._seen[raw_credential] = verified
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)


class CodeValidator:
    """One gate (or one online validation worker). ``memory`` is shared by a station's gates."""

    def __init__(self, trust: TrustStore, deny: DenySet, memory: PassbackMemory, verifier: SignatureVerifier,
                 gate: Gate, policy: Policy | None = None, credentials: VerifiedCredentials | None = None) -> None:
        self.trust = trust
        self.deny = deny
        self.memory = memory
        self.verifier = verifier
        self.gate = gate
        self.policy = policy or Policy()
        self._credentials = credentials if credentials is not None else VerifiedCredentials()

    def validate(self, data: bytes, now: int) -> Verdict:
        try:
            kind = peek_kind(data)
        except MalformedCode as exc:
            return _reject(Rejection(exc.reason))
        if kind == KIND_DYNAMIC:
            if len(data) in (CREDENTIAL_LEN, CODE_SIGNED_LEN):
                # A credential with its device part cut off: forged, never "unsigned".
                return _reject(Rejection.FORGED, "pass")
            return self._dynamic(data, now)
        if kind == KIND_PAPER:
            return self._paper(data, now)
        return _reject(Rejection.MALFORMED)

    def _scope(self, facts: PassFacts, now: int) -> Rejection | None:
        if now < facts.valid_from:
            return Rejection.PASS_NOT_YET_VALID
        if facts.valid_until != NO_EXPIRY and now > facts.valid_until:
            return Rejection.PASS_EXPIRED
        if not facts.networks & self.gate.networks:
            return Rejection.WRONG_NETWORK
        if facts.route and facts.route != self.gate.route:
            return Rejection.WRONG_ROUTE
        return None

    def _dynamic(self, data: bytes, now: int) -> Verdict:
        try:
            code = decode_code(data)
        except MalformedCode as exc:
            return _reject(Rejection(exc.reason), "pass")
        cred = code.credential
        facts = cred.facts
        key = self.trust.get(cred.kid)
        if key is None:
            return _reject(Rejection.UNKNOWN_KID, "pass", facts)
        if not key.usable(now, cred.issued_at):
            return _reject(Rejection.KEY_NOT_VALID, "pass", facts)
        raw_cred = cred.raw
        seen = self._credentials.get(raw_cred)
        if seen is None or seen.issuer_key != key.public_key:
            if not self.verifier.verify(key.public_key, cred.signature, cred.signed_bytes):
                return _reject(Rejection.FORGED, "pass", facts)
            seen = _Verified(key.public_key, device_subject(cred.device_key))
            self._credentials.add(raw_cred, seen)
        if not self.verifier.verify(cred.device_key, code.signature, code.signed_bytes):
            return _reject(Rejection.FORGED, "pass", facts)
        p = self.policy
        if cred.expires_at - cred.issued_at > MAX_CREDENTIAL_SECONDS:
            return _reject(Rejection.CREDENTIAL_TOO_LONG, "pass", facts)
        if now + p.skew_s < cred.issued_at or code.timestamp + p.skew_s < cred.issued_at:
            return _reject(Rejection.CREDENTIAL_NOT_YET_VALID, "pass", facts)
        if now > cred.expires_at or code.timestamp > cred.expires_at:
            return _reject(Rejection.CREDENTIAL_EXPIRED, "pass", facts)
        if code.timestamp > now + p.skew_s:
            return _reject(Rejection.CODE_FROM_FUTURE, "pass", facts)
        if now - code.timestamp > p.code_lifetime_s:
            return _reject(Rejection.CODE_EXPIRED, "pass", facts)
        scope = self._scope(facts, now)
        if scope is not None:
            return _reject(scope, "pass", facts)
        subject = facts.pass_id.bytes
        if self.deny.denies(DenyKind.PASS, subject) or self.deny.denies(DenyKind.DEVICE, seen.device_subject):
            return _reject(Rejection.DENIED, "pass", facts)
        direction = self.gate.direction
        memo = self.memory.check_code(subject, code.timestamp, code.counter, direction, now)
        if memo is not None:
            return _reject(memo, "pass", facts)
        self.memory.remember_code(subject, code.timestamp, code.counter, direction, now)
        return Verdict(True, None, "pass", facts, code.timestamp, code.counter, seen.device_subject)

    def _paper(self, data: bytes, now: int) -> Verdict:
        try:
            ticket = decode_paper(data)
        except MalformedCode as exc:
            return _reject(Rejection(exc.reason), "paper")
        facts = ticket.facts
        key = self.trust.get(ticket.kid)
        if key is None:
            return _reject(Rejection.UNKNOWN_KID, "paper", facts)
        if not key.usable(now, facts.valid_from):
            return _reject(Rejection.KEY_NOT_VALID, "paper", facts)
        if not self.verifier.verify(key.public_key, ticket.signature, ticket.signed_bytes):
            return _reject(Rejection.FORGED, "paper", facts)
        scope = self._scope(facts, now)
        if scope is not None:
            return _reject(scope, "paper", facts)
        subject = facts.pass_id.bytes
        direction = self.gate.direction
        if self.deny.denies(DenyKind.PASS, subject):
            return _reject(Rejection.DENIED, "paper", facts)
        if direction is Direction.IN and self.deny.denies(DenyKind.TICKET_ENTERED, subject):
            return _reject(Rejection.TICKET_USED, "paper", facts)
        used = self.memory.check_ticket(subject, direction)
        if used is not None:
            return _reject(used, "paper", facts)
        drop_after = now + 86_400 if facts.valid_until == NO_EXPIRY else facts.valid_until
        self.memory.remember_ticket(subject, direction, drop_after, now)
        return Verdict(True, None, "paper", facts)
