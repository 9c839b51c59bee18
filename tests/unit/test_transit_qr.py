"""The TQR1 byte format: layout, sizes, round trips and what the decoder refuses."""

from __future__ import annotations

import struct
import uuid

import pytest

from domain.transit.codes import ALL_NETWORKS, Network, ProductKind
from domain.transit.denylist import DenyEntry, DenyKind, ListType, decode_deny, deny_to_sign
from domain.transit.qr import (
    CODE_LEN,
    CREDENTIAL_LEN,
    MAX_CREDENTIAL_SECONDS,
    PAPER_LEN,
    MalformedCode,
    PassFacts,
    code_to_sign,
    credential_to_sign,
    decode_any,
    decode_code,
    decode_credential,
    decode_paper,
    paper_to_sign,
)
from tests.support.transit import NOW, Issuer, monthly_facts, paper_facts, phone_with

DEVICE_KEY = b"\x02" + bytes(range(32))


def test_sizes_fit_the_qr_budget() -> None:
    assert (CREDENTIAL_LEN, CODE_LEN, PAPER_LEN) == (141, 211, 100)
    assert CODE_LEN <= 220  # QR version 10 at error correction M holds 213 bytes in byte mode


def test_credential_layout_is_the_documented_one() -> None:
    pid = uuid.UUID("01920000-0000-7000-8000-000000000001")
    facts = PassFacts(pid, ProductKind.MONTHLY_ROUTE, 2, Network.BUS, 34, 1_000, 2_000)
    body = credential_to_sign(0x01020304, facts, 1_500, 1_600, DEVICE_KEY)
    assert len(body) == 77
    assert body[:3] == b"T\x01\x01"
    assert body[3:7] == b"\x01\x02\x03\x04"
    assert body[7:23] == pid.bytes
    assert body[23:26] == bytes([4, 2, 1])
    assert body[26:28] == struct.pack(">H", 34)
    assert struct.unpack(">IIII", body[28:44]) == (1_000, 2_000, 1_500, 1_600)
    assert body[44:] == DEVICE_KEY


def test_code_round_trip_keeps_every_field() -> None:
    issuer = Issuer()
    facts = monthly_facts(route=12, networks=Network.BUS, product=ProductKind.MONTHLY_ROUTE)
    phone = phone_with(issuer, facts)
    data = phone.code(NOW)
    code = decode_code(data)
    assert len(data) == CODE_LEN
    assert code.credential.facts == facts
    assert code.credential.kid == issuer.key.kid
    assert code.credential.device_key == phone.public_key
    assert (code.timestamp, code.counter) == (NOW, 0)
    assert decode_code(phone.code(NOW + 15)).counter == 1
    assert code.signed_bytes == data[:147]
    assert code.signature == data[147:]
    assert decode_any(data) == code


def test_paper_round_trip() -> None:
    facts = paper_facts()
    data = Issuer().paper(facts)
    assert len(data) == PAPER_LEN
    assert data[:3] == b"T\x01\x02"
    assert decode_paper(data).facts == facts
    assert paper_to_sign(7, facts) == data[:36]


@pytest.mark.parametrize("mutate", [
    lambda d: d[:-1],                       # truncated
    lambda d: d + b"\x00",                  # trailing byte
    lambda d: b"X" + d[1:],                 # not our magic
    lambda d: d[:2] + b"\x09" + d[3:],      # unknown kind
    lambda d: d[:23] + b"\x63" + d[24:],    # unknown product kind
    lambda d: d[:25] + b"\x04" + d[26:],    # network bit that does not exist
    lambda d: d[:44] + b"\x05" + d[45:],    # device key not a compressed point
])
def test_decoder_refuses_malformed_codes(mutate: object) -> None:
    data = phone_with(Issuer(), monthly_facts()).code(NOW)
    with pytest.raises(MalformedCode) as err:
        decode_any(mutate(data))  # type: ignore[operator]
    assert err.value.reason == "malformed"


def test_another_version_is_reported_as_unsupported() -> None:
    data = phone_with(Issuer(), monthly_facts()).code(NOW)
    with pytest.raises(MalformedCode) as err:
        decode_any(data[:1] + b"\x02" + data[2:])
    assert err.value.reason == "unsupported_version"


def test_encoder_refuses_what_the_format_cannot_carry() -> None:
    facts = monthly_facts()
    with pytest.raises(ValueError, match="72 h"):
        credential_to_sign(1, facts, NOW, NOW + MAX_CREDENTIAL_SECONDS + 1, DEVICE_KEY)
    with pytest.raises(ValueError, match="compressed"):
        credential_to_sign(1, facts, NOW, NOW + 60, b"\x04" + bytes(32))
    with pytest.raises(ValueError, match="category"):
        paper_to_sign(1, PassFacts(uuid.uuid4(), ProductKind.DAY, 0, ALL_NETWORKS, 0, 1, 2))
    with pytest.raises(ValueError, match="counter"):
        code_to_sign(bytes(CREDENTIAL_LEN), NOW, 70_000)
    with pytest.raises(MalformedCode):
        decode_credential(bytes(CREDENTIAL_LEN))


def test_deny_document_round_trip() -> None:
    entries = [DenyEntry(DenyKind.PASS, uuid.uuid4().bytes, NOW + 10), DenyEntry(DenyKind.DEVICE, b"d" * 16, NOW)]
    body = deny_to_sign(7, ListType.DELTA, 5, 9, NOW, entries)
    doc = decode_deny(body + b"s" * 64)
    assert (doc.kid, doc.list_type, doc.from_seq, doc.to_seq, doc.issued_at) == (7, ListType.DELTA, 5, 9, NOW)
    assert [(e.kind, e.subject, e.drop_after) for e in doc.entries] == [(e.kind, e.subject, e.drop_after)
                                                                       for e in entries]
    with pytest.raises(MalformedCode):
        decode_deny(body + b"s" * 63)
    with pytest.raises(ValueError, match="snapshot"):
        deny_to_sign(7, ListType.SNAPSHOT, 5, 9, NOW, [])
