"""Access tokens as RFC 9068 JWTs (``typ: at+jwt``) signed with ES256 from the key ring.

Verification pins the algorithm, picks the key only by our own ``kid`` (``jku``/``jwk`` headers
are ignored), requires ``typ: at+jwt`` so an ID token can never pass as an access token, and
checks ``iss``/``aud``/``exp``/``nbf``/``iat`` with a small leeway.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt

from adapters.signing.keys import KeyRing
from domain.errors import Unauthenticated
from domain.identity.principal import PrincipalKind
from domain.identity.tokens import AccessClaims

ALGORITHMS = ["ES256"]
TYP = "at+jwt"
LEEWAY_S = 30
# Verified tokens remembered by their exact bytes: an app sends the same token for minutes, and an
# ECDSA verification costs ~0.2 ms. Only expiry needs re-checking on a hit (nbf/iat were checked and
# time only moves forward); revocation is checked separately on every request (session gate).
CACHE_MAX = 20_000


class JwtSigner:
    def __init__(self, ring: KeyRing, *, issuer: str, audience: str, ttl_seconds: int) -> None:
        if not 0 < ttl_seconds <= 900:
            raise ValueError("access tokens live at most 15 minutes")
        self._ring, self._issuer, self._audience = ring, issuer, audience
        self.ttl_seconds = ttl_seconds
        self._verified: dict[str, tuple[AccessClaims, float]] = {}

    def issue(self, claims: AccessClaims) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self._issuer, "aud": self._audience, "sub": str(claims.subject), "iat": now, "nbf": now,
            "exp": now + self.ttl_seconds, "jti": uuid.uuid4().hex, "kind": claims.kind.value,
            "roles": list(claims.roles), "acr": str(claims.level),
        }
        if claims.session_id is not None:
            payload["sid"] = str(claims.session_id)
        return jwt.encode(payload, self._ring.signing_key, algorithm="ES256",
                          headers={"kid": self._ring.signing_kid, "typ": TYP})

    def verify(self, token: str) -> AccessClaims:
        hit = self._verified.get(token)
        if hit is not None:
            if hit[1] + LEEWAY_S > time.time():
                return hit[0]
            del self._verified[token]
        claims, exp = self._verify(token)
        if len(self._verified) >= CACHE_MAX:
            self._verified.clear()
        self._verified[token] = (claims, exp)
        return claims

    def _verify(self, token: str) -> tuple[AccessClaims, float]:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("typ") != TYP or header.get("alg") not in ALGORITHMS:
                raise Unauthenticated("identity.token_invalid")
            key = self._ring.public_keys.get(str(header.get("kid")))
            if key is None:
                raise Unauthenticated("identity.token_invalid")
            payload = jwt.decode(token, key, algorithms=ALGORITHMS, audience=self._audience, issuer=self._issuer,
                                 leeway=LEEWAY_S,
                                 options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]})
            # Our tokens live ttl_seconds: a longer-lived one signed with our key (a leaked or misused key,
            # a bug elsewhere) is refused rather than honoured until its own exp.
            if float(payload["exp"]) - float(payload["iat"]) > self.ttl_seconds + LEEWAY_S:
                raise Unauthenticated("identity.token_invalid")
            kind = PrincipalKind(payload["kind"])
            sid = payload.get("sid")
            claims = AccessClaims(subject=uuid.UUID(payload["sub"]), kind=kind,
                                  roles=tuple(str(r) for r in payload["roles"]), level=int(payload["acr"]),
                                  session_id=uuid.UUID(sid) if sid else None)
            return claims, float(payload["exp"])
        except (jwt.PyJWTError, KeyError, ValueError, TypeError):
            raise Unauthenticated("identity.token_invalid") from None
