"""Bitstring Status List v1.0 (W3C Recommendation): the list credential and its bit order.

* Size: at least 131,072 entries (16 KB uncompressed) so that one certificate's position hides in
  a crowd ("herd privacy"); positions are allocated at random, never sequentially.
* ``encodedList``: the bitstring GZIP-compressed, then base64url without padding, with the
  multibase prefix ``u``. Index 0 is the left-most (most significant) bit of the first byte.
* One list per purpose (``revocation`` — final; ``suspension`` — reversible) and authority; the
  list is itself a ``vc+jwt`` signed by the authority, short-lived (``validUntil``) and cacheable.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from adapters.vc.credential import VC_CONTEXT, Issuers, iso

MIN_SIZE = 131_072
TTL = timedelta(minutes=5)


def encode(size: int, set_indexes: Iterable[int]) -> str:
    bits = bytearray(size // 8)
    for i in set_indexes:
        bits[i // 8] |= 0x80 >> (i % 8)
    compressed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def decode(encoded: str) -> bytes:
    if not encoded.startswith("u"):
        raise ValueError("encodedList must be multibase base64url ('u' prefix)")
    raw = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))


def bit(bits: bytes, index: int) -> bool:
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def list_credential(issuers: Issuers, authority_code: str, list_id: object, purpose: str, size: int,
                    set_indexes: Iterable[int], now: datetime) -> dict[str, Any]:
    url = issuers.status_list_url(list_id)
    issuer = issuers.issuer_id(authority_code)
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": iso(now),
        "validUntil": iso(now + TTL),
        "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": purpose,
                              "encodedList": encode(size, set_indexes)},
        "iss": issuer, "jti": url, "iat": int(now.timestamp()), "exp": int((now + TTL).timestamp()),
    }


def signed_list(issuers: Issuers, authority_code: str, list_id: object, purpose: str, size: int,
                set_indexes: Iterable[int], now: datetime) -> str:
    return issuers.sign(authority_code, list_credential(issuers, authority_code, list_id, purpose, size,
                                                        set_indexes, now))


class Publisher:
    """Serves signed status list credentials, re-signing only when a bit flipped (the list's
    ``version`` changed) or the cached credential is within a minute of its ``validUntil``."""

    REFRESH_BEFORE = timedelta(minutes=1)

    def __init__(self, issuers: Issuers, max_entries: int = 256) -> None:
        self.issuers = issuers
        self.max_entries = max_entries
        self._cache: dict[object, tuple[int, datetime, str]] = {}

    def get(self, list_id: object, authority_code: str, purpose: str, size: int, version: int,
            set_indexes: Iterable[int], now: datetime) -> tuple[str, datetime]:
        """The signed list and when it expires (for ``Cache-Control: max-age``)."""
        hit = self._cache.get(list_id)
        if hit is not None and hit[0] == version and now < hit[1] - self.REFRESH_BEFORE:
            return hit[2], hit[1]
        token = signed_list(self.issuers, authority_code, list_id, purpose, size, set_indexes, now)
        if len(self._cache) >= self.max_entries:
            self._cache.pop(next(iter(self._cache)))
        self._cache[list_id] = (version, now + TTL, token)
        return token, now + TTL
