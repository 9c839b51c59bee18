"""The signed deny list: what gates must refuse although its signatures are fine.

Every addition gets the next sequence number on the server. Gates hold the list and the number of
the last entry they applied; they fetch either a *delta* (entries after N) or a *snapshot* (all
live entries). Both travel as one issuer-signed binary document (kind 0x10)::

     0  1  magic 0x54
     1  1  version 0x01
     2  1  kind 0x10
     3  4  issuer kid
     7  1  list type: 0 snapshot, 1 delta
     8  8  from_seq (delta: the gate's N; snapshot: 0)
    16  8  to_seq (the sequence number of the last entry included, or of the list)
    24  4  issued_at (epoch seconds)
    28  4  entry count n
    32  21*n entries: kind (1), subject (16), drop_after (4, epoch seconds)
    32+21n 64 issuer signature over all preceding bytes

Entry kinds: 1 pass revoked (subject = pass id), 2 device unbound (subject = first 16 bytes of
SHA-256 of the device public key), 3 paper ticket entered (subject = ticket id; blocks a second
entry, not the exit). A gate may forget an entry after ``drop_after`` (the pass or ticket has
expired by then, so the credential is refused anyway).
"""

from __future__ import annotations

import hashlib
import struct
import uuid
from collections.abc import Callable
from enum import IntEnum

import msgspec

from domain.transit.qr import KIND_DENY_LIST, MAGIC, SIG_LEN, VERSION, MalformedCode, peek_kind

_HEAD = struct.Struct(">BBBIBQQII")   # 32 bytes
_ENTRY = struct.Struct(">B16sI")      # 21 bytes

HEAD_LEN = _HEAD.size
ENTRY_LEN = _ENTRY.size


class DenyKind(IntEnum):
    PASS = 1
    DEVICE = 2
    TICKET_ENTERED = 3


class ListType(IntEnum):
    SNAPSHOT = 0
    DELTA = 1


class DenyEntry(msgspec.Struct, frozen=True):
    kind: DenyKind
    subject: bytes          # 16 bytes
    drop_after: int         # epoch seconds
    seq: int = 0            # server-side sequence number (not in the document per entry)


class DenyDocument(msgspec.Struct, frozen=True):
    kid: int
    list_type: ListType
    from_seq: int
    to_seq: int
    issued_at: int
    entries: tuple[DenyEntry, ...]
    signature: bytes
    raw: bytes

    @property
    def signed_bytes(self) -> bytes:
        return self.raw[:-SIG_LEN]


def device_subject(device_key: bytes) -> bytes:
    """The deny-list subject of a device key: the first 16 bytes of its SHA-256."""
    return hashlib.sha256(device_key).digest()[:16]


def pass_subject(pass_id: uuid.UUID) -> bytes:
    return pass_id.bytes


def deny_to_sign(kid: int, list_type: ListType, from_seq: int, to_seq: int, issued_at: int,
                 entries: list[DenyEntry] | tuple[DenyEntry, ...]) -> bytes:
    if from_seq > to_seq:
        raise ValueError("from_seq after to_seq")
    if list_type is ListType.SNAPSHOT and from_seq != 0:
        raise ValueError("a snapshot starts at 0")
    parts = [_HEAD.pack(MAGIC, VERSION, KIND_DENY_LIST, kid, int(list_type), from_seq, to_seq, issued_at,
                        len(entries))]
    for e in entries:
        if len(e.subject) != 16:
            raise ValueError("deny subject must be 16 bytes")
        parts.append(_ENTRY.pack(int(e.kind), e.subject, e.drop_after))
    return b"".join(parts)


def decode_deny(data: bytes) -> DenyDocument:
    if len(data) < HEAD_LEN + SIG_LEN or peek_kind(data) != KIND_DENY_LIST:
        raise MalformedCode()
    _, _, _, kid, list_type, from_seq, to_seq, issued_at, count = _HEAD.unpack_from(data)
    if len(data) != HEAD_LEN + count * ENTRY_LEN + SIG_LEN or list_type not in (0, 1) or from_seq > to_seq:
        raise MalformedCode()
    entries = []
    for i in range(count):
        kind, subject, drop_after = _ENTRY.unpack_from(data, HEAD_LEN + i * ENTRY_LEN)
        if kind not in (1, 2, 3):
            raise MalformedCode()
        entries.append(DenyEntry(DenyKind(kind), subject, drop_after))
    return DenyDocument(kid, ListType(list_type), from_seq, to_seq, issued_at, tuple(entries),
                        data[-SIG_LEN:], data)


class DenyListGap(Exception):
    """A delta that does not start where the gate's list ends: fetch a snapshot instead."""


class DenyListRejected(Exception):
    """The document's signature, key or freshness is not acceptable; the gate keeps its list."""


# (kid, now, signed_at) -> the key's public bytes when usable, else None
KeyLookup = Callable[[int, int, int], "bytes | None"]
Verify = Callable[[bytes, bytes, bytes], bool]


class DenySet:
    """A gate's copy of the deny list. ``seq`` is the last server sequence number applied."""

    def __init__(self) -> None:
        self.seq = 0
        self._entries: dict[tuple[int, bytes], int] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def denies(self, kind: DenyKind, subject: bytes) -> bool:
        return (int(kind), subject) in self._entries

    def apply(self, data: bytes, key_for: KeyLookup, verify: Verify, now: int) -> DenyDocument:
        """Verify and apply a snapshot or a delta; raises ``DenyListRejected``/``DenyListGap``
        and leaves the set untouched on any problem."""
        try:
            doc = decode_deny(data)
        except MalformedCode:
            raise DenyListRejected("malformed") from None
        public = key_for(doc.kid, now, doc.issued_at)
        if public is None:
            raise DenyListRejected("key")
        if not verify(public, doc.signature, doc.signed_bytes):
            raise DenyListRejected("signature")
        if doc.to_seq < self.seq:
            raise DenyListRejected("older than the list held")
        if doc.list_type is ListType.DELTA:
            if doc.from_seq != self.seq:
                raise DenyListGap(f"delta starts at {doc.from_seq}, list is at {self.seq}")
            entries = dict(self._entries)
        else:
            entries = {}
        for e in doc.entries:
            if e.drop_after >= now:
                entries[(int(e.kind), e.subject)] = max(e.drop_after, entries.get((int(e.kind), e.subject), 0))
        self._entries = entries
        self.seq = doc.to_seq
        return doc

    def prune(self, now: int) -> int:
        stale = [k for k, drop_after in self._entries.items() if drop_after < now]
        for k in stale:
            del self._entries[k]
        return len(stale)
