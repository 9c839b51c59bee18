"""Our own access tokens as the domain sees them: claims in, a signed string out, and back.

Roles travel in the token as strings so that any service can read them without a database:
``citizen``, ``city_admin``, ``<role>@<unit uuid>`` for staff grants, and the client kind for
machine callers.
"""

from __future__ import annotations

import uuid
from typing import Protocol

import msgspec

from domain.errors import Unauthenticated
from domain.identity.principal import ClientKind, Principal, PrincipalKind, StaffGrant, StaffRole

CITIZEN = "citizen"
CITY_ADMIN = "city_admin"


class AccessClaims(msgspec.Struct, frozen=True, kw_only=True):
    subject: uuid.UUID
    kind: PrincipalKind
    roles: tuple[str, ...]
    level: int = 0
    session_id: uuid.UUID | None = None


class TokenSigner(Protocol):
    """Issues and verifies our access tokens (a JWT signer in production)."""

    ttl_seconds: int

    def issue(self, claims: AccessClaims) -> str: ...

    def verify(self, token: str) -> AccessClaims:
        """Raise ``Unauthenticated`` for anything that is not a valid, current access token."""
        ...


def roles_for(*, city_admin: bool, grants: tuple[StaffGrant, ...]) -> tuple[str, ...]:
    roles = [CITIZEN]
    if city_admin:
        roles.append(CITY_ADMIN)
    roles.extend(f"{g.role.value}@{g.unit_id}" for g in sorted(grants, key=lambda g: (str(g.unit_id), g.role)))
    return tuple(roles)


def principal_from(claims: AccessClaims) -> Principal:
    if claims.kind is PrincipalKind.CLIENT:
        kinds = [ClientKind(r) for r in claims.roles if r in ClientKind._value2member_map_]
        if len(kinds) != 1:
            raise Unauthenticated("identity.token_invalid")
        return Principal(kind=PrincipalKind.CLIENT, id=claims.subject, client_kind=kinds[0])
    grants: list[StaffGrant] = []
    for role in claims.roles:
        if "@" not in role:
            continue
        name, _, unit = role.partition("@")
        try:
            grants.append(StaffGrant(unit_id=uuid.UUID(unit), role=StaffRole(name)))
        except ValueError:
            raise Unauthenticated("identity.token_invalid") from None
    return Principal(kind=claims.kind, id=claims.subject, level=claims.level,
                     city_admin=CITY_ADMIN in claims.roles, grants=tuple(grants), session_id=claims.session_id)
