"""Client credentials with ``private_key_jwt`` (RFC 7523) for medical facilities and validators."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import jwt
from litestar import Request

from adapters.postgres.uow import PgUnitOfWork
from api import i18n
from api.container import Container
from api.identity_schemas import TokenForm
from api.identity_setup import token_endpoint
from api.identity_support import rate_limit
from domain.errors import Unauthenticated
from domain.identity.principal import PrincipalKind
from domain.identity.tokens import AccessClaims

MAX_ASSERTION_LIFETIME_S = 300
LEEWAY_S = 30
# Algorithms allowed per key type: never "none", never HMAC (a public key is not a shared secret).
ALGS_BY_KTY = {"EC": ["ES256", "ES384"], "OKP": ["EdDSA"], "RSA": ["RS256", "PS256"]}


def _invalid() -> Unauthenticated:
    return Unauthenticated("identity.client_assertion_invalid")


async def issue_client_token(request: Request[Any, Any, Any], container: Container, uow: PgUnitOfWork,
                             form: TokenForm) -> dict[str, Any]:
    # grant_type and client_assertion_type are pinned by the TokenForm schema (422 otherwise).
    try:
        unverified = jwt.decode(form.client_assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise _invalid() from None
    client_id = unverified.get("iss")
    if not isinstance(client_id, str) or not client_id or len(client_id) > 200:
        raise _invalid()
    await rate_limit(request, container, "token", account=client_id)
    row = await uow.conn.fetchrow(
        "SELECT id, kind, public_jwk FROM api_clients WHERE client_id = $1 AND revoked_at IS NULL", client_id)
    if row is None:
        raise _invalid()
    claims = _verify(form.client_assertion, row["public_jwk"], client_id, token_endpoint(container.settings))
    first_use = await uow.conn.fetchval(
        """INSERT INTO client_assertion_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING true""",
        client_id, str(claims["jti"]), dt.datetime.fromtimestamp(int(claims["exp"]) + LEEWAY_S, dt.UTC))
    if not first_use:
        raise Unauthenticated("identity.client_assertion_replayed")
    await uow.conn.execute("DELETE FROM client_assertion_jtis WHERE expires_at < now() AND client_id = $1", client_id)
    identity = container.identity
    assert identity is not None
    token = identity.signer.issue(AccessClaims(subject=row["id"], kind=PrincipalKind.CLIENT, roles=(row["kind"],)))
    return {"access_token": token, "token_type": "Bearer", "expires_in": identity.signer.ttl_seconds}


def _verify(assertion: str, jwk: dict[str, Any], client_id: str, audience: str) -> dict[str, Any]:
    try:
        key = jwt.PyJWK(jwk)
        algorithms = ALGS_BY_KTY.get(str(jwk.get("kty")), [])
        header = jwt.get_unverified_header(assertion)
        if header.get("alg") not in algorithms:
            raise _invalid()
        claims: dict[str, Any] = jwt.decode(
            assertion, key.key, algorithms=algorithms, audience=audience, issuer=client_id, leeway=LEEWAY_S,
            options={"require": ["iss", "sub", "aud", "exp", "jti"]})
    except (jwt.PyJWTError, ValueError, TypeError):
        raise _invalid() from None
    now = time.time()
    issued = float(claims.get("iat", now))
    if claims["sub"] != client_id or not isinstance(claims["jti"], str) or not 0 < len(claims["jti"]) <= 200:
        raise _invalid()
    if claims["exp"] - now > MAX_ASSERTION_LIFETIME_S + LEEWAY_S or claims["exp"] - issued > MAX_ASSERTION_LIFETIME_S:
        raise _invalid()
    return claims


i18n.register({
    "identity.client_assertion_invalid": {"vi": "Xác thực ứng dụng không hợp lệ",
                                          "en": "The client assertion is invalid"},
    "identity.client_assertion_replayed": {"vi": "client_assertion đã được sử dụng",
                                           "en": "This client assertion was already used"},
})
