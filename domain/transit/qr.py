"""The transit QR byte format, version 1 ("TQR1"), encoded and decoded in pure Python.

This module *is* the format; docs/transit-qr.md describes the same bytes for gate vendors and
tests/unit/test_transit_qr.py pins the worked example of that document.

All integers are unsigned big-endian; times are whole seconds since the Unix epoch (UTC).
Every document starts with the same three bytes: magic ``0x54`` ("T"), format version ``0x01``,
document kind. Signatures are ECDSA P-256 / SHA-256 as raw ``r || s`` (2 x 32 bytes, IEEE P1363,
the JWS "ES256" form); public keys are SEC1 compressed points (33 bytes). Signing and verifying
happen behind the ports in ``domain.transit.ports``; this module only lays out bytes.

Dynamic code (kind 0x01), 211 bytes::

    credential (141 bytes, from the server, changes at most every refresh)
       0  1  magic 0x54          |
       1  1  version 0x01        |
       2  1  kind 0x01           |
       3  4  issuer kid          |
       7 16  pass id (UUID)      |  issuer-signed part, 77 bytes
      23  1  product kind        |
      24  1  passenger category  |
      25  1  networks (bit set)  |
      26  2  route (0 = all)     |
      28  4  pass valid from     |
      32  4  pass valid until    |  (0xFFFFFFFF = no expiry)
      36  4  credential issued   |
      40  4  credential expires  |
      44 33  device public key   |
      77 64  issuer signature over bytes 0..76
    dynamic part (70 bytes, made by the phone every refresh)
     141  4  device timestamp
     145  2  counter (per credential, wraps)
     147 64  device signature over bytes 0..146

Paper single-ride ticket (kind 0x02), 100 bytes: bytes 0..35 as the credential's 0..35 with the
ticket id in place of the pass id and no credential/device fields, then the issuer signature
over bytes 0..35.

Deny list (kind 0x10): see ``domain.transit.denylist``.
"""

from __future__ import annotations

import struct
import uuid

import msgspec

from domain.transit.codes import Network, ProductKind

MAGIC = 0x54
VERSION = 1
KIND_DYNAMIC = 0x01
KIND_PAPER = 0x02
KIND_DENY_LIST = 0x10

SIG_LEN = 64
KEY_LEN = 33

# Longest offline life of a credential (spec: pass credentials live at most 72 h offline).
MAX_CREDENTIAL_SECONDS = 72 * 3600

_HEADER = struct.Struct(">BBB")
_CRED_SIGNED = struct.Struct(">BBBI16sBBBHIIII33s")       # 77 bytes
_PAPER_SIGNED = struct.Struct(">BBBI16sBBBHII")           # 36 bytes
_DYNAMIC_TAIL = struct.Struct(">IH")                       # 6 bytes

CRED_SIGNED_LEN = _CRED_SIGNED.size
CREDENTIAL_LEN = CRED_SIGNED_LEN + SIG_LEN                 # 141
CODE_SIGNED_LEN = CREDENTIAL_LEN + _DYNAMIC_TAIL.size      # 147
CODE_LEN = CODE_SIGNED_LEN + SIG_LEN                       # 211
PAPER_SIGNED_LEN = _PAPER_SIGNED.size
PAPER_LEN = PAPER_SIGNED_LEN + SIG_LEN                     # 100

U32_MAX = 0xFFFF_FFFF


class MalformedCode(ValueError):
    """The bytes are not a well-formed TQR1 document. ``reason`` is "malformed" or
    "unsupported_version" (``domain.transit.codes.Rejection`` values)."""

    def __init__(self, reason: str = "malformed") -> None:
        super().__init__(reason)
        self.reason = reason


class PassFacts(msgspec.Struct, frozen=True):
    """What the issuer vouches for about a pass or a paper ticket (``pass_id`` is the ticket id)."""

    pass_id: uuid.UUID
    product: ProductKind
    category: int          # the passenger category's ``qr_code`` (1..255)
    networks: Network
    route: int             # 0 = all routes
    valid_from: int        # epoch seconds
    valid_until: int       # epoch seconds; NO_EXPIRY = never


class Credential(msgspec.Struct, frozen=True):
    """Level 1: the issuer-signed pass credential bound to one device key."""

    kid: int
    facts: PassFacts
    issued_at: int
    expires_at: int
    device_key: bytes      # SEC1 compressed P-256 point
    signature: bytes       # issuer's, over ``signed_bytes``
    raw: bytes             # the 141 bytes as transmitted

    @property
    def signed_bytes(self) -> bytes:
        return self.raw[:CRED_SIGNED_LEN]


class DynamicCode(msgspec.Struct, frozen=True):
    """Level 2: the credential plus the phone's timestamp, counter and signature."""

    credential: Credential
    timestamp: int
    counter: int
    signature: bytes       # device's, over ``signed_bytes``
    raw: bytes

    @property
    def signed_bytes(self) -> bytes:
        return self.raw[:CODE_SIGNED_LEN]


class PaperTicket(msgspec.Struct, frozen=True):
    kid: int
    facts: PassFacts
    signature: bytes
    raw: bytes

    @property
    def signed_bytes(self) -> bytes:
        return self.raw[:PAPER_SIGNED_LEN]


def _u32(name: str, value: int) -> int:
    if not 0 <= value <= U32_MAX:
        raise ValueError(f"{name} does not fit 32 bits")
    return value


def _check_facts(f: PassFacts) -> None:
    if not 1 <= f.category <= 255:
        raise ValueError("category must be 1..255")
    if not 0 <= f.route <= 0xFFFF:
        raise ValueError("route must be 0..65535")
    if not f.networks or int(f.networks) & ~3:
        raise ValueError("networks must be BUS, METRO or both")
    _u32("valid_from", f.valid_from)
    _u32("valid_until", f.valid_until)
    if f.valid_until < f.valid_from:
        raise ValueError("valid_until before valid_from")


