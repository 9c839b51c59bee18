"""Request/response schemas of the identity API (msgspec; inputs reject unknown fields)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from domain.identity.profile import Profile

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
    # RFC 9207: the `iss` VNeID put in the redirect, passed on unchanged (mix-up defence).
    iss: Annotated[str, Meta(min_length=1, max_length=512)] | None = None


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


def user_out(profile: Profile) -> UserOut:
    return UserOut(**msgspec.structs.asdict(profile) | {
        "staff_grants": [GrantOut(unit_id=g.unit_id, role=g.role.value) for g in profile.staff_grants]})
