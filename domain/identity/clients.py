"""Client credentials for machine callers (medical facilities, transit validators): RFC 7523.

A registered client proves itself with a short-lived JWT signed by its own key
(``private_key_jwt``); each assertion is accepted once (its ``jti`` is remembered until it
expires) and yields one of our access tokens with the client's kind as its role.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Protocol

import msgspec

from domain.errors import Unauthenticated
from domain.identity.principal import PrincipalKind
from domain.identity.tokens import AccessClaims, TokenSigner

MAX_ASSERTION_LIFETIME_S = 300
LEEWAY_S = 30


class ClientKey(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    kind: str
    public_jwk: dict[str, Any]


class AssertionClaims(msgspec.Struct, frozen=True, kw_only=True):
    jti: str
    expires_at: dt.datetime


class ClientCredentials(Protocol):
    async def active(self, client_id: str) -> ClientKey | None: ...

    async def use_assertion(self, client_id: str, jti: str, expires_at: dt.datetime) -> bool:
        """Remember ``jti`` until ``expires_at``; False when it was already used (replay)."""
        ...


class AssertionVerifier(Protocol):
    def claimed_client(self, assertion: str) -> str | None:
        """The unverified ``iss`` (the client it claims to be), or None when it is not a JWT."""
        ...

    def verify(self, assertion: str, public_jwk: dict[str, Any], client_id: str, audience: str) -> AssertionClaims:
        """Signature, ``iss``/``sub``/``aud``/``exp``/``jti`` and lifetime checks; ``Unauthenticated`` otherwise."""
        ...


class AccountLimit(Protocol):
    async def __call__(self, account: str) -> None:
        """Count one attempt for ``account``; raise ``RateLimited`` past the limit."""
        ...


class ClientToken(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str
    token_type: str
    expires_in: int


def invalid_assertion() -> Unauthenticated:
    return Unauthenticated("identity.client_assertion_invalid")


class IssueClientToken:
    def __init__(self, clients: ClientCredentials, verifier: AssertionVerifier, signer: TokenSigner,
                 limit: AccountLimit, ttl_seconds: int) -> None:
        self._clients, self._verifier, self._signer = clients, verifier, signer
        self._limit, self._ttl = limit, ttl_seconds

    async def execute(self, assertion: str, audience: str) -> ClientToken:
        client_id = self._verifier.claimed_client(assertion)
        if not client_id or len(client_id) > 200:
            raise invalid_assertion()
        await self._limit(client_id)  # before any lookup: guessing client ids costs attempts too
        client = await self._clients.active(client_id)
        if client is None:
            raise invalid_assertion()
        claims = self._verifier.verify(assertion, client.public_jwk, client_id, audience)
        if not await self._clients.use_assertion(client_id, claims.jti,
                                                 claims.expires_at + dt.timedelta(seconds=LEEWAY_S)):
            raise Unauthenticated("identity.client_assertion_replayed")
        token = self._signer.issue(AccessClaims(subject=client.id, kind=PrincipalKind.CLIENT, roles=(client.kind,)))
        return ClientToken(access_token=token, token_type="Bearer",  # noqa: S106 - the OAuth token type
                            expires_in=self._ttl)
