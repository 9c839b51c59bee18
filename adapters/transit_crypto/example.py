"""The worked example of docs/transit-qr.md, computed from fixed inputs.

    uv run python -m adapters.transit_crypto.example            # print the values as Markdown
    uv run python -m adapters.transit_crypto.example --images docs   # also write the QR as PNG + SVG

Both private keys are derived from public strings, so they are *test keys*: never trust kid 1 in a
production gate. Signatures use RFC 6979 deterministic nonces, so every run prints the same bytes;
a phone's keystore signs with random nonces, which gates verify just the same.
"""

from __future__ import annotations

import argparse
import hashlib
import uuid
from pathlib import Path

import msgspec

from adapters.transit_crypto.offline import b64u
from adapters.transit_crypto.p256 import N, P256Signer, from_scalar
from adapters.transit_images.render import QrImages, qr_version
from domain.transit.codes import Network, ProductKind
from domain.transit.denylist import DenyEntry, DenyKind, ListType
from domain.transit.issuing import sign_credential, sign_deny_list
from domain.transit.qr import PassFacts, assemble_code, code_to_sign
from domain.transit.trust import IssuerKey

ISSUER_SEED = "thudo transit example issuer key"
DEVICE_SEED = "thudo transit example device key"
KID = 1
PASS_ID = uuid.UUID("01929c4e-7a00-7000-8000-000000000001")
REVOKED_ID = uuid.UUID("01929c4e-7a00-7000-8000-0000000000ff")
VALID_FROM = 1_790_787_600    # 2026-10-01T00:00:00+07:00
VALID_UNTIL = 1_793_465_999   # 2026-10-31T23:59:59+07:00
ISSUED_AT = 1_791_158_400     # 2026-10-05T07:00:00+07:00
EXPIRES_AT = 1_791_417_600    # 2026-10-08T07:00:00+07:00 (72 h)
TIMESTAMP = 1_791_162_900     # 2026-10-05T08:15:00+07:00
COUNTER = 7
GATE_TIME = 1_791_162_905     # the gate scans 5 s later
KEY_FROM = 1_767_200_400      # 2026-01-01T00:00:00+07:00
KEY_UNTIL = 1_830_272_399     # 2027-12-31T23:59:59+07:00


def scalar(seed: str) -> int:
    return int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big") % N


class Example(msgspec.Struct, frozen=True):
    issuer_private: int
    issuer_public: bytes
    device_private: int
    device_public: bytes
    issuer_key: IssuerKey
    facts: PassFacts
    credential: bytes
    code: bytes
    deny_snapshot: bytes
    qr_version: int


def build() -> Example:
    issuer = P256Signer(from_scalar(scalar(ISSUER_SEED)), kid=KID)
    device = P256Signer(from_scalar(scalar(DEVICE_SEED)))
    facts = PassFacts(PASS_ID, ProductKind.MONTHLY_ALL, 1, Network.BUS | Network.METRO, 0, VALID_FROM, VALID_UNTIL)
    credential = sign_credential(issuer, facts, device.public_key, ISSUED_AT, EXPIRES_AT)
    signed = code_to_sign(credential, TIMESTAMP, COUNTER)
    code = assemble_code(signed, device.sign(signed))
    deny = sign_deny_list(issuer, ListType.SNAPSHOT, 0, 42, GATE_TIME - 600,
                          [DenyEntry(DenyKind.PASS, REVOKED_ID.bytes, VALID_UNTIL)])
    return Example(scalar(ISSUER_SEED), issuer.public_key, scalar(DEVICE_SEED), device.public_key,
                   IssuerKey(KID, issuer.public_key, KEY_FROM, KEY_UNTIL), facts, credential, code, deny,
                   qr_version(code))


def hex_lines(data: bytes, width: int = 32) -> str:
    return "\n".join(data[i:i + width].hex(" ") for i in range(0, len(data), width))


def markdown(ex: Example) -> str:
    c = ex.code
    rows = [
        ("magic, version, kind", c[0:3]), ("kid", c[3:7]), ("pass id", c[7:23]),
        ("product, category, networks", c[23:26]), ("route", c[26:28]), ("pass valid from", c[28:32]),
        ("pass valid until", c[32:36]), ("credential issued", c[36:40]), ("credential expires", c[40:44]),
        ("device public key", c[44:77]), ("issuer signature r", c[77:109]), ("issuer signature s", c[109:141]),
        ("device timestamp", c[141:145]), ("counter", c[145:147]), ("device signature r", c[147:179]),
        ("device signature s", c[179:211]),
    ]
    table = "\n".join(f"| {name} | `{part.hex()}` |" for name, part in rows)
    return f"""Issuer private key d (test only) = `{ex.issuer_private:064x}`
Issuer public key, kid {KID} (SEC1 compressed) = `{ex.issuer_public.hex()}`
Device private key d (test only) = `{ex.device_private:064x}`
Device public key (SEC1 compressed) = `{ex.device_public.hex()}`

Published key set (validator API `GET /api/v1/transit/validator/keys`):

```json
{{"keys":[{{"kid":{KID},"public_key":"{b64u(ex.issuer_public)}","valid_from":{KEY_FROM},"valid_until":{KEY_UNTIL},"alg":"ES256"}}]}}
```

The 211-byte code, field by field:

| field | bytes (hex) |
| --- | --- |
{table}

The whole code (hex, 32 bytes a line):

```
{hex_lines(ex.code)}
```

As the QR symbol: byte mode, error correction M, version {ex.qr_version} (57 x 57 modules),
[transit-qr-example.png](transit-qr-example.png) / [transit-qr-example.svg](transit-qr-example.svg).

Deny-list snapshot (sequence 42, one revoked pass `{REVOKED_ID}`, issued at {GATE_TIME - 600}):

```
{hex_lines(ex.deny_snapshot)}
```
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=Path, help="directory to write transit-qr-example.png/.svg into")
    args = parser.parse_args()
    ex = build()
    print(markdown(ex))
    if args.images:
        images = QrImages(box_size=8)
        (args.images / "transit-qr-example.png").write_bytes(images.png(ex.code))
        (args.images / "transit-qr-example.svg").write_text(images.svg(ex.code))


if __name__ == "__main__":
    main()
