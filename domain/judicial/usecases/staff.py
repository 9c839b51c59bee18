"""Use cases of the issuing authority's staff: the queue and each step of the workflow.

Handlers and supervisors receive, verify and ask for supplements; approving, issuing, rejecting
and changing an issued certificate's status take a supervisor. Every step records who and when.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import date, timedelta

import msgspec

from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.identity.principal import Principal, StaffRole
from domain.judicial import deadlines, states
from domain.judicial.fee_payment import may_issue
from domain.judicial.model import (
    Certificate,
    CertificateContent,
    CertificateType,
    CrossCheckOutcome,
    DeadlineKind,
    QueueItem,
    Request,
    Status,
    StatusPurpose,
    Step,
)
from domain.judicial.ports import QueueFilter
from domain.judicial.states import Action
from domain.judicial.usecases.common import UseCase, replace
from domain.notifications.model import Notification
from domain.shared.ids import new_id
from domain.shared.paging import MAX_LIMIT, Page

ANY_STAFF = (StaffRole.HANDLER, StaffRole.SUPERVISOR)
SUPERVISOR = (StaffRole.SUPERVISOR,)


class QueueQuery(msgspec.Struct, frozen=True, kw_only=True):
    statuses: frozenset[Status] = frozenset()
    certificate_type: CertificateType | None = None
    overdue_only: bool = False
    submitted_from: date | None = None
    submitted_to: date | None = None


class Queue(UseCase):
    async def execute(self, principal: Principal, q: QueueQuery, cursor: str | None,
                      limit: int) -> Page[Request]:
        f = queue_filter(self, principal, q)
        return await self.d.requests.queue(f, self.d.clock.now(), cursor, min(limit, MAX_LIMIT))


class QueueItems(UseCase):
    """``Queue`` as its read model (``QueueItem``), for the API's list: the same scoping, rows, order and
    cursor, decoded by the store straight into what the API returns (no entity, no dict in between)."""

    async def execute(self, principal: Principal, q: QueueQuery, cursor: str | None,
                      limit: int) -> Page[QueueItem]:
        f = queue_filter(self, principal, q)
        return await self.d.requests.queue_items(f, self.d.clock.now(), cursor, min(limit, MAX_LIMIT))


def queue_filter(uc: UseCase, principal: Principal, q: QueueQuery) -> QueueFilter:
    """Who sees the queue and what: staff of an issuing authority, their authorities' requests in process."""
    units = principal.unit_ids & uc.d.authorities.unit_ids
    if not units:
        raise Forbidden("judicial.staff_only")
    if q.statuses & {Status.DRAFT}:
        raise InvalidInput("judicial.queue_status", field="status", rule="not_draft")
    return QueueFilter(authority_unit_ids=frozenset(units), statuses=q.statuses,
                       certificate_type=q.certificate_type, overdue_only=q.overdue_only,
                       submitted_from=q.submitted_from, submitted_to=q.submitted_to)


class StaffView(UseCase):
    async def execute(self, principal: Principal, request_id: uuid.UUID) -> tuple[Request, list[Step]]:
        request = await self.staff_request(principal, request_id, lock=False)
        return request, await self.d.requests.steps(request.id)


class Receive(UseCase):
    async def execute(self, principal: Principal, request_id: uuid.UUID, note: str = "") -> Request:
        request = await self.staff_request(principal, request_id, *ANY_STAFF)
        after = replace(request, status=states.transition(Action.RECEIVE, request.status))
        return await self.move(request, after, principal, note=note)


class StartVerification(UseCase):
    """Ask the police/court registries (the cross-check port); an expungement to establish
    turns the limit into 15 working days."""

    async def execute(self, principal: Principal, request_id: uuid.UUID, note: str = "") -> Request:
        request = await self.staff_request(principal, request_id, *ANY_STAFF)
        status = states.transition(Action.VERIFY, request.status)
        result = await self.d.cross_check.check(request.applicant, request.certificate_type)
        after = replace(request, status=status, cross_check=result)
        if (result.outcome is CrossCheckOutcome.EXPUNGEMENT_CHECK and request.deadline_kind is DeadlineKind.NORMAL
                and request.due_at is not None):
            extra = deadlines.WORKING_DAYS[DeadlineKind.EXTENDED] - deadlines.WORKING_DAYS[DeadlineKind.NORMAL]
            after = replace(after, deadline_kind=DeadlineKind.EXTENDED,
                            deadline_reasons=(*request.deadline_reasons, "expungement_check"),
                            due_at=deadlines.extend(self.d.calendar, request.due_at, extra))
        return await self.move(request, after, principal, note=note,
                               data={"outcome": result.outcome.value, "sources": list(result.sources)})


