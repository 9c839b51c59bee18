"""Verifies RFC 7523 client assertions (``private_key_jwt``) with PyJWT."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import jwt

from domain.identity.clients import LEEWAY_S, MAX_ASSERTION_LIFETIME_S, AssertionClaims, invalid_assertion

# Algorithms allowed per key type: never "none", never HMAC (a public key is not a shared secret).
ALGS_BY_KTY = {"EC": ["ES256", "ES384"], "OKP": ["EdDSA"], "RSA": ["RS256", "PS256"]}


class JwtAssertionVerifier:
    def claimed_client(self, assertion: str) -> str | None:
        try:
            issuer = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            return None
        return issuer if isinstance(issuer, str) else None

    def verify(self, assertion: str, public_jwk: dict[str, Any], client_id: str, audience: str) -> AssertionClaims:
        try:
            key = jwt.PyJWK(public_jwk)
            algorithms = ALGS_BY_KTY.get(str(public_jwk.get("kty")), [])
            if jwt.get_unverified_header(assertion).get("alg") not in algorithms:
                raise invalid_assertion()
            claims: dict[str, Any] = jwt.decode(
                assertion, key.key, algorithms=algorithms, audience=audience, issuer=client_id, leeway=LEEWAY_S,
                options={"require": ["iss", "sub", "aud", "exp", "jti"]})
        except (jwt.PyJWTError, ValueError, TypeError):
            raise invalid_assertion() from None
        now = time.time()
        issued = float(claims.get("iat", now))
        jti = claims["jti"]
        if claims["sub"] != client_id or not isinstance(jti, str) or not 0 < len(jti) <= 200:
            raise invalid_assertion()
        expires = claims["exp"]
        if expires - now > MAX_ASSERTION_LIFETIME_S + LEEWAY_S or expires - issued > MAX_ASSERTION_LIFETIME_S:
            raise invalid_assertion()
        return AssertionClaims(jti=jti, expires_at=dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC))
