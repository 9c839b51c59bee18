"""docs/transit-qr.md's worked example: its bytes are what the code computes, and it verifies."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import zxingcpp
from PIL import Image

from adapters.transit_crypto.example import GATE_TIME, REVOKED_ID, TIMESTAMP, build, markdown
from adapters.transit_crypto.offline import OfflineVerifier, keys_from_json
from domain.transit.codes import Direction, Network, Rejection
from domain.transit.denylist import DenyKind
from domain.transit.validation import Gate

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_document_holds_the_computed_example() -> None:
    doc = (DOCS / "transit-qr.md").read_text()
    assert markdown(build()) in doc
    ex = build()
    assert hashlib.sha256(ex.code[:77]).hexdigest() in doc
    assert hashlib.sha256(ex.code[:147]).hexdigest() in doc


def test_example_verifies_with_only_the_published_json_and_the_deny_snapshot() -> None:
    ex = build()
    doc = (DOCS / "transit-qr.md").read_text()
    key_json = re.search(r'\{"keys":\[.*?\]\}', doc)
    assert key_json is not None
    gate = OfflineVerifier(Gate(Network.METRO, 3, Direction.IN), keys=keys_from_json(key_json.group(0)))
    gate.apply_deny_list(ex.deny_snapshot, GATE_TIME)
    assert gate.deny_seq == 42
    assert gate.deny.denies(DenyKind.PASS, REVOKED_ID.bytes)
    assert gate.verify(ex.code, GATE_TIME).accepted
    fresh = OfflineVerifier(Gate(Network.METRO, 3), keys=[ex.issuer_key])
    assert fresh.verify(ex.code, TIMESTAMP + 31).reason is Rejection.CODE_EXPIRED
    assert fresh.verify(ex.code, TIMESTAMP - 16).reason is Rejection.CODE_FROM_FUTURE
    for i in (5, 30, 60, 100, 146, 200):
        flipped = bytearray(ex.code)
        flipped[i] ^= 0x01
        assert not fresh.verify(bytes(flipped), GATE_TIME).accepted


def test_example_images_decode_to_the_example_bytes() -> None:
    [result] = zxingcpp.read_barcodes(Image.open(DOCS / "transit-qr-example.png"))
    assert bytes(result.bytes) == build().code
    assert (DOCS / "transit-qr-example.svg").read_text().startswith("<svg")
