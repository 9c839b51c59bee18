"""The citizen's health record in the app (``/api/v1/health-record``; ``/health/*`` are the platform's
probes): timeline, lists per category, visit detail, shares with their QR, the access log (level-2
e-ID); and redeeming a share code (doctors with e-ID, facilities with their client)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from adapters.postgres.health.record import PgRecord
from api.health import texts  # noqa: F401 - registers the error texts
from api.health.schemas import (
    AccessOut,
    ListCategory,
    RecordOut,
    RedeemIn,
    RedeemOut,
    ShareIn,
    ShareOut,
    VisitOut,
    access_out,
    share_out,
)
from api.health.wiring import health
from api.identity.auth import (
    ANY_CALLER_OPT,
    SESSION_IN_QUERY,
    CurrentUser,
    authenticate,
    deferred_session,
    level2_guard,
    settle_deferred_session,
)
from api.platform.container import Container
from api.platform.deps import READ_ONLY, AppContainer, UnitOfWork
from api.platform.idempotency import idempotent
from api.platform.params import Limit
from api.platform.problems import problem_spec
from domain.errors import NotFound
from domain.health.model import Category, RecordItem
from domain.health.sharing import hash_code
from domain.shared.paging import Page

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def _api_base(request: Request[Any, Any, Any], container: Container) -> str:
    return (container.settings.public_base_url or str(request.base_url)).rstrip("/") + "/api/v1"


def _share_link(base: str, code: str) -> str:
    from adapters.sharecode.qr import share_link
    return share_link(base, code)


class HealthRecordController(Controller):
    path = "/health-record"
    tags = ["health-record"]
    security = BEARER
    guards = [level2_guard]

    @get("", operation_id="healthRecord", summary="My record's FHIR Patient id and FHIR base URL")
    async def record(self, request: Request[Any, Any, Any], principal: CurrentUser, container: AppContainer,
                     uow: UnitOfWork) -> RecordOut:
        patient_id = await health(container, uow.conn).policy.own(principal)
        root = (container.settings.public_base_url or str(request.base_url)).rstrip("/")
        return RecordOut(patient_id=patient_id, fhir_base=f"{root}/fhir/r4")

    @get("/timeline", operation_id="healthTimeline", summary="My visits, newest first (cursor paged)",
         opt={**READ_ONLY, **SESSION_IN_QUERY})
    async def timeline(self, request: Request[Any, Any, Any], principal: CurrentUser, container: AppContainer,
                       uow: UnitOfWork, cursor: FromQuery[str | None] = None, limit: Limit = 20) -> Page[RecordItem]:
        # The patient's own reads are not logged (only third parties' are): a pure read.
        citizen = health(container, uow.conn).citizen
        session_id = deferred_session(request)
        if session_id is None:  # checked on its own already (read replicas)
            return await citizen.entries(principal, (Category.VISITS,), cursor=cursor, limit=limit)
        # One round trip: the caller's patient id and the page, read only while the caller's session is live.
        query = citizen.own_query(principal, Category.VISITS, cursor, limit)
        found = await PgRecord(uow.conn).own_items_in_session(query, session_id)
        return citizen.own_page(query, settle_deferred_session(request, found))

    @get("/visits/{visit_id:uuid}", operation_id="healthVisit", summary="One visit and everything recorded in it")
    async def visit(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                    visit_id: FromPath[uuid.UUID]) -> VisitOut:
        found, related = await health(container, uow.conn).citizen.detail(principal, visit_id)
        if found.category is not Category.VISITS:
            raise NotFound("health.item_not_found")
        return VisitOut(visit=found, entries=related)

    @get("/items/{category:str}", operation_id="healthItems",
         summary="Problems, medications, immunisations, labs (with reference ranges), vitals, allergies, "
                 "procedures, referrals, appointments or documents, newest first")
    async def items(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                    category: FromPath[ListCategory], cursor: FromQuery[str | None] = None,
                    limit: Limit = 20) -> Page[RecordItem]:
        return await health(container, uow.conn).citizen.entries(principal, (Category(category),), cursor=cursor,
                                                                  limit=limit)

    @get("/items/{category:str}/{item_id:uuid}", operation_id="healthItem", summary="One entry of my record")
    async def item(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                   category: FromPath[ListCategory],
                   item_id: FromPath[uuid.UUID]) -> RecordItem:
        found, _ = await health(container, uow.conn).citizen.detail(principal, item_id)
        if found.category.value != category:
            raise NotFound("health.item_not_found")
        return found

    @get("/shares", operation_id="healthShares", summary="My shares (active, expired, revoked)")
    async def shares(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork) -> list[ShareOut]:
        now = container.clock.now()
        return [share_out(s, now) for s in await health(container, uow.conn).sharing.mine(principal)]

    @post("/shares", operation_id="healthShareCreate", status_code=201,
          summary="Share my record (or chosen categories) for 1 hour to 7 days; the code is shown once",
          description="Send an Idempotency-Key: a retry returns the first answer (with the same code).")
    async def create_share(self, request: Request[Any, Any, Any], principal: CurrentUser, container: AppContainer,
                           uow: UnitOfWork, data: JSONBody[ShareIn]) -> Response[ShareOut]:
        async def run() -> Response[Any]:
            created = await health(container, uow.conn).sharing.create(
                principal, categories=tuple(data.categories), recipient=data.recipient, hours=data.hours)
            link = _share_link(_api_base(request, container), created.code)
            return Response(share_out(created.share, container.clock.now(), created.code, link), status_code=201)
        return await idempotent(request, uow, f"user:{principal.id}", run)

    @post("/shares/{share_id:uuid}/revoke", operation_id="healthShareRevoke", status_code=200,
          summary="Revoke a share at once")
    async def revoke(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                     share_id: FromPath[uuid.UUID]) -> ShareOut:
        share = await health(container, uow.conn).sharing.revoke(principal, share_id)
        return share_out(share, container.clock.now())

    @get("/shares/qr", operation_id="healthShareQr", media_type="image/png",
         summary="The QR of one of my active share codes (format=png|svg)")
    async def qr(self, request: Request[Any, Any, Any], principal: CurrentUser, container: AppContainer,
                 uow: UnitOfWork, code: Annotated[str, QueryParameter(min_length=8, max_length=20)],
                 format: FromQuery[Literal["png", "svg"]] = "png") -> Response[bytes]:
        h = health(container, uow.conn)
        patient_id = await h.policy.own(principal)
        share = await h.sharing.shares.by_code_hash(hash_code(code))
        if share is None or share.patient_id != patient_id or not share.active(container.clock.now()):
            raise NotFound("health.share_not_found")
        # qrcode (and Pillow) load on the first QR, not at start-up.
        from adapters.sharecode.qr import share_link, share_qr_png, share_qr_svg
        link = share_link(_api_base(request, container), code)
        if format == "svg":
            return Response(share_qr_svg(link), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})
        return Response(share_qr_png(link), media_type="image/png", headers={"Cache-Control": "no-store"})

    @get("/access-log", operation_id="healthAccessLog", summary="Who read my record: who, when, what, why")
    async def access_log(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                         cursor: FromQuery[str | None] = None, limit: Limit = 20) -> Page[AccessOut]:
        page = await health(container, uow.conn).history.list(principal, cursor=cursor, limit=limit)
        return Page(items=[access_out(e) for e in page.items], next_cursor=page.next_cursor)


class ShareRedeemController(Controller):
    """A doctor (level-2 e-ID) or a facility (its client) presents a citizen's share code."""

    path = "/health-record/shares/redeem"
    tags = ["health-record"]
    security = BEARER

    @post("", operation_id="healthShareRedeem", status_code=200, opt={ANY_CALLER_OPT: True},
          responses={404: problem_spec("No such share code, or it expired or was revoked")},
          summary="Redeem a share code: read that record through /fhir/r4 within the share until it ends")
    async def redeem(self, request: Request[Any, Any, Any], container: AppContainer, uow: UnitOfWork,
                     data: JSONBody[RedeemIn]) -> RedeemOut:
        share = await health(container, uow.conn).sharing.redeem(await authenticate(request), data.code)
        root = (container.settings.public_base_url or str(request.base_url)).rstrip("/")
        return RedeemOut(patient_id=share.patient_id, categories=list(share.categories), expires_at=share.expires_at,
                         fhir_base=f"{root}/fhir/r4")
