"""Transit staff (the Department of Transport's unit, or city admins): concession documents to
verify, paper single-ride tickets sold at counters, and revoking a pass."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from api.identity.auth import CurrentUser, staff_guard
from api.platform.deps import AppContainer, UnitOfWork
from api.platform.idempotency import idempotent
from api.platform.params import Limit
from api.platform.problems import ProblemError
from api.transit.common import BEARER, deps, services
from api.transit.schemas import (
    ApplicationOut,
    DecisionIn,
    PaperTicketIn,
    PaperTicketOut,
    PassOut,
    RevokeIn,
    application_out,
    b64u,
    pass_out,
)
from domain.transit.usecases import cards, gates, passes, purchase


class PendingList(msgspec.Struct, kw_only=True):
    items: list[ApplicationOut]


class StaffTransitController(Controller):
    path = "/transit/staff"
    tags = ["transit staff"]
    security = BEARER
    guards = [staff_guard]

    @get("/applications", operation_id="transitStaffPending",
         summary="Concession applications waiting for a decision, oldest first")
    async def pending(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                      limit: Limit = 50) -> PendingList:
        d = await deps(container, uow.conn, staff=True)
        found = await purchase.PendingApplications(d).execute(principal, limit)
        return PendingList(items=[application_out(a) for a in found])

    @get("/applications/{application_id:uuid}/document", operation_id="transitStaffDocument",
         summary="The uploaded card or certificate image of an application", media_type="application/octet-stream")
    async def document(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                       application_id: FromPath[uuid.UUID]) -> Response[bytes]:
        d = await deps(container, uow.conn, staff=True)
        application = await purchase.ApplicationForStaff(d).execute(principal, application_id)
        blobs = services(container).blobs
        data = await blobs.get(application.evidence_ref) if blobs is not None else None
        if data is None:
            raise ProblemError(404, "transit.application_not_found")
        ext = application.evidence_ref.rsplit(".", 1)[-1]
        media = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "heic": "image/heic"}.get(ext)
        return Response(data, media_type=media or "application/octet-stream",
                        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})

    @post("/applications/{application_id:uuid}/decision", operation_id="transitStaffDecide", status_code=200,
          summary="Approve (with the document's end date) or reject (with a reason) an application")
    async def decide(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                     application_id: FromPath[uuid.UUID], data: JSONBody[DecisionIn]) -> ApplicationOut:
        d = await deps(container, uow.conn, staff=True)
        decided = await cards.DecideApplication(d).execute(principal, application_id, data.approve, data.valid_until,
                                                          data.reason)
        return application_out(decided)

    @post("/passes/{pass_id:uuid}/revoke", operation_id="transitStaffRevoke", status_code=200,
          summary="Revoke a pass (fraud, lost phone): stops at once, offline after the deny list syncs")
    async def revoke(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                     pass_id: FromPath[uuid.UUID], data: JSONBody[RevokeIn]) -> PassOut:
        d = await deps(container, uow.conn, staff=True)
        return pass_out(await passes.RevokePass(d).execute(principal, pass_id, data.reason))

    @post("/paper-tickets", operation_id="transitStaffPaperTicket", status_code=201,
          summary="Sell a signed single-entry paper ticket for today (QR as PNG and SVG to print)",
          description="Send an Idempotency-Key: a retry (printer jam, lost response) returns the same ticket.")
    async def paper_ticket(self, request: Request[Any, Any, Any], principal: CurrentUser, container: AppContainer,
                           uow: UnitOfWork, data: JSONBody[PaperTicketIn]) -> Response[PaperTicketOut]:
        async def run() -> Response[Any]:
            d = await deps(container, uow.conn, staff=True)
            sold = await gates.SellPaperTicket(d).execute(principal, data.product_id, data.category)
            t = sold.ticket
            return Response(PaperTicketOut(
                id=t.id, product_id=t.product_id, category=t.category, price_vnd=t.price_vnd, valid_from=t.valid_from,
                valid_until=t.valid_until, data=b64u(sold.data), png=base64.b64encode(sold.png).decode(),
                svg=sold.svg), status_code=201)
        return await idempotent(request, uow, f"user:{principal.id}", run)