class RequestSupplement(UseCase):
    async def execute(self, principal: Principal, request_id: uuid.UUID, note: str) -> Request:
        if not note.strip():
            raise InvalidInput("judicial.field_required", field="note", rule="required")
        request = await self.staff_request(principal, request_id, *ANY_STAFF)
        after = replace(request, status=states.transition(Action.REQUEST_SUPPLEMENT, request.status),
                        supplement_note=note.strip(), paused_at=self.d.clock.now())
        return await self.move(request, after, principal, note=note)


class Approve(UseCase):
    async def execute(self, principal: Principal, request_id: uuid.UUID, note: str = "") -> Request:
        request = await self.staff_request(principal, request_id, *SUPERVISOR)
        after = replace(request, status=states.transition(Action.APPROVE, request.status))
        return await self.move(request, after, principal, note=note)


class Reject(UseCase):
    async def execute(self, principal: Principal, request_id: uuid.UUID, reason: str) -> Request:
        if not reason.strip():
            raise InvalidInput("judicial.field_required", field="reason", rule="required")
        request = await self.staff_request(principal, request_id, *SUPERVISOR)
        after = replace(request, status=states.transition(Action.REJECT, request.status),
                        rejection_reason=reason.strip(), closed_at=self.d.clock.now(), paused_at=None)
        return await self.move(request, after, principal, note=reason)


class Issue(UseCase):
    """Mint the e-certificate: status list positions, the VC-JWT, the signed PDF."""

    async def execute(self, principal: Principal, request_id: uuid.UUID) -> tuple[Request, Certificate]:
        request = await self.staff_request(principal, request_id, *SUPERVISOR)
        status = states.transition(Action.ISSUE, request.status)
        owed = request.fee.amount_due if request.fee else 0
        if self.d.fee_payments is not None and not may_issue(owed, await self.d.fee_payments.get(request.id)):
            raise Conflict("judicial.fee_unpaid", amount_due=owed)
        now = self.d.clock.now()
        authority = self.d.authorities.by_unit(request.authority_unit_id or uuid.UUID(int=0))
        assert authority is not None
        assert request.cross_check is not None
        a = request.applicant
        assert a.full_name
        assert a.sex
        assert a.date_of_birth
        assert a.id_document
        assert a.permanent_residence
        check = request.cross_check
        no2 = request.certificate_type is CertificateType.NO2
        cert_id = new_id()
        token = secrets.token_urlsafe(16)
        content = CertificateContent(
            certificate_id=cert_id, number=f"{request.ref}-{request.certificate_type.value}",
            certificate_type=request.certificate_type, request_ref=request.ref, authority_code=authority.code,
            authority_name_vi=authority.name_vi, authority_name_en=authority.name_en, full_name=a.full_name,
            sex=a.sex, date_of_birth=a.date_of_birth, place_of_birth=a.place_of_birth or "",
            nationality=a.nationality or "VN", id_document_kind=a.id_document.kind,
            id_document_number=a.id_document.number, permanent_residence=a.permanent_residence.text,
            father_name=a.father.full_name if a.father else "", mother_name=a.mother.full_name if a.mother else "",
            purpose=request.purpose,
            # No. 1 lists only convictions not expunged; No. 2 lists all of them and the bans.
            convictions=check.convictions if no2 else tuple(c for c in check.convictions if not c.expunged),
            bans=check.bans if no2 else (), issued_at=now,
            valid_until=now + timedelta(days=self.d.settings.certificate_valid_days),
            verify_url=f"{self.d.settings.verify_base_url}/{token}")
        refs = (await self.d.status_lists.allocate(authority.code, StatusPurpose.REVOCATION),
                await self.d.status_lists.allocate(authority.code, StatusPurpose.SUSPENSION))
        vc_jwt = self.d.signer.sign(content, refs)
        pdf = await self.d.renderer.render(content)
        pdf_key = f"judicial/certificates/{cert_id}.pdf"
        await self.d.blobs.put(pdf_key, pdf)
        certificate = Certificate(
            id=cert_id, request_id=request.id, holder_id=request.requester_id, number=content.number,
            certificate_type=request.certificate_type, authority_unit_id=authority.unit_id,
            authority_code=authority.code, date_of_birth=a.date_of_birth, issued_at=now,
            valid_until=content.valid_until, vc_jwt=vc_jwt, pdf_key=pdf_key, verify_token=token, status_refs=refs)
        await self.d.certificates.add(certificate)
        after = replace(request, status=status, closed_at=now)
        return await self.move(request, after, principal, data={"certificate_id": str(cert_id)}), certificate


