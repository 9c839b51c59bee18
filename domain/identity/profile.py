"""The logged-in person's own account: profile, home district, deletion request, data export.

Name, date of birth and personal id come from VNeID and cannot be edited here. The personal id is
shown masked everywhere except in the person's own export.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Protocol

import msgspec

from domain.errors import InvalidInput, NotFound
from domain.identity.ports import PiiProtector
from domain.identity.principal import StaffGrant


class ProfileRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    full_name: str
    personal_id_enc: bytes
    date_of_birth: dt.date | None
    level: int
    locale: str
    district_id: uuid.UUID | None
    city_admin: bool
    grants: tuple[StaffGrant, ...]
    deletion_requested_at: dt.datetime | None = None


class Profile(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    full_name: str
    personal_id: str  # masked unless the person exports their own data
    date_of_birth: dt.date | None
    level: int
    locale: str
    district_id: uuid.UUID | None
    city_admin: bool
    staff_grants: tuple[StaffGrant, ...]
    deletion_requested_at: dt.datetime | None = None


class Profiles(Protocol):
    async def get(self, user_id: uuid.UUID) -> ProfileRecord | None:
        """The user row with its staff grants (one round trip)."""
        ...

    async def get_in_session(self, user_id: uuid.UUID, session_id: uuid.UUID) -> ProfileRecord | None:
        """The same, found only while ``session_id`` is a live session of that user: the caller's session
        check and the profile in one round trip (None: the session ended, or the account is closed)."""
        ...

    async def update(self, user_id: uuid.UUID, locale: str | None, district_id: uuid.UUID | None) -> None: ...

    async def unit_kind(self, unit_id: uuid.UUID) -> str | None: ...

    async def request_deletion(self, user_id: uuid.UUID) -> dt.datetime:
        """Mark the account for deletion (the first request's time is kept)."""
        ...

    async def personal_data(self, user_id: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
        """Sessions, devices and consents of the person, for their export."""
        ...


class SessionRevoker(Protocol):
    async def revoke_all(self, user_id: uuid.UUID, reason: str) -> int: ...


def mask_personal_id(personal_id: str) -> str:
    if len(personal_id) < 8:
        return "*" * len(personal_id)
    return personal_id[:4] + "*" * (len(personal_id) - 7) + personal_id[-3:]


class MyAccount:
    def __init__(self, profiles: Profiles, pii: PiiProtector) -> None:
        self._profiles, self._pii = profiles, pii

    async def _record(self, user_id: uuid.UUID) -> ProfileRecord:
        record = await self._profiles.get(user_id)
        if record is None:
            raise NotFound("identity.user_not_found")
        return record

    def _view(self, record: ProfileRecord, *, masked: bool = True) -> Profile:
        personal_id = self._pii.decrypt(record.personal_id_enc)
        return Profile(id=record.id, full_name=record.full_name,
                       personal_id=mask_personal_id(personal_id) if masked else personal_id,
                       date_of_birth=record.date_of_birth, level=record.level, locale=record.locale,
                       district_id=record.district_id, city_admin=record.city_admin, staff_grants=record.grants,
                       deletion_requested_at=record.deletion_requested_at)

    async def profile(self, user_id: uuid.UUID) -> Profile:
        return self._view(await self._record(user_id))

    async def profile_in_session(self, user_id: uuid.UUID, session_id: uuid.UUID) -> Profile | None:
        """The profile if ``session_id`` is still a live session of this user, else None."""
        record = await self._profiles.get_in_session(user_id, session_id)
        return None if record is None else self._view(record)

    async def update(self, user_id: uuid.UUID, *, locale: str | None, district_id: uuid.UUID | None) -> Profile:
        if district_id is not None and await self._profiles.unit_kind(district_id) != "district":
            raise InvalidInput("identity.district_unknown", field="district_id", rule="invalid")
        await self._profiles.update(user_id, locale, district_id)
        return await self.profile(user_id)

    async def request_deletion(self, user_id: uuid.UUID, sessions: SessionRevoker) -> tuple[dt.datetime, int]:
        """Recorded for the data protection officer; every session ends at once."""
        at = await self._profiles.request_deletion(user_id)
        return at, await sessions.revoke_all(user_id, "deletion_request")

    async def export(self, user_id: uuid.UUID) -> dict[str, Any]:
        """The person's own copy: the full personal id, sessions, devices and consents."""
        profile = msgspec.to_builtins(self._view(await self._record(user_id), masked=False))
        return {"profile": profile, **await self._profiles.personal_data(user_id)}
