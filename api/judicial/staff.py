"""Staff of the issuing authority: the queue (filters, overdue), one request, each workflow step,
and the status of issued certificates. Another authority's requests are 404; a missing role 403."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from api.identity.auth import CurrentUser
from api.judicial import schemas as s
from api.judicial.citizen import BEARER
from api.judicial.wiring import judicial_deps
from api.platform.deps import READ_ONLY, AppContainer, UnitOfWork
from api.platform.params import Limit
from domain.judicial.model import CertificateType, QueueItem, Status
from domain.judicial.usecases import staff
from domain.judicial.usecases.common import FeePaymentOf
from domain.shared.paging import Page

StatusName = Literal["submitted", "received", "verifying", "supplement_requested", "supplemented", "approved",
                     "issued", "rejected", "withdrawn"]


class StaffJudicialController(Controller):
    path = "/staff/judicial"
    tags = ["judicial staff"]
    security = BEARER

    # One statement reads the page (a consistent snapshot by itself): no BEGIN/COMMIT around it.
    @get("/requests", operation_id="judicialQueue", opt=READ_ONLY,
         summary="My authority's requests in process, earliest deadline first (cursor paged)")
    async def queue(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                    status: FromQuery[list[StatusName] | None] = None,
                    certificate_type: FromQuery[Literal["1", "2"] | None] = None,
                    overdue: FromQuery[bool] = False, submitted_from: FromQuery[dt.date | None] = None,
                    submitted_to: FromQuery[dt.date | None] = None, cursor: FromQuery[str | None] = None,
                    limit: Limit = 20) -> Page[QueueItem]:
        q = staff.QueueQuery(statuses=frozenset(Status(x) for x in status or ()),
                             certificate_type=CertificateType(certificate_type) if certificate_type else None,
                             overdue_only=overdue, submitted_from=submitted_from, submitted_to=submitted_to)
        # The read model, encoded as it comes: what ``request_out`` made of each request, built once.
        return await staff.QueueItems(await judicial_deps(container, uow.conn)).execute(principal, q, cursor, limit)

    @get("/requests/{request_id:uuid}", operation_id="judicialStaffRequest", summary="One request with its steps")
    async def one(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                  request_id: FromPath[uuid.UUID]) -> dict[str, Any]:
        d = await judicial_deps(container, uow.conn)
        r, steps = await staff.StaffView(d).execute(principal, request_id)
        return s.request_out(r, container.clock.now(), steps,
                             fee_payment=await FeePaymentOf(d).execute(r))

    async def _step(self, container: Any, uow: Any, action: Any, principal: Any, request_id: uuid.UUID,
                    *args: Any) -> dict[str, Any]:
        r = await action(await judicial_deps(container, uow.conn)).execute(principal, request_id, *args)
        return s.request_out(r, container.clock.now())

    @post("/requests/{request_id:uuid}/receive", operation_id="judicialReceive", status_code=200,
          summary="Checked complete: received")
    async def receive(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                      request_id: FromPath[uuid.UUID], data: JSONBody[s.NoteIn]) -> dict[str, Any]:
        return await self._step(container, uow, staff.Receive, principal, request_id, data.note)

    @post("/requests/{request_id:uuid}/verify", operation_id="judicialVerify", status_code=200,
          summary="Cross-check with police and court records")
    async def verify(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                     request_id: FromPath[uuid.UUID], data: JSONBody[s.NoteIn]) -> dict[str, Any]:
        return await self._step(container, uow, staff.StartVerification, principal, request_id, data.note)

    @post("/requests/{request_id:uuid}/supplement-request", operation_id="judicialSupplementRequest",
          status_code=200, summary="Ask the citizen for more information (the deadline pauses)")
    async def supplement(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                         request_id: FromPath[uuid.UUID], data: JSONBody[s.RequiredNoteIn]) -> dict[str, Any]:
        return await self._step(container, uow, staff.RequestSupplement, principal, request_id, data.note)

    @post("/requests/{request_id:uuid}/approve", operation_id="judicialApprove", status_code=200,
          summary="Approve (supervisor)")
    async def approve(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                      request_id: FromPath[uuid.UUID], data: JSONBody[s.NoteIn]) -> dict[str, Any]:
        return await self._step(container, uow, staff.Approve, principal, request_id, data.note)

    @post("/requests/{request_id:uuid}/reject", operation_id="judicialReject", status_code=200,
          summary="Reject with a reason (supervisor)")
    async def reject(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                     request_id: FromPath[uuid.UUID], data: JSONBody[s.RejectIn]) -> dict[str, Any]:
        return await self._step(container, uow, staff.Reject, principal, request_id, data.reason)

    @post("/requests/{request_id:uuid}/issue", operation_id="judicialIssue", status_code=200,
          summary="Issue the e-certificate: VC-JWT, status list positions, signed PDF (supervisor)")
    async def issue(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                    request_id: FromPath[uuid.UUID]) -> dict[str, Any]:
        d = await judicial_deps(container, uow.conn)
        r, cert = await staff.Issue(d).execute(principal, request_id)
        out = s.request_out(r, container.clock.now())
        out["certificate_id"] = str(cert.id)
        return out

    @post("/certificates/{certificate_id:uuid}/status", operation_id="judicialCertificateStatus", status_code=200,
          summary="Revoke, suspend or reinstate an issued certificate (supervisor)")
    async def certificate_status(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                                 certificate_id: FromPath[uuid.UUID],
                                 data: JSONBody[s.CertificateStatusIn]) -> dict[str, Any]:
        cert = await staff.ChangeCertificateStatus(await judicial_deps(container, uow.conn)).execute(
            principal, certificate_id, data.action, data.reason)
        return {"id": str(cert.id), "status": cert.status(container.clock.now()).value}
