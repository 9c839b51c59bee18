"""Checks a JSON Web Key that a city admin registers for a machine client (RFC 7517/7523)."""

from __future__ import annotations

from typing import Any

import jwt

from domain.errors import InvalidInput

_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k")


def check_public_jwk(jwk: dict[str, Any]) -> None:
    """Raise ``InvalidInput`` unless ``jwk`` is a usable EC, OKP or RSA public key."""
    if any(k in jwk for k in _PRIVATE_MEMBERS):
        raise InvalidInput("identity.jwk_private", field="public_jwk", rule="public_key_only")
    if jwk.get("kty") not in ("EC", "OKP", "RSA"):
        raise InvalidInput("identity.jwk_invalid", field="public_jwk.kty", rule="enum")
    try:
        jwt.PyJWK(jwk)
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        raise InvalidInput("identity.jwk_invalid", field="public_jwk", rule="invalid") from None
