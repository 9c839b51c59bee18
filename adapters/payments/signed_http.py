"""The signed HTTP protocol of our bank partner (and of the local stand-in that plays it).

Every message in both directions — notifications the bank POSTs to us, our status queries and
refund requests, and the bank's answers — carries three headers:

    X-Payment-Timestamp: 1767225600              Unix seconds when it was signed
    X-Payment-Nonce:     4b1d…                   unique per message (the event id of a notification)
    X-Payment-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<nonce>.<METHOD> <path>." + body)>

The method and path are part of what is signed so a signed answer cannot be replayed as a
request, nor a notification to another endpoint. Several secrets may verify (rotation); the first
one signs. Comparison is constant-time (``hmac.compare_digest``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping, Sequence

TIMESTAMP = "x-payment-timestamp"
NONCE = "x-payment-nonce"
SIGNATURE = "x-payment-signature"
_NONCE_MAX = 64


class SignatureError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _mac(secret: bytes, timestamp: str, nonce: str, target: str, body: bytes) -> str:
    msg = f"{timestamp}.{nonce}.{target}.".encode() + body
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()


def sign(secret: bytes, target: str, body: bytes, *, nonce: str | None = None,
         timestamp: int | None = None) -> dict[str, str]:
    """Headers for ``body`` sent to ``target`` ("POST /path")."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    n = nonce or secrets.token_hex(16)
    return {TIMESTAMP: ts, NONCE: n, SIGNATURE: "v1=" + _mac(secret, ts, n, target, body)}


def verify(secrets_: Sequence[bytes], target: str, headers: Mapping[str, str], body: bytes) -> tuple[int, str]:
    """(timestamp, nonce) of an authentic message; ``SignatureError`` otherwise.

    ``headers`` must have lower-case names. The caller enforces the replay window and nonce reuse.
    """
    ts, nonce, given = headers.get(TIMESTAMP, ""), headers.get(NONCE, ""), headers.get(SIGNATURE, "")
    if not given:
        raise SignatureError("unsigned")
    if not ts.isdigit() or len(ts) > 12 or not nonce or len(nonce) > _NONCE_MAX or not nonce.isascii():
        raise SignatureError("malformed")
    if not given.startswith("v1="):
        raise SignatureError("bad_signature")
    ok = False
    for secret in secrets_:
        # Every candidate is compared (no early exit) so timing does not reveal which one matched.
        ok |= hmac.compare_digest(given[3:].encode(), _mac(secret, ts, nonce, target, body).encode())
    if not ok:
        raise SignatureError("bad_signature")
    return int(ts), nonce
