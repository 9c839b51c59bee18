"""Guard helpers of api/identity/auth.py on plain principals (no HTTP)."""

from __future__ import annotations

import pytest

from domain.errors import Forbidden, NotFound
from domain.identity.access import require_city_admin, require_client_kind, require_level, require_unit_role
from domain.identity.principal import ClientKind, Principal, PrincipalKind, StaffGrant, StaffRole
from domain.shared.ids import new_id

UNIT_A, UNIT_B = new_id(), new_id()
SUPERVISOR_A = Principal(kind=PrincipalKind.USER, id=new_id(), level=2,
                         grants=(StaffGrant(unit_id=UNIT_A, role=StaffRole.SUPERVISOR),))
CITIZEN_L1 = Principal(kind=PrincipalKind.USER, id=new_id(), level=1)
ADMIN = Principal(kind=PrincipalKind.USER, id=new_id(), level=2, city_admin=True)
FACILITY = Principal(kind=PrincipalKind.CLIENT, id=new_id(), client_kind=ClientKind.FACILITY)


def test_unit_role_is_scoped_to_the_unit_and_role() -> None:
    require_unit_role(SUPERVISOR_A, UNIT_A)
    require_unit_role(SUPERVISOR_A, UNIT_A, StaffRole.SUPERVISOR, StaffRole.UNIT_ADMIN)
    with pytest.raises(Forbidden):
        require_unit_role(SUPERVISOR_A, UNIT_B)
    with pytest.raises(Forbidden):
        require_unit_role(SUPERVISOR_A, UNIT_A, StaffRole.UNIT_ADMIN)
    with pytest.raises(NotFound):
        require_unit_role(SUPERVISOR_A, UNIT_B, not_found=True)
    with pytest.raises(Forbidden):
        require_unit_role(ADMIN, UNIT_A)  # city admins manage grants, they do not hold unit roles


def test_level_admin_and_client_checks() -> None:
    require_level(SUPERVISOR_A, 2)
    with pytest.raises(Forbidden) as exc:
        require_level(CITIZEN_L1, 2)
    assert exc.value.code == "identity.level_required"
    require_city_admin(ADMIN)
    with pytest.raises(Forbidden):
        require_city_admin(SUPERVISOR_A)
    require_client_kind(FACILITY, ClientKind.FACILITY)
    with pytest.raises(Forbidden):
        require_client_kind(FACILITY, ClientKind.VALIDATOR)
    with pytest.raises(Forbidden):
        require_client_kind(ADMIN)
