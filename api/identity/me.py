"""The logged-in person's own data: profile, sessions, devices, consents, export, deletion request.

Every query is scoped by ``principal.id``; someone else's session or device id is a 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from adapters.postgres.identity.me import PgConsents, PgDevices, list_sessions
from adapters.postgres.uow import PgUnitOfWork
from api.identity.auth import SESSION_IN_QUERY, CurrentUser, deferred_session, settle_deferred_session
from api.identity.export import export_all
from api.identity.schemas import Locale, UserOut, user_out
from api.identity.support import my_account, sessions
from api.platform import i18n
from api.platform.deps import READ_ONLY, AppContainer, UnitOfWork
from api.platform.idempotency import idempotent
from api.platform.lean import LEAN
from api.platform.params import Limit
from api.platform.quota import within_quota
from domain.errors import NotFound
from domain.identity.access import require_level
from domain.identity.principal import Principal
from domain.shared.paging import MAX_LIMIT

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


class ProfilePatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    locale: Locale | None = None
    district_id: uuid.UUID | None = None


class SessionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    created_at: dt.datetime
    last_used_at: dt.datetime
    expires_at: dt.datetime
    user_agent: str
    level: int
    current: bool


class DeviceIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    fcm_token: Annotated[str, Meta(min_length=20, max_length=4096, pattern=r"^[A-Za-z0-9_:\-.]+$")]
    platform: Literal["android", "ios", "web"]
    app_version: Annotated[str, Meta(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z.+\-]+$")]
    locale: Locale = "vi"


class DevicePatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    fcm_token: Annotated[str, Meta(min_length=20, max_length=4096, pattern=r"^[A-Za-z0-9_:\-.]+$")] | None = None
    app_version: Annotated[str, Meta(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z.+\-]+$")] | None = None
    locale: Locale | None = None


class DeviceOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    platform: str
    app_version: str
    locale: str
    session_id: uuid.UUID | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ConsentIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    purpose: Literal["health_record_sharing", "judicial_record_sharing", "location", "push_news", "analytics"]
    granted: bool


class ConsentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    purpose: str
    granted: bool
    created_at: dt.datetime


class ConsentsOut(msgspec.Struct, kw_only=True):
    current: dict[str, bool]
    history: list[ConsentOut]


class DeletionOut(msgspec.Struct, kw_only=True):
    requested_at: dt.datetime
    sessions_revoked: int


async def _update_device(uow: PgUnitOfWork, principal: Principal, device_id: uuid.UUID,
                         data: DevicePatch) -> DeviceOut:
    row = await PgDevices(uow.conn).update(principal.id, device_id, data.fcm_token, data.app_version, data.locale)
    if row is None:
        raise NotFound("identity.device_not_found")
    return DeviceOut(**row)


class MeController(Controller):
    path = "/me"
    tags = ["me"]
    security = BEARER

    @get("", operation_id="meGet", summary="My profile (personal id masked)",
         opt={**READ_ONLY, **SESSION_IN_QUERY, **LEAN})
    async def me(self, request: Request[Any, Any, Any], principal: CurrentUser, container: AppContainer,
                 uow: UnitOfWork) -> UserOut:
        account = my_account(container, uow)
        session_id = deferred_session(request)
        if session_id is None:  # checked on its own already (read replicas)
            return user_out(await account.profile(principal.id))
        # One round trip: the profile, found only while the caller's session is live.
        return user_out(settle_deferred_session(request, await account.profile_in_session(principal.id, session_id)))

    @patch("", operation_id="mePatch", summary="Change my language or home district",
           description="Name, date of birth and personal id come from VNeID and cannot be edited.")
    async def patch_me(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                       data: JSONBody[ProfilePatch]) -> UserOut:
        return user_out(await my_account(container, uow).update(principal.id, locale=data.locale,
                                                                 district_id=data.district_id))

    # --- sessions -------------------------------------------------------------------------------
    @get("/sessions", operation_id="meSessionsList", summary="My active sessions (logged-in installations)")
    async def sessions(self, principal: CurrentUser, uow: UnitOfWork) -> list[SessionOut]:
        rows = await list_sessions(uow.conn, principal.id)
        return [SessionOut(**dict(r), current=r["id"] == principal.session_id) for r in rows]

    @delete("/sessions/{session_id:uuid}", operation_id="meSessionsRevoke", summary="End one of my sessions",
            status_code=204)
    async def revoke_session(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                             session_id: FromPath[uuid.UUID]) -> None:
        if not await sessions(container, uow).revoke_own(principal.id, session_id, "user_revoked"):
            raise NotFound("identity.session_not_found")

    # --- devices --------------------------------------------------------------------------------
    @get("/devices", operation_id="meDevicesList", summary="My registered push installations")
    async def devices(self, principal: CurrentUser, uow: UnitOfWork,
                      limit: Limit = MAX_LIMIT) -> list[DeviceOut]:
        return [DeviceOut(**r) for r in await PgDevices(uow.conn).list(principal.id, limit)]

    @post("/devices", operation_id="meDevicesRegister", summary="Register (or move here) a push token",
          description="Upsert on fcm_token: registering a token that another account or session held moves it "
                      "to this user and session.", status_code=201)
    async def register_device(self, request: Request[Any, Any, Any], principal: CurrentUser, uow: UnitOfWork,
                              container: AppContainer, data: JSONBody[DeviceIn]) -> Response[DeviceOut]:
        async def create() -> Response[Any]:
            row = await PgDevices(uow.conn).upsert(principal.id, principal.session_id, data.fcm_token,
                                                   data.platform, data.app_version, data.locale)
            return Response(msgspec.to_builtins(DeviceOut(**row)), status_code=201,
                            headers={"Location": f"/api/v1/me/devices/{row['id']}"})
        return await within_quota(container, "notifications_quota_devices", str(principal.id),
                                  lambda: idempotent(request, uow, f"user:{principal.id}", create))

    @patch("/devices/{device_id:uuid}", operation_id="meDevicesPatch", summary="Update a device (token rotation, "
           "app version, language)")
    async def patch_device(self, principal: CurrentUser, uow: UnitOfWork, device_id: FromPath[uuid.UUID],
                           data: JSONBody[DevicePatch]) -> DeviceOut:
        return await _update_device(uow, principal, device_id, data)

    @put("/devices/{device_id:uuid}", operation_id="meDevicesPut", summary="Update a device (same as PATCH)")
    async def put_device(self, principal: CurrentUser, uow: UnitOfWork, device_id: FromPath[uuid.UUID],
                         data: JSONBody[DevicePatch]) -> DeviceOut:
        return await _update_device(uow, principal, device_id, data)

    @delete("/devices/{device_id:uuid}", operation_id="meDevicesDelete", summary="Remove a device", status_code=204)
    async def delete_device(self, principal: CurrentUser, uow: UnitOfWork, device_id: FromPath[uuid.UUID]) -> None:
        if not await PgDevices(uow.conn).delete(principal.id, device_id):
            raise NotFound("identity.device_not_found")

    # --- privacy rights -------------------------------------------------------------------------
    @get("/consents", operation_id="meConsentsList", summary="My consent choices and their history")
    async def consents(self, principal: CurrentUser, uow: UnitOfWork) -> ConsentsOut:
        rows = await PgConsents(uow.conn).history(principal.id)
        current: dict[str, bool] = {}
        for r in rows:  # newest first
            current.setdefault(r["purpose"], r["granted"])
        return ConsentsOut(current=current, history=[ConsentOut(**r) for r in rows])

    @post("/consents", operation_id="meConsentsRecord", summary="Grant or withdraw consent for a purpose",
          status_code=201)
    async def record_consent(self, request: Request[Any, Any, Any], principal: CurrentUser, uow: UnitOfWork,
                             data: JSONBody[ConsentIn]) -> Response[ConsentOut]:
        async def create() -> Response[Any]:
            row = await PgConsents(uow.conn).record(principal.id, data.purpose, data.granted)
            return Response(msgspec.to_builtins(ConsentOut(**row)), status_code=201)
        return await idempotent(request, uow, f"user:{principal.id}", create)

    @get("/export", operation_id="meExport", summary="Export all my data (JSON); needs e-ID level 2",
         description="Includes the full personal id. Other contexts add their parts (feedback, health, …).")
    async def export(self, principal: CurrentUser, container: AppContainer,
                     uow: UnitOfWork) -> Response[dict[str, Any]]:
        require_level(principal, 2)
        body = await export_all(container, uow, principal)
        return Response(body, headers={"Content-Disposition": 'attachment; filename="thudo-export.json"'})

    @post("/deletion-request", operation_id="meDeletionRequest", summary="Ask for my account to be deleted",
          description="Recorded for the data protection officer; every session is revoked at once.",
          status_code=202)
    async def deletion_request(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork) -> DeletionOut:
        at, revoked = await my_account(container, uow).request_deletion(principal.id, sessions(container, uow))
        return DeletionOut(requested_at=at, sessions_revoked=revoked)


i18n.register({
    "identity.session_not_found": {"vi": "Không tìm thấy phiên đăng nhập", "en": "Session not found"},
    "identity.device_not_found": {"vi": "Không tìm thấy thiết bị", "en": "Device not found"},
    "identity.user_not_found": {"vi": "Không tìm thấy người dùng", "en": "User not found"},
    "identity.district_unknown": {"vi": "Quận/huyện không tồn tại", "en": "No such district"},
})
