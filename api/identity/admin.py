"""Administration of who may do what: staff grants, machine clients, Open311 partner keys.

City admins manage everything (and suspend accounts); a unit admin may manage staff grants of
their own unit only. Grants, their withdrawal and suspensions take effect on the person's next
request (the token check re-reads them, see ``api.identity.auth``).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import Meta

from adapters.postgres.identity.admin import PgAccountStatus, PgApiClients, PgPartnerKeys, PgStaffGrants
from adapters.postgres.uow import PgUnitOfWork
from adapters.signing.jwk import check_public_jwk
from api.identity.auth import CurrentUser
from api.platform import i18n
from api.platform.container import Container
from api.platform.deps import AppContainer, UnitOfWork
from api.platform.idempotency import idempotent
from api.platform.params import Limit
from domain.identity.admin import (
    AccountSuspension,
    ApiClient,
    ClientAdmin,
    PartnerKey,
    PartnerKeyAdmin,
    StaffGrantAdmin,
    StaffGrantView,
)
from domain.identity.principal import StaffRole
from domain.shared.paging import MAX_LIMIT, Page

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
PersonalId = Annotated[str, Meta(pattern=r"^[0-9]{12}$")]
Name = Annotated[str, Meta(min_length=1, max_length=200)]


class GrantIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    unit_id: uuid.UUID
    role: StaffRole
    user_id: uuid.UUID | None = None
    personal_id: PersonalId | None = None


# The response schemas are the domain's views under their published OpenAPI names.
class StaffGrantOut(StaffGrantView, frozen=True):
    pass


class ClientIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    kind: Literal["facility", "validator"]
    public_jwk: dict[str, Any]
    client_id: Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")] | None = None


class ClientOut(ApiClient, frozen=True):
    pass


class KeyIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name


class KeyOut(PartnerKey, frozen=True):
    api_key: str | None = None  # shown once, at creation


def grant_admin(container: Container, uow: PgUnitOfWork) -> StaffGrantAdmin:
    return StaffGrantAdmin(PgStaffGrants(uow.conn), container.identity.pii)


def _clients(uow: PgUnitOfWork) -> ClientAdmin:
    return ClientAdmin(PgApiClients(uow.conn), check_public_jwk)


def partner_key_admin(uow: PgUnitOfWork) -> PartnerKeyAdmin:
    return PartnerKeyAdmin(PgPartnerKeys(uow.conn))




class StaffGrantsController(Controller):
    path = "/admin/staff-grants"
    tags = ["admin"]
    security = BEARER

    @get("", operation_id="adminStaffGrantsList", summary="Staff grants of one unit")
    async def list_grants(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                          unit_id: FromQuery[uuid.UUID],
                          cursor: FromQuery[str | None] = None, limit: Limit = MAX_LIMIT) -> Page[StaffGrantOut]:
        page = await grant_admin(container, uow).list(principal, unit_id, cursor, limit)
        return Page(items=[StaffGrantOut(**msgspec.structs.asdict(g)) for g in page.items],
                    next_cursor=page.next_cursor)

    @post("", operation_id="adminStaffGrantsCreate", summary="Grant a staff role in a unit", status_code=201,
          description="Identify the person by user_id or by personal_id (12 digits, never stored in clear).")
    async def create_grant(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                           data: JSONBody[GrantIn]) -> StaffGrantOut:
        granted = await grant_admin(container, uow).grant(principal, unit_id=data.unit_id, role=data.role,
                                                      user_id=data.user_id, personal_id=data.personal_id)
        return StaffGrantOut(**msgspec.structs.asdict(granted))

    @delete("/{unit_id:uuid}/{user_id:uuid}/{role:str}", operation_id="adminStaffGrantsDelete",
            summary="Withdraw a staff role", status_code=204)
    async def delete_grant(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                           unit_id: FromPath[uuid.UUID],
                           user_id: FromPath[uuid.UUID], role: FromPath[str]) -> None:
        await grant_admin(container, uow).withdraw(principal, unit_id, user_id, role)


class UsersController(Controller):
    path = "/admin/users"
    tags = ["admin"]
    security = BEARER

    @put("/{user_id:uuid}/suspension", operation_id="adminUsersSuspend", status_code=204,
         summary="Suspend an account (city admin)",
         description="Its sessions are refused from the next request on (401) and it cannot log in (403 "
                     "identity.account_suspended) until reinstated. Idempotent.")
    async def suspend(self, principal: CurrentUser, uow: UnitOfWork, user_id: FromPath[uuid.UUID]) -> None:
        await AccountSuspension(PgAccountStatus(uow.conn)).set(principal, user_id, suspended=True)

    @delete("/{user_id:uuid}/suspension", operation_id="adminUsersReinstate", status_code=204,
            summary="Reinstate a suspended account (city admin); it logs in again")
    async def reinstate(self, principal: CurrentUser, uow: UnitOfWork, user_id: FromPath[uuid.UUID]) -> None:
        await AccountSuspension(PgAccountStatus(uow.conn)).set(principal, user_id, suspended=False)


class ClientsController(Controller):
    path = "/admin/clients"
    tags = ["admin"]
    security = BEARER

    @get("", operation_id="adminClientsList", summary="Registered machine clients")
    async def list_clients(self, principal: CurrentUser, uow: UnitOfWork, cursor: FromQuery[str | None] = None,
                           limit: Limit = MAX_LIMIT) -> Page[ClientOut]:
        page = await _clients(uow).list(principal, cursor, limit)
        return Page(items=[ClientOut(**msgspec.structs.asdict(c)) for c in page.items], next_cursor=page.next_cursor)

    @post("", operation_id="adminClientsCreate", summary="Register a facility or validator with its public JWK",
          status_code=201)
    async def create_client(self, request: Request[Any, Any, Any], principal: CurrentUser, uow: UnitOfWork,
                            data: JSONBody[ClientIn]) -> Response[ClientOut]:
        async def create() -> Response[Any]:
            client = await _clients(uow).register(principal, name=data.name, kind=data.kind,
                                                  public_jwk=data.public_jwk, client_id=data.client_id)
            return Response(msgspec.to_builtins(ClientOut(**msgspec.structs.asdict(client))), status_code=201)
        return await idempotent(request, uow, f"user:{principal.id}", create)

    @delete("/{client_id:uuid}", operation_id="adminClientsRevoke", summary="Revoke a machine client",
            status_code=204)
    async def revoke_client(self, principal: CurrentUser, uow: UnitOfWork, client_id: FromPath[uuid.UUID]) -> None:
        await _clients(uow).revoke(principal, client_id)


class Open311KeysController(Controller):
    path = "/admin/open311-keys"
    tags = ["admin"]
    security = BEARER

    @get("", operation_id="adminOpen311KeysList", summary="Open311 partner API keys (without the keys)")
    async def list_keys(self, principal: CurrentUser, uow: UnitOfWork, cursor: FromQuery[str | None] = None,
                        limit: Limit = MAX_LIMIT) -> Page[KeyOut]:
        page = await partner_key_admin(uow).list(principal, cursor, limit)
        return Page(items=[KeyOut(**msgspec.structs.asdict(k)) for k in page.items], next_cursor=page.next_cursor)

    @post("", operation_id="adminOpen311KeysCreate", summary="Issue an Open311 partner API key (shown once)",
          status_code=201)
    async def create_key(self, principal: CurrentUser, uow: UnitOfWork, data: JSONBody[KeyIn]) -> KeyOut:
        issued = await partner_key_admin(uow).issue(principal, data.name)
        return KeyOut(**msgspec.structs.asdict(issued.key), api_key=issued.api_key)

    @delete("/{key_id:uuid}", operation_id="adminOpen311KeysRevoke", summary="Revoke an Open311 key",
            status_code=204)
    async def revoke_key(self, principal: CurrentUser, uow: UnitOfWork, key_id: FromPath[uuid.UUID]) -> None:
        await partner_key_admin(uow).revoke(principal, key_id)


i18n.register({
    "identity.grantee_required": {"vi": "Cần đúng một trong user_id hoặc personal_id",
                                  "en": "Give exactly one of user_id or personal_id"},
    "identity.unit_unknown": {"vi": "Đơn vị không tồn tại", "en": "No such unit"},
    "identity.grant_exists": {"vi": "Vai trò này đã được cấp", "en": "This role is already granted"},
    "identity.grant_not_found": {"vi": "Không tìm thấy quyền", "en": "Grant not found"},
    "identity.client_exists": {"vi": "client_id đã tồn tại", "en": "This client_id already exists"},
    "identity.client_not_found": {"vi": "Không tìm thấy ứng dụng", "en": "Client not found"},
    "identity.jwk_private": {"vi": "Chỉ gửi khóa công khai", "en": "Send the public key only"},
    "identity.jwk_invalid": {"vi": "Khóa JWK không hợp lệ", "en": "The JWK is invalid"},
    "identity.key_not_found": {"vi": "Không tìm thấy khóa", "en": "Key not found"},
    "identity.suspend_self": {"vi": "Không thể tự đình chỉ tài khoản của mình",
                              "en": "You cannot suspend your own account"},
})
