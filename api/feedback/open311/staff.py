"""Staff side of Open311: who reported through a partner, for the unit handling the report.

The contact a partner passed on (email, name, phone) is personal data: stored encrypted, never in
any Open311 response, and readable here only by staff of the report's current unit.
"""

from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, Response, get
from litestar.params import FromPath

from adapters.postgres.feedback.repositories import PgReports
from api.feedback.common import BEARER
from api.feedback.open311.router import o311
from api.identity.auth import CurrentUser, staff_guard
from api.platform.deps import AppContainer, UnitOfWork
from domain.errors import NotFound


class PartnerContactOut(msgspec.Struct, kw_only=True):
    partner: str
    account_id: str | None
    email: str
    first_name: str
    last_name: str
    phone: str
    device_id: str


class Open311StaffController(Controller):
    path = "/staff/feedback"
    tags = ["feedback-staff"]
    security = BEARER
    guards = [staff_guard]

    @get("/reports/{report_id:uuid}/partner-contact", operation_id="feedbackPartnerContact",
         summary="The person behind an Open311 partner's report (staff of the report's unit)",
         description="404 when the report is not with one of the caller's units or did not come from a partner.")
    async def contact(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                      report_id: FromPath[uuid.UUID]) -> Response[PartnerContactOut]:
        report = await PgReports(uow.conn).get(report_id)
        if report is None or not principal.has_role(report.unit_id):
            raise NotFound("feedback.report_not_found")
        found = await o311(container, uow).partner_contact(report_id)
        if found is None:
            raise NotFound("feedback.report_not_found")
        partner, account_id, c = found
        return Response(PartnerContactOut(partner=partner, account_id=account_id, email=c.email,
                                          first_name=c.first_name, last_name=c.last_name, phone=c.phone,
                                          device_id=c.device_id), headers={"Cache-Control": "no-store"})


CONTROLLERS = [Open311StaffController]
