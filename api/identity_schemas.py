"""Request/response schemas of the identity API (msgspec; inputs reject unknown fields)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from domain.errors import NotFound
from domain.identity.ports import PiiProtector

Locale = Literal["vi", "en"]
Level = Annotated[int, Meta(ge=1, le=2)]
Code = Annotated[str, Meta(min_length=1, max_length=2048)]


class StartIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    level: Level = 2


class StartOut(msgspec.Struct, kw_only=True):
    authorization_url: str
    transaction_id: uuid.UUID


class CallbackIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    transaction_id: uuid.UUID
    code: Code
    state: Annotated[str, Meta(min_length=1, max_length=512)]


class RefreshIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    refresh_token: Annotated[str, Meta(min_length=16, max_length=512)]


class TokenForm(msgspec.Struct, kw_only=True):
    grant_type: Literal["client_credentials"]
    client_assertion_type: Literal["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
    client_assertion: Annotated[str, Meta(min_length=1, max_length=8192)]
    client_id: Annotated[str, Meta(max_length=200)] | None = None
    scope: Annotated[str, Meta(max_length=500)] | None = None


class GrantOut(msgspec.Struct, kw_only=True):
    unit_id: uuid.UUID
    role: str


class UserOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    full_name: str
    personal_id: str  # masked, e.g. 0010*****123
    date_of_birth: dt.date | None
    level: int
    locale: str
    district_id: uuid.UUID | None
    city_admin: bool
    staff_grants: list[GrantOut]
    deletion_requested_at: dt.datetime | None = None


class TokensOut(msgspec.Struct, kw_only=True):
    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str
    user: UserOut


def mask_personal_id(personal_id: str) -> str:
    if len(personal_id) < 8:
        return "*" * len(personal_id)
    return personal_id[:4] + "*" * (len(personal_id) - 7) + personal_id[-3:]


# One round trip: the user row with its grants folded in (an aggregate without GROUP BY always
# yields one row, NULL arrays when the user holds no grant).
_USER_SQL = """
SELECT u.id, u.full_name, u.personal_id_enc, u.date_of_birth, u.level, u.locale, u.district_id, u.city_admin,
       u.deletion_requested_at, g.units AS grant_units, g.roles AS grant_roles
FROM users u
LEFT JOIN LATERAL (SELECT array_agg(unit_id ORDER BY unit_id, role) AS units,
                          array_agg(role ORDER BY unit_id, role) AS roles
                   FROM staff_grants WHERE user_id = u.id) g ON true
WHERE u.id = $1"""


async def user_out(conn: Any, pii: PiiProtector, user_id: uuid.UUID) -> UserOut:
    row = await conn.fetchrow(_USER_SQL, user_id)
    if row is None:
        raise NotFound("identity.user_not_found")
    grants = [GrantOut(unit_id=u, role=r) for u, r in zip(row["grant_units"] or (), row["grant_roles"] or (),
                                                          strict=True)]
    return UserOut(id=row["id"], full_name=row["full_name"],
                   personal_id=mask_personal_id(pii.decrypt(bytes(row["personal_id_enc"]))),
                   date_of_birth=row["date_of_birth"], level=row["level"], locale=row["locale"],
                   district_id=row["district_id"], city_admin=row["city_admin"],
                   staff_grants=grants, deletion_requested_at=row["deletion_requested_at"])
