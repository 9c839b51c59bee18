"""Administration of who may do what: staff grants, machine clients, Open311 partner keys.

City admins manage everything; a unit admin may manage staff grants of their own unit only.
Grants take effect in the grantee's next access token (at the latest after one refresh).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Annotated, Any, Literal

import jwt
import msgspec
from litestar import Controller, Request, Response, delete, get, post
from msgspec import Meta

from adapters.postgres.uow import PgUnitOfWork
from api import i18n
from api.auth import hash_api_key, require_city_admin, require_unit_role
from api.container import Container
from api.idempotency import idempotent
from domain.errors import Conflict, InvalidInput, NotFound
from domain.identity.principal import Principal, StaffRole
from domain.shared.ids import new_id

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
PersonalId = Annotated[str, Meta(pattern=r"^[0-9]{12}$")]
Name = Annotated[str, Meta(min_length=1, max_length=200)]


class GrantIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    unit_id: uuid.UUID
    role: StaffRole
    user_id: uuid.UUID | None = None
    personal_id: PersonalId | None = None


class StaffGrantOut(msgspec.Struct, kw_only=True):
    user_id: uuid.UUID
    full_name: str
    unit_id: uuid.UUID
    role: str
    granted_by: uuid.UUID | None
    granted_at: dt.datetime


class ClientIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    kind: Literal["facility", "validator"]
    public_jwk: dict[str, Any]
    client_id: Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")] | None = None


class ClientOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    client_id: str
    kind: str
    name: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


class KeyIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name


class KeyOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    api_key: str | None = None  # shown once, at creation


def _may_manage_unit(principal: Principal, unit_id: uuid.UUID) -> None:
    if not principal.city_admin:
        require_unit_role(principal, unit_id, StaffRole.UNIT_ADMIN)


_GRANT_SELECT = """SELECT g.user_id, u.full_name, g.unit_id, g.role, g.granted_by, g.granted_at
                   FROM staff_grants g JOIN users u ON u.id = g.user_id"""


class StaffGrantsController(Controller):
    path = "/admin/staff-grants"
    tags = ["admin"]
    security = BEARER

    @get("", operation_id="adminStaffGrantsList", summary="Staff grants of one unit")
    async def list_grants(self, principal: Principal, uow: PgUnitOfWork, unit_id: uuid.UUID) -> list[StaffGrantOut]:
        _may_manage_unit(principal, unit_id)
        rows = await uow.conn.fetch(_GRANT_SELECT + " WHERE g.unit_id = $1 ORDER BY g.granted_at, g.user_id LIMIT 500",
                                    unit_id)
        return [StaffGrantOut(**dict(r)) for r in rows]

    @post("", operation_id="adminStaffGrantsCreate", summary="Grant a staff role in a unit", status_code=201,
          description="Identify the person by user_id or by personal_id (12 digits, never stored in clear).")
    async def create_grant(self, principal: Principal, container: Container, uow: PgUnitOfWork,
                           data: GrantIn) -> StaffGrantOut:
        _may_manage_unit(principal, data.unit_id)
        if (data.user_id is None) == (data.personal_id is None):
            raise InvalidInput("identity.grantee_required", field="user_id", rule="one_of")
        if not await uow.conn.fetchval("SELECT true FROM units WHERE id = $1 AND active", data.unit_id):
            raise InvalidInput("identity.unit_unknown", field="unit_id", rule="invalid")
        if data.personal_id is not None:
            assert container.identity is not None
            user_id = await uow.conn.fetchval("SELECT id FROM users WHERE personal_id_hash = $1",
                                              container.identity.pii.lookup_hash(data.personal_id))
        else:
            user_id = await uow.conn.fetchval("SELECT id FROM users WHERE id = $1", data.user_id)
        if user_id is None:
            raise NotFound("identity.user_not_found")
        inserted = await uow.conn.fetchval(
            """INSERT INTO staff_grants (user_id, unit_id, role, granted_by) VALUES ($1, $2, $3, $4)
               ON CONFLICT DO NOTHING RETURNING true""", user_id, data.unit_id, data.role.value, principal.id)
        if not inserted:
            raise Conflict("identity.grant_exists")
        row = await uow.conn.fetchrow(_GRANT_SELECT + " WHERE g.user_id = $1 AND g.unit_id = $2 AND g.role = $3",
                                      user_id, data.unit_id, data.role.value)
        return StaffGrantOut(**dict(row))

    @delete("/{unit_id:uuid}/{user_id:uuid}/{role:str}", operation_id="adminStaffGrantsDelete",
            summary="Withdraw a staff role", status_code=204)
    async def delete_grant(self, principal: Principal, uow: PgUnitOfWork, unit_id: uuid.UUID, user_id: uuid.UUID,
                           role: str) -> None:
        _may_manage_unit(principal, unit_id)
        if not await uow.conn.fetchval(
                "DELETE FROM staff_grants WHERE unit_id = $1 AND user_id = $2 AND role = $3 RETURNING true",
                unit_id, user_id, role):
            raise NotFound("identity.grant_not_found")


class ClientsController(Controller):
    path = "/admin/clients"
    tags = ["admin"]
    security = BEARER

    @get("", operation_id="adminClientsList", summary="Registered machine clients")
    async def list_clients(self, principal: Principal, uow: PgUnitOfWork) -> list[ClientOut]:
        require_city_admin(principal)
        rows = await uow.conn.fetch("SELECT id, client_id, kind, name, created_at, revoked_at FROM api_clients "
                                    "ORDER BY created_at LIMIT 500")
        return [ClientOut(**dict(r)) for r in rows]

    @post("", operation_id="adminClientsCreate", summary="Register a facility or validator with its public JWK",
          status_code=201)
    async def create_client(self, request: Request[Any, Any, Any], principal: Principal, uow: PgUnitOfWork,
                            data: ClientIn) -> Response[Any]:
        require_city_admin(principal)
        jwk = _public_jwk(data.public_jwk)

        async def create() -> Response[Any]:
            client_id = data.client_id or f"{data.kind}-{secrets.token_hex(8)}"
            row = await uow.conn.fetchrow(
                """INSERT INTO api_clients (id, client_id, kind, name, public_jwk, created_by)
                   VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (client_id) DO NOTHING
                   RETURNING id, client_id, kind, name, created_at, revoked_at""",
                new_id(), client_id, data.kind, data.name, jwk, principal.id)
            if row is None:
                raise Conflict("identity.client_exists")
            return Response(msgspec.to_builtins(ClientOut(**dict(row))), status_code=201)
        return await idempotent(request, uow, f"user:{principal.id}", create)

    @delete("/{client_id:uuid}", operation_id="adminClientsRevoke", summary="Revoke a machine client",
            status_code=204)
    async def revoke_client(self, principal: Principal, uow: PgUnitOfWork, client_id: uuid.UUID) -> None:
        require_city_admin(principal)
        if not await uow.conn.fetchval(
                "UPDATE api_clients SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING true",
                client_id):
            raise NotFound("identity.client_not_found")


def _public_jwk(jwk: dict[str, Any]) -> dict[str, Any]:
    if any(k in jwk for k in ("d", "p", "q", "dp", "dq", "qi", "k")):
        raise InvalidInput("identity.jwk_private", field="public_jwk", rule="public_key_only")
    if jwk.get("kty") not in ("EC", "OKP", "RSA"):
        raise InvalidInput("identity.jwk_invalid", field="public_jwk.kty", rule="enum")
    try:
        jwt.PyJWK(jwk)
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        raise InvalidInput("identity.jwk_invalid", field="public_jwk", rule="invalid") from None
    return jwk


class Open311KeysController(Controller):
    path = "/admin/open311-keys"
    tags = ["admin"]
    security = BEARER

    @get("", operation_id="adminOpen311KeysList", summary="Open311 partner API keys (without the keys)")
    async def list_keys(self, principal: Principal, uow: PgUnitOfWork) -> list[KeyOut]:
        require_city_admin(principal)
        rows = await uow.conn.fetch("SELECT id, name, created_at, revoked_at FROM open311_keys "
                                    "ORDER BY created_at LIMIT 500")
        return [KeyOut(**dict(r)) for r in rows]

    @post("", operation_id="adminOpen311KeysCreate", summary="Issue an Open311 partner API key (shown once)",
          status_code=201)
    async def create_key(self, principal: Principal, uow: PgUnitOfWork, data: KeyIn) -> KeyOut:
        require_city_admin(principal)
        api_key = "o311_" + secrets.token_urlsafe(32)
        row = await uow.conn.fetchrow(
            """INSERT INTO open311_keys (id, name, key_hash, created_by) VALUES ($1, $2, $3, $4)
               RETURNING id, name, created_at, revoked_at""",
            new_id(), data.name, hash_api_key(api_key), principal.id)
        return KeyOut(**dict(row), api_key=api_key)

    @delete("/{key_id:uuid}", operation_id="adminOpen311KeysRevoke", summary="Revoke an Open311 key",
            status_code=204)
    async def revoke_key(self, principal: Principal, uow: PgUnitOfWork, key_id: uuid.UUID) -> None:
        require_city_admin(principal)
        if not await uow.conn.fetchval(
                "UPDATE open311_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING true",
                key_id):
            raise NotFound("identity.key_not_found")


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
})
