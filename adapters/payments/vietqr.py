"""VietQR payloads: EMVCo "QR Code Specification for Payment Systems — Merchant-Presented Mode"
as profiled by NAPAS 247, and their rendering as PNG/SVG with ``qrcode``.

A payload is a string of ID/length/value fields (two-digit id, two-digit length, value). The ones
we emit, in order:

    00 "01"                payload format indicator
    01 "12"                point of initiation: dynamic (one payment); "11" = static
    38 ...                 merchant account information (NAPAS):
       00 "A000000727"       NAPAS GUID
       01 ...                beneficiary: 00 acquirer bank BIN (6 digits), 01 account number
       02 "QRIBFTTA"         service: transfer to an account ("QRIBFTTC" = to a card)
    53 "704"               currency (ISO 4217 numeric: VND)
    54 amount              integer VND
    58 "VN"                country
    62 ...                 additional data: 08 purpose of transaction (our reference, the memo)
    63 CRC                 CRC-16/CCITT-FALSE over everything before it including "6304", 4 hex digits
"""

from __future__ import annotations

import binascii
import re

from adapters import qr

NAPAS_GUID = "A000000727"
SERVICE_TO_ACCOUNT = "QRIBFTTA"
SERVICE_TO_CARD = "QRIBFTTC"
_MEMO_RE = re.compile(r"^[A-Za-z0-9 .\-]{1,25}$")


class VietQrError(ValueError):
    pass


def crc16_ccitt_false(data: bytes) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor) as 4 upper hex digits.

    ``binascii.crc_hqx`` is exactly this polynomial without reflection; the init value is its argument.
    """
    return f"{binascii.crc_hqx(data, 0xFFFF):04X}"


def field(tag: str, value: str) -> str:
    if len(tag) != 2 or not tag.isdigit():
        raise VietQrError(f"bad tag {tag!r}")
    if not 0 < len(value) <= 99:
        raise VietQrError(f"field {tag} length {len(value)} outside 1..99")
    return f"{tag}{len(value):02d}{value}"


def parse_fields(payload: str) -> dict[str, str]:
    """Top-level (or nested) ID/length/value fields; raises on a truncated or malformed string."""
    out: dict[str, str] = {}
    i = 0
    while i < len(payload):
        tag, length = payload[i:i + 2], payload[i + 2:i + 4]
        if len(tag) < 2 or not length.isdigit():
            raise VietQrError(f"malformed field at offset {i}")
        end = i + 4 + int(length)
        if end > len(payload):
            raise VietQrError(f"field {tag} runs past the end")
        out[tag] = payload[i + 4:end]
        i = end
    return out


def build_payload(*, bank_bin: str, account: str, amount: int | None, memo: str | None,
                  to_card: bool = False) -> str:
    if not (len(bank_bin) == 6 and bank_bin.isdigit()):
        raise VietQrError("bank BIN must be 6 digits")
    if not (account.isalnum() and 1 <= len(account) <= 19):
        raise VietQrError("account must be 1..19 letters or digits")
    beneficiary = field("00", bank_bin) + field("01", account)
    merchant = (field("00", NAPAS_GUID) + field("01", beneficiary)
                + field("02", SERVICE_TO_CARD if to_card else SERVICE_TO_ACCOUNT))
    parts = [field("00", "01"), field("01", "12" if amount else "11"), field("38", merchant), field("53", "704")]
    if amount is not None:
        if isinstance(amount, bool) or amount <= 0 or len(str(amount)) > 13:
            raise VietQrError("amount must be a positive integer of at most 13 digits")
        parts.append(field("54", str(amount)))
    parts.append(field("58", "VN"))
    if memo:
        if not _MEMO_RE.match(memo):
            raise VietQrError("memo must be 1..25 ASCII letters, digits, spaces, '.' or '-'")
        parts.append(field("62", field("08", memo)))
    body = "".join(parts) + "6304"
    return body + crc16_ccitt_false(body.encode("ascii"))


def check_crc(payload: str) -> bool:
    if len(payload) < 8 or payload[-8:-4] != "6304":
        return False
    return crc16_ccitt_false(payload[:-4].encode("ascii")) == payload[-4:].upper()


def render_png(payload: str) -> bytes:
    return qr.png(payload)


def render_svg(payload: str) -> bytes:
    return qr.svg(payload)
