"""Who is calling: the one type every use case receives to authorise object access.

Citizens, staff and city admins are all *users* who logged in with VNeID; staff and admins hold
grants on top. Machine callers (medical facilities, transit validators) are *clients*; Open311
partner organisations are *partners*.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

import msgspec


class PrincipalKind(StrEnum):
    USER = "user"
    CLIENT = "client"
    PARTNER = "partner"


class StaffRole(StrEnum):
    HANDLER = "handler"
    SUPERVISOR = "supervisor"
    UNIT_ADMIN = "unit_admin"


class ClientKind(StrEnum):
    FACILITY = "facility"
    VALIDATOR = "validator"


class StaffGrant(msgspec.Struct, frozen=True):
    unit_id: uuid.UUID
    role: StaffRole


class Principal(msgspec.Struct, frozen=True):
    kind: PrincipalKind
    id: uuid.UUID
    # e-ID assurance level (1 basic, 2 full) for users; 0 for machine callers.
    level: int = 0
    city_admin: bool = False
    grants: tuple[StaffGrant, ...] = ()
    session_id: uuid.UUID | None = None
    client_kind: ClientKind | None = None

    def with_access(self, city_admin: bool, grants: tuple[StaffGrant, ...]) -> Principal:
        return msgspec.structs.replace(self, city_admin=city_admin, grants=grants)

    @property
    def is_user(self) -> bool:
        return self.kind is PrincipalKind.USER

    @property
    def is_staff(self) -> bool:
        return bool(self.grants)

    def roles_in(self, unit_id: uuid.UUID) -> frozenset[StaffRole]:
        return frozenset(g.role for g in self.grants if g.unit_id == unit_id)

    def has_role(self, unit_id: uuid.UUID, *roles: StaffRole) -> bool:
        held = self.roles_in(unit_id)
        return any(r in held for r in roles) if roles else bool(held)

    @property
    def unit_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(g.unit_id for g in self.grants)
