"""ID token validation: every check of OpenID Connect Core §3.1.3.7 that applies to a confidential
client, with a pinned algorithm allow-list. Failures raise ``Unauthenticated`` with a stable code."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import jwt

from adapters.vneid import errors
from adapters.vneid.config import VNeIDConfig
from adapters.vneid.discovery import JwksCache
from adapters.vneid.keys import b64url

_HASHES = {"RS256": hashlib.sha256, "ES256": hashlib.sha256, "PS256": hashlib.sha256}


def _header(token: str, allowed: tuple[str, ...]) -> tuple[str, str]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        errors.reject(errors.TOKEN_INVALID, "id token is not a JWS")
    alg, kid = header.get("alg"), header.get("kid")
    # The allow-list is ours, never the token's: this refuses "none" and every HS* (including an
    # HMAC keyed with the provider's public key). jku/x5u/jwk headers are never read.
    if not isinstance(alg, str) or alg not in allowed:
        errors.reject(errors.TOKEN_INVALID, "id token algorithm is not allowed")
    if not isinstance(kid, str) or not kid:
        errors.reject(errors.TOKEN_INVALID, "id token has no kid")
    if header.get("crit"):
        errors.reject(errors.TOKEN_INVALID, "id token has critical header extensions")
    return alg, kid


def _left_half_hash(value: str, alg: str) -> str:
    digest = _HASHES[alg](value.encode("ascii")).digest()
    return b64url(digest[: len(digest) // 2])


async def validate_id_token(token: str, *, config: VNeIDConfig, jwks: JwksCache, nonce: str,
                            access_token: str | None, now: float | None = None) -> dict[str, Any]:
    alg, kid = _header(token, config.algorithms)
    key = await jwks.key(kid)
    if not key.fits(alg):
        errors.reject(errors.TOKEN_INVALID, "published key does not fit the token algorithm")
    now = time.time() if now is None else now
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key.key, algorithms=[alg], options={
                "require": ["iss", "sub", "aud", "exp", "iat"], "verify_exp": False, "verify_nbf": False,
                "verify_iat": False, "verify_aud": False, "verify_iss": False},
        )
    except jwt.MissingRequiredClaimError:
        errors.reject(errors.TOKEN_INVALID, "id token lacks a required claim")
    except jwt.PyJWTError:
        errors.reject(errors.TOKEN_INVALID, "id token signature is invalid")
    _check_claims(claims, config=config, nonce=nonce, now=now)
    if "at_hash" in claims and access_token is not None and \
            not hmac.compare_digest(str(claims["at_hash"]), _left_half_hash(access_token, alg)):
        errors.reject(errors.TOKEN_INVALID, "at_hash does not match the access token")
    return claims


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        errors.reject(errors.TOKEN_INVALID, f"{name} is not a number")
    return float(value)


def _check_claims(claims: dict[str, Any], *, config: VNeIDConfig, nonce: str, now: float) -> None:
    # Time and audience checks are done here rather than by PyJWT so each failure gets its own code.
    skew = config.leeway_seconds
    if claims["iss"] != config.issuer:
        errors.reject(errors.ISSUER_MISMATCH, "id token issuer differs from configuration")
    aud = claims["aud"]
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if config.client_id not in audiences:
        errors.reject(errors.AUDIENCE_MISMATCH, "id token is not addressed to this client")
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != config.client_id:
        errors.reject(errors.AUDIENCE_MISMATCH, "id token authorized party is another client")
    if _number(claims, "exp") <= now - skew:
        errors.reject(errors.TOKEN_EXPIRED, "id token has expired")
    if "nbf" in claims and _number(claims, "nbf") > now + skew:
        errors.reject(errors.TOKEN_NOT_YET_VALID, "id token is not valid yet")
    if _number(claims, "iat") > now + skew:
        errors.reject(errors.TOKEN_NOT_YET_VALID, "id token was issued in the future")
    token_nonce = claims.get("nonce")
    if not isinstance(token_nonce, str) or not hmac.compare_digest(token_nonce.encode(), nonce.encode()):
        errors.reject(errors.NONCE_MISMATCH, "id token nonce differs from the login transaction")
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        errors.reject(errors.TOKEN_INVALID, "id token subject is empty")
