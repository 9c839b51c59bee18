"""Administration of who may do what: staff grants, machine clients, Open311 partner keys.

City admins manage everything; a unit admin may manage the staff grants of their own unit only.
Grants take effect in the grantee's next access token (at the latest after one refresh). Lists
are cursor-paged in creation order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import Callable
from typing import Any, Literal, Protocol

import msgspec

from domain.errors import Conflict, InvalidInput, NotFound
from domain.identity.access import require_city_admin, require_unit_admin
from domain.identity.ports import PiiProtector
from domain.identity.principal import Principal, StaffRole
from domain.shared.paging import Page, decode_cursor, encode_cursor

ClientKindName = Literal["facility", "validator"]


class StaffGrantView(msgspec.Struct, frozen=True, kw_only=True):
    user_id: uuid.UUID
    full_name: str
    unit_id: uuid.UUID
    role: str
    granted_by: uuid.UUID | None
    granted_at: dt.datetime


class ApiClient(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    client_id: str
    kind: str
    name: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


class PartnerKey(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    name: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


class After(msgspec.Struct, frozen=True):
    """Keyset position of a creation-ordered list: (created_at, id) of the last row shown."""

    at: dt.datetime
    id: str


class StaffGrants(Protocol):
    async def page(self, unit_id: uuid.UUID, after: After | None, limit: int) -> list[StaffGrantView]: ...

    async def unit_active(self, unit_id: uuid.UUID) -> bool: ...

    async def user_by_hash(self, personal_id_hash: bytes) -> uuid.UUID | None: ...

    async def user_exists(self, user_id: uuid.UUID) -> bool: ...

    async def add(self, user_id: uuid.UUID, unit_id: uuid.UUID, role: StaffRole,
                  granted_by: uuid.UUID) -> StaffGrantView | None:
        """The new grant, or None when that person already holds that role in that unit."""
        ...

    async def remove(self, unit_id: uuid.UUID, user_id: uuid.UUID, role: str) -> bool: ...


class ApiClients(Protocol):
    async def page(self, after: After | None, limit: int) -> list[ApiClient]: ...

    async def register(self, *, client_id: str, kind: str, name: str, public_jwk: dict[str, Any],
                       created_by: uuid.UUID) -> ApiClient | None:
        """The new client, or None when ``client_id`` is taken."""
        ...

    async def revoke(self, id: uuid.UUID) -> bool: ...


class PartnerKeys(Protocol):
    async def page(self, after: After | None, limit: int) -> list[PartnerKey]: ...

    async def create(self, name: str, key_hash: bytes, created_by: uuid.UUID) -> PartnerKey: ...

    async def revoke(self, id: uuid.UUID) -> bool: ...

    async def find_active(self, key_hash: bytes) -> uuid.UUID | None: ...


class AccountStatus(Protocol):
    async def set_suspended(self, user_id: uuid.UUID, suspended: bool) -> bool:
        """False when there is no such user."""
        ...


class PublicKeyCheck(Protocol):
    def __call__(self, jwk: dict[str, Any]) -> None:
        """Raise ``InvalidInput`` unless ``jwk`` is a usable public key (never private material)."""
        ...


def _after(cursor: str | None) -> After | None:
    if not cursor:  # an empty cursor is the first page, as everywhere else (decode_id_cursor)
        return None
    at, id_ = decode_cursor(cursor, 2)
    try:
        return After(dt.datetime.fromisoformat(at), str(uuid.UUID(id_)))
    except ValueError:
        raise InvalidInput(field="cursor", rule="cursor") from None


def _page(rows: list[Any], limit: int, position: Callable[[Any], tuple[dt.datetime, uuid.UUID]]) -> Page[Any]:
    """``rows`` were read with ``limit + 1``: the extra one only tells that a next page exists."""
    more = len(rows) > limit
    rows = rows[:limit]
    if not (more and rows):
        return Page(items=rows)
    at, id_ = position(rows[-1])
    return Page(items=rows, next_cursor=encode_cursor(at.isoformat(), str(id_)))


def _created(row: ApiClient | PartnerKey) -> tuple[dt.datetime, uuid.UUID]:
    return row.created_at, row.id


def _granted(row: StaffGrantView) -> tuple[dt.datetime, uuid.UUID]:
    return row.granted_at, row.user_id


def hash_api_key(api_key: str) -> bytes:
    """Only the SHA-256 of a partner key is stored; the key itself is shown once."""
    return hashlib.sha256(api_key.encode()).digest()


class StaffGrantAdmin:
    def __init__(self, grants: StaffGrants, pii: PiiProtector) -> None:
        self._grants = grants
        self._pii = pii

    async def list(self, principal: Principal, unit_id: uuid.UUID, cursor: str | None,
                   limit: int) -> Page[StaffGrantView]:
        require_unit_admin(principal, unit_id)
        rows = await self._grants.page(unit_id, _after(cursor), limit + 1)
        return _page(rows, limit, _granted)

    async def grant(self, principal: Principal, *, unit_id: uuid.UUID, role: StaffRole,
                    user_id: uuid.UUID | None, personal_id: str | None) -> StaffGrantView:
        require_unit_admin(principal, unit_id)
        if (user_id is None) == (personal_id is None):
            raise InvalidInput("identity.grantee_required", field="user_id", rule="one_of")
        if not await self._grants.unit_active(unit_id):
            raise InvalidInput("identity.unit_unknown", field="unit_id", rule="invalid")
        if personal_id is not None:
            user_id = await self._grants.user_by_hash(self._pii.lookup_hash(personal_id))
        elif not await self._grants.user_exists(user_id):  # type: ignore[arg-type]
            user_id = None
        if user_id is None:
            raise NotFound("identity.user_not_found")
        added = await self._grants.add(user_id, unit_id, role, principal.id)
        if added is None:
            raise Conflict("identity.grant_exists")
        return added

    async def withdraw(self, principal: Principal, unit_id: uuid.UUID, user_id: uuid.UUID, role: str) -> None:
        require_unit_admin(principal, unit_id)
        if not await self._grants.remove(unit_id, user_id, role):
            raise NotFound("identity.grant_not_found")


class AccountSuspension:
    """City admins suspend and reinstate accounts; a suspended account is refused on its next request."""

    def __init__(self, accounts: AccountStatus) -> None:
        self._accounts = accounts

    async def set(self, principal: Principal, user_id: uuid.UUID, suspended: bool) -> None:
        require_city_admin(principal)
        if suspended and user_id == principal.id:
            raise Conflict("identity.suspend_self")  # would lock the last admin out with no way back
        if not await self._accounts.set_suspended(user_id, suspended):
            raise NotFound("identity.user_not_found")


class ClientAdmin:
    def __init__(self, clients: ApiClients, check_key: PublicKeyCheck) -> None:
        self._clients = clients
        self._check_key = check_key

    async def list(self, principal: Principal, cursor: str | None, limit: int) -> Page[ApiClient]:
        require_city_admin(principal)
        return _page(await self._clients.page(_after(cursor), limit + 1), limit, _created)

    async def register(self, principal: Principal, *, name: str, kind: ClientKindName, public_jwk: dict[str, Any],
                       client_id: str | None) -> ApiClient:
        require_city_admin(principal)
        self._check_key(public_jwk)
        created = await self._clients.register(client_id=client_id or f"{kind}-{secrets.token_hex(8)}", kind=kind,
                                               name=name, public_jwk=public_jwk, created_by=principal.id)
        if created is None:
            raise Conflict("identity.client_exists")
        return created

    async def revoke(self, principal: Principal, id: uuid.UUID) -> None:
        require_city_admin(principal)
        if not await self._clients.revoke(id):
            raise NotFound("identity.client_not_found")


class NewPartnerKey(msgspec.Struct, frozen=True, kw_only=True):
    key: PartnerKey
    api_key: str  # shown once, at creation


class PartnerKeyAdmin:
    def __init__(self, keys: PartnerKeys) -> None:
        self._keys = keys

    async def list(self, principal: Principal, cursor: str | None, limit: int) -> Page[PartnerKey]:
        require_city_admin(principal)
        return _page(await self._keys.page(_after(cursor), limit + 1), limit, _created)

    async def issue(self, principal: Principal, name: str) -> NewPartnerKey:
        require_city_admin(principal)
        api_key = "o311_" + secrets.token_urlsafe(32)
        return NewPartnerKey(key=await self._keys.create(name, hash_api_key(api_key), principal.id), api_key=api_key)

    async def revoke(self, principal: Principal, id: uuid.UUID) -> None:
        require_city_admin(principal)
        if not await self._keys.revoke(id):
            raise NotFound("identity.key_not_found")
