"""Who may do what: the checks every context's use cases and controllers apply to a ``Principal``.

Part of identity's public surface (with ``principal``): other contexts import these instead of
writing their own variants. Each raises a domain error; the API maps it to 403 (or 404 where even
the object's existence must not be revealed).
"""

from __future__ import annotations

import uuid

from domain.errors import Forbidden, NotFound
from domain.identity.principal import ClientKind, Principal, PrincipalKind, StaffRole


def require_level(principal: Principal, level: int = 2) -> None:
    if principal.level < level:
        raise Forbidden("identity.level_required", level=level)


def require_city_admin(principal: Principal) -> None:
    if not (principal.is_user and principal.city_admin):
        raise Forbidden("identity.city_admin_required")


def require_unit_role(principal: Principal, unit_id: uuid.UUID, *roles: StaffRole, not_found: bool = False) -> None:
    """Staff with one of ``roles`` (any role when none given) in ``unit_id``.

    ``not_found=True`` answers 404 instead of 403 where even the unit's object must not be revealed.
    """
    if principal.is_user and principal.has_role(unit_id, *roles):
        return
    if not_found:
        raise NotFound("not_found")
    raise Forbidden("identity.unit_role_required")


def require_staff(principal: Principal) -> None:
    if not (principal.is_user and principal.is_staff):
        raise Forbidden("identity.staff_required")


def require_console_access(principal: Principal) -> None:
    """The staff console serves staff of a unit and city administrators; citizens have the app."""
    if not (principal.is_user and (principal.is_staff or principal.city_admin)):
        raise Forbidden("identity.staff_required")


def require_client_kind(principal: Principal, *kinds: ClientKind) -> None:
    if principal.kind is not PrincipalKind.CLIENT or (kinds and principal.client_kind not in kinds):
        raise Forbidden("identity.client_required")


def require_unit_admin(principal: Principal, unit_id: uuid.UUID) -> None:
    """City admins manage every unit; a unit admin manages their own unit's staff."""
    if not principal.city_admin:
        require_unit_role(principal, unit_id, StaffRole.UNIT_ADMIN)