def credential_to_sign(kid: int, facts: PassFacts, issued_at: int, expires_at: int, device_key: bytes) -> bytes:
    """The 77 bytes the issuer signs for a credential."""
    _check_facts(facts)
    if len(device_key) != KEY_LEN or device_key[0] not in (2, 3):
        raise ValueError("device key must be a 33-byte compressed SEC1 point")
    if not issued_at < expires_at <= issued_at + MAX_CREDENTIAL_SECONDS:
        raise ValueError("credential lifetime must be positive and at most 72 h")
    return _CRED_SIGNED.pack(MAGIC, VERSION, KIND_DYNAMIC, _u32("kid", kid), facts.pass_id.bytes,
                             int(facts.product), facts.category, int(facts.networks), facts.route,
                             facts.valid_from, facts.valid_until, _u32("issued_at", issued_at),
                             _u32("expires_at", expires_at), device_key)


def paper_to_sign(kid: int, facts: PassFacts) -> bytes:
    """The 36 bytes the issuer signs for a paper ticket."""
    _check_facts(facts)
    return _PAPER_SIGNED.pack(MAGIC, VERSION, KIND_PAPER, _u32("kid", kid), facts.pass_id.bytes,
                              int(facts.product), facts.category, int(facts.networks), facts.route,
                              facts.valid_from, facts.valid_until)


def _signature(sig: bytes) -> bytes:
    if len(sig) != SIG_LEN:
        raise ValueError("signature must be 64 bytes (r || s)")
    return sig


def assemble_credential(signed: bytes, issuer_signature: bytes) -> bytes:
    if len(signed) != CRED_SIGNED_LEN:
        raise ValueError("credential body must be 77 bytes")
    return signed + _signature(issuer_signature)


def code_to_sign(credential: bytes, timestamp: int, counter: int) -> bytes:
    """The 147 bytes the phone signs: the whole credential, its timestamp and counter."""
    if len(credential) != CREDENTIAL_LEN:
        raise ValueError("credential must be 141 bytes")
    if not 0 <= counter <= 0xFFFF:
        raise ValueError("counter must be 0..65535")
    return credential + _DYNAMIC_TAIL.pack(_u32("timestamp", timestamp), counter)


def assemble_code(signed: bytes, device_signature: bytes) -> bytes:
    if len(signed) != CODE_SIGNED_LEN:
        raise ValueError("code body must be 147 bytes")
    return signed + _signature(device_signature)


def assemble_paper(signed: bytes, issuer_signature: bytes) -> bytes:
    if len(signed) != PAPER_SIGNED_LEN:
        raise ValueError("ticket body must be 36 bytes")
    return signed + _signature(issuer_signature)


def _facts(pass_id: bytes, product: int, category: int, networks: int, route: int,
           valid_from: int, valid_until: int) -> PassFacts:
    try:
        kind = ProductKind(product)
    except ValueError:
        raise MalformedCode() from None
    if category == 0 or networks == 0 or networks & ~3 or valid_until < valid_from:
        raise MalformedCode()
    return PassFacts(uuid.UUID(bytes=pass_id), kind, category, Network(networks), route, valid_from, valid_until)


def peek_kind(data: bytes) -> int:
    """The document kind after checking magic and version; raises ``MalformedCode``."""
    if len(data) < _HEADER.size:
        raise MalformedCode()
    magic, version, kind = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise MalformedCode()
    if version != VERSION:
        raise MalformedCode("unsupported_version")
    return int(kind)


def decode_credential(data: bytes) -> Credential:
    if len(data) != CREDENTIAL_LEN or peek_kind(data) != KIND_DYNAMIC:
        raise MalformedCode()
    (_, _, _, kid, pass_id, product, category, networks, route, valid_from, valid_until, issued_at,
     expires_at, device_key) = _CRED_SIGNED.unpack_from(data)
    if device_key[0] not in (2, 3):
        raise MalformedCode()
    facts = _facts(pass_id, product, category, networks, route, valid_from, valid_until)
    return Credential(kid, facts, issued_at, expires_at, device_key, data[CRED_SIGNED_LEN:], data)


def decode_code(data: bytes) -> DynamicCode:
    """A dynamic code of exactly 211 bytes. A credential without its device part (141 or 147
    bytes) is *malformed*, and a gate must treat it as forged: there is no "unsigned" code."""
    if len(data) != CODE_LEN:
        peek_kind(data)
        raise MalformedCode()
    credential = decode_credential(data[:CREDENTIAL_LEN])
    timestamp, counter = _DYNAMIC_TAIL.unpack_from(data, CREDENTIAL_LEN)
    return DynamicCode(credential, timestamp, counter, data[CODE_SIGNED_LEN:], data)


def decode_paper(data: bytes) -> PaperTicket:
    if len(data) != PAPER_LEN or peek_kind(data) != KIND_PAPER:
        raise MalformedCode()
    (_, _, _, kid, ticket_id, product, category, networks, route, valid_from,
     valid_until) = _PAPER_SIGNED.unpack_from(data)
    facts = _facts(ticket_id, product, category, networks, route, valid_from, valid_until)
    return PaperTicket(kid, facts, data[PAPER_SIGNED_LEN:], data)


def decode_any(data: bytes) -> DynamicCode | PaperTicket:
    kind = peek_kind(data)
    if kind == KIND_DYNAMIC:
        return decode_code(data)
    if kind == KIND_PAPER:
        return decode_paper(data)
    raise MalformedCode()
