"""Stable error codes of the e-ID relying party and the helpers that raise them.

Validation failures are ``Unauthenticated`` (the login is refused); provider or network failures
are ``Unavailable`` (the app may retry). Messages never carry token contents or personal data: the
code says what failed, the texts live in ``api/identity/eid_texts.py``.
"""

from __future__ import annotations

import logging
from typing import NoReturn

from domain.errors import Unauthenticated, Unavailable

log = logging.getLogger("thudo.vneid")

UNAVAILABLE = "identity.eid_unavailable"
DISCOVERY_INVALID = "identity.eid_discovery_invalid"
CODE_REJECTED = "identity.eid_code_rejected"
TOKEN_INVALID = "identity.eid_token_invalid"  # noqa: S105 - an error code
KEY_UNKNOWN = "identity.eid_key_unknown"
ISSUER_MISMATCH = "identity.eid_issuer_mismatch"
RESPONSE_ISSUER_MISMATCH = "identity.eid_response_issuer_mismatch"
AUDIENCE_MISMATCH = "identity.eid_audience_mismatch"
TOKEN_EXPIRED = "identity.eid_token_expired"  # noqa: S105 - an error code
TOKEN_NOT_YET_VALID = "identity.eid_token_not_yet_valid"  # noqa: S105 - an error code
NONCE_MISMATCH = "identity.eid_nonce_mismatch"
USERINFO_MISMATCH = "identity.eid_userinfo_mismatch"
CLAIMS_INVALID = "identity.eid_claims_invalid"

ALL_CODES = (UNAVAILABLE, DISCOVERY_INVALID, CODE_REJECTED, TOKEN_INVALID, KEY_UNKNOWN, ISSUER_MISMATCH,
             AUDIENCE_MISMATCH, TOKEN_EXPIRED, TOKEN_NOT_YET_VALID, NONCE_MISMATCH, USERINFO_MISMATCH,
             CLAIMS_INVALID, RESPONSE_ISSUER_MISMATCH)


def reject(code: str, reason: str) -> NoReturn:
    """Refuse the login. ``reason`` is a fixed developer phrase (never token data) for the log."""
    log.warning("e-ID login rejected", extra={"code": code, "reason": reason})
    raise Unauthenticated(code)


def unavailable(code: str, reason: str, retry_after: int = 5) -> NoReturn:
    log.error("e-ID provider unavailable", extra={"code": code, "reason": reason})
    raise Unavailable(retry_after, code)