class ChangeCertificateStatus(UseCase):
    """Revoke (final), suspend or reinstate an issued certificate: flips its status list bits."""

    async def execute(self, principal: Principal, certificate_id: uuid.UUID, action: str,
                      reason: str) -> Certificate:
        cert = await self.d.certificates.get(certificate_id, for_update=True)
        if cert is None or not principal.has_role(cert.authority_unit_id):
            raise NotFound("judicial.certificate_not_found")
        if not principal.has_role(cert.authority_unit_id, *SUPERVISOR):
            raise Forbidden("judicial.role_required", role=StaffRole.SUPERVISOR.value)
        if not reason.strip():
            raise InvalidInput("judicial.field_required", field="reason", rule="required")
        if cert.revoked_at is not None:
            raise _conflict("revoked")
        now = self.d.clock.now()
        refs = {r.purpose: r for r in cert.status_refs}
        if action == "revoke":
            updated = replace(cert, revoked_at=now, suspended_at=None, status_reason=reason)
            await self.d.status_lists.set(refs[StatusPurpose.REVOCATION], True)
            if cert.suspended_at is not None:
                await self.d.status_lists.set(refs[StatusPurpose.SUSPENSION], False)
        elif action == "suspend":
            if cert.suspended_at is not None:
                raise _conflict("suspended")
            updated = replace(cert, suspended_at=now, status_reason=reason)
            await self.d.status_lists.set(refs[StatusPurpose.SUSPENSION], True)
        elif action == "reinstate":
            if cert.suspended_at is None:
                raise _conflict("valid")
            updated = replace(cert, suspended_at=None, status_reason=reason)
            await self.d.status_lists.set(refs[StatusPurpose.SUSPENSION], False)
        else:
            raise InvalidInput("judicial.status_action", field="action", rule="one_of")
        await self.d.certificates.save_status(updated)
        await self.d.notifier.notify(Notification(
            user_id=cert.holder_id, category="judicial", template="judicial.status_changed",
            object_type="judicial_certificate", object_id=str(cert.id),
            params={"number": cert.number, "status": updated.status(now).value}, legally_required=True,
            idempotency_key=f"judicial.status:{cert.id}:{action}:{now.isoformat()}"))
        return updated



class IssuedCertificate(UseCase):
    """The certificate issued for a request of the caller's authority, for staff to hand over or print;
    another authority's request is 404, and so is a request with no certificate yet."""

    async def execute(self, principal: Principal, request_id: uuid.UUID) -> Certificate:
        request = await self.staff_request(principal, request_id, lock=False)
        cert = await self.d.certificates.by_request(request.id)
        if cert is None:
            raise NotFound("judicial.certificate_not_found")
        return cert


class IssuedCertificatePdf(UseCase):
    """The signed PDF of that certificate (the same bytes the holder downloads)."""

    async def execute(self, principal: Principal, request_id: uuid.UUID) -> tuple[Certificate, bytes]:
        cert = await IssuedCertificate(self.d).execute(principal, request_id)
        data = await self.d.blobs.get(cert.pdf_key)
        if data is None:
            raise NotFound("judicial.certificate_not_found")
        return cert, data


def _conflict(status: str) -> Conflict:
    return Conflict("judicial.certificate_status", status=status)


class RequestDocument(UseCase):
    """An uploaded file of a request (proxy authorisation, fee category proof), for the authority's
    staff or the requester; any other key is 404."""

    async def execute(self, principal: Principal, request_id: uuid.UUID, key: str) -> tuple[str, bytes]:
        request = await self.d.requests.get(request_id)
        if request is None:
            raise NotFound("judicial.document_not_found")
        if request.requester_id != principal.id:
            await self.staff_request(principal, request_id, lock=False)
        docs = [*request.fee_documents, *([request.proxy.document] if request.proxy and request.proxy.document
                                          else [])]
        doc = next((d for d in docs if d.key == key), None)
        data = await self.d.blobs.get(key) if doc is not None else None
        if doc is None or data is None:
            raise NotFound("judicial.document_not_found")
        return doc.content_type, data
