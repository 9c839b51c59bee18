"""Citizen use cases: drafts pre-filled from the e-ID, documents, price quote, submit, withdraw,
supplement, and reading one's own requests."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import msgspec

from domain.errors import Conflict, Forbidden, InvalidInput
from domain.identity.principal import Principal
from domain.judicial import deadlines, states
from domain.judicial.fees import PricingInput, price
from domain.judicial.model import (
    PREFILLABLE,
    ActorKind,
    Address,
    Applicant,
    CertificateType,
    Delivery,
    DocumentRef,
    FeeBreakdown,
    FeeCategory,
    Proxy,
    ProxyRelation,
    Request,
    ResidencePeriod,
    Status,
    Step,
)
from domain.judicial.states import Action
from domain.judicial.submission import check_rules, hanoi_resident
from domain.judicial.usecases.common import UseCase, replace
from domain.shared.ids import new_id
from domain.shared.paging import Page
from domain.shared.time import HANOI


class DraftInput(msgspec.Struct, frozen=True, kw_only=True):
    """The fields a citizen types. ``applicant`` fields left ``None`` keep their current value."""

    certificate_type: CertificateType = CertificateType.NO1
    proxy_relation: ProxyRelation | None = None      # set: Mẫu 04, asking for someone else
    purpose: str = ""
    copies: int = 2
    delivery: Delivery = Delivery.ELECTRONIC
    postal_address: Address | None = None
    fee_category: FeeCategory = FeeCategory.STANDARD
    applicant: Applicant = msgspec.field(default_factory=Applicant)
    residence_history: tuple[ResidencePeriod, ...] = ()


def _level2(principal: Principal) -> None:
    if not principal.is_user or principal.level < 2:
        raise Forbidden("judicial.level2_required")


def _merge(current: Applicant, typed: Applicant, prefilled: tuple[str, ...]) -> Applicant:
    changes: dict[str, Any] = {}
    for name in Applicant.__struct_fields__:
        value = getattr(typed, name)
        if value is None or (name == "other_names" and value == ""):
            continue
        if name in prefilled and value != getattr(current, name):
            # What the population database says is not the citizen's to change here.
            raise InvalidInput("judicial.prefilled_field", field=f"applicant.{name}", rule="prefilled")
        changes[name] = value
    return replace(current, **changes)


def _apply(request: Request, cmd: DraftInput) -> Request:
    if (cmd.proxy_relation is None and request.proxy is not None) or (
            cmd.proxy_relation is not None and request.proxy is None):
        raise Conflict("judicial.proxy_fixed")  # self vs proxy is chosen when the draft starts
    proxy = request.proxy if cmd.proxy_relation is None or request.proxy is None else replace(
        request.proxy, relation=cmd.proxy_relation)
    return replace(request, certificate_type=cmd.certificate_type, proxy=proxy, purpose=cmd.purpose.strip(),
                   copies=cmd.copies, delivery=cmd.delivery, postal_address=cmd.postal_address,
                   fee_category=cmd.fee_category,
                   applicant=_merge(request.applicant, cmd.applicant, request.prefilled),
                   residence_history=cmd.residence_history)


class StartDraft(UseCase):
    async def execute(self, principal: Principal, cmd: DraftInput,
                      drafted: tuple[Request, Step] | None = None) -> Request:
        """The draft stored, its reference assigned. ``drafted``: what ``draft`` returned for the same
        ``principal`` and ``cmd`` (a caller that builds its answer before the write)."""
        draft, step = drafted or await self.draft(principal, cmd)
        return await self.d.requests.add(draft, step)

    async def draft(self, principal: Principal, cmd: DraftInput) -> tuple[Request, Step]:
        """The draft and its first step as ``execute`` stores them, without its reference (``ref`` empty)."""
        _level2(principal)
        if cmd.certificate_type is CertificateType.NO2 and cmd.proxy_relation is not None:
            raise Forbidden("judicial.no2_by_proxy")
        now = self.d.clock.now()
        applicant, prefilled = Applicant(), tuple[str, ...]()
        if cmd.proxy_relation is None:
            # Asking for oneself: the population database fills what it knows (Mẫu 03 via VNeID).
            known = await self.d.population.profile(principal.id)
            if known is not None:
                applicant = known
                prefilled = tuple(n for n in PREFILLABLE if getattr(known, n) is not None)
        draft = Request(id=new_id(), ref="", requester_id=principal.id, applicant=applicant, prefilled=prefilled,
                        proxy=Proxy(relation=cmd.proxy_relation) if cmd.proxy_relation else None,
                        requester_level=principal.level, created_at=now, updated_at=now)
        draft = _apply(draft, cmd)
        step = Step(id=new_id(), request_id=draft.id, from_status=None, to_status=Status.DRAFT,
                    actor_kind=ActorKind.CITIZEN, actor_id=principal.id, at=now)
        return draft, step


class UpdateDraft(UseCase):
    async def execute(self, principal: Principal, request_id: uuid.UUID, cmd: DraftInput) -> Request:
        request = await self.own_request(principal, request_id)
        states.transition(Action.EDIT, request.status)
        if cmd.certificate_type is CertificateType.NO2 and request.proxy is not None:
            raise Forbidden("judicial.no2_by_proxy")
        updated = replace(_apply(request, cmd), updated_at=self.d.clock.now(), version=request.version + 1)
        await self.d.requests.save(updated)
        return updated


_MAGIC = {"application/pdf": (b"%PDF-",), "image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",)}


class AttachDocument(UseCase):
    """Upload the proxy's authorisation (``kind="proxy"``) or a fee category proof (``"fee"``)."""

    async def execute(self, principal: Principal, request_id: uuid.UUID, kind: str, data: bytes,
                      content_type: str) -> DocumentRef:
        request = await self.own_request(principal, request_id)
        if request.status not in (Status.DRAFT, Status.SUPPLEMENT_REQUESTED):
            raise Conflict("judicial.wrong_status", action="attach", status=request.status.value)
        if kind not in ("proxy", "fee") or (kind == "proxy" and request.proxy is None):
            raise InvalidInput("judicial.document_kind", field="kind", rule="one_of")
        if len(data) > self.d.settings.max_upload_bytes:
            raise InvalidInput("judicial.document_too_large", field="file", rule="max_size")
        magic = _MAGIC.get(content_type)
        if magic is None or not data.startswith(magic):
            raise InvalidInput("judicial.document_type", field="file", rule="pdf_jpeg_png")
        digest = hashlib.sha256(data).hexdigest()
        doc = DocumentRef(key=f"judicial/{request.id}/{new_id()}", content_type=content_type, size=len(data),
                          sha256=digest)
        await self.d.blobs.put(doc.key, data)
        if kind == "proxy":
            assert request.proxy is not None
            updated = replace(request, proxy=replace(request.proxy, document=doc))
        else:
            updated = replace(request, fee_documents=(*request.fee_documents, doc)[-5:])
        await self.d.requests.save(replace(updated, updated_at=self.d.clock.now(), version=request.version + 1))
        return doc


class Quote(UseCase):
    """The fee breakdown the request would get if submitted now (shown before submit)."""

    async def execute(self, principal: Principal, request_id: uuid.UUID) -> FeeBreakdown:
        request = await self.own_request(principal, request_id, lock=False)
        return self.price(request)

    def price(self, r: Request) -> FeeBreakdown:
        return price(self.d.fees, PricingInput(
            submitted_at=self.d.clock.now(), category=r.fee_category, copies=r.copies, delivery=r.delivery,
            online=r.online, level=r.requester_level, hanoi_resident=hanoi_resident(r.applicant)))


class Submit(UseCase):
    async def execute(self, principal: Principal, request_id: uuid.UUID, *,
                      accepted_amount_due: int | None = None) -> Request:
        """``accepted_amount_due``: what the app showed; a different price now (a rule changed at
        midnight) is a conflict, so nobody is charged an amount they did not see."""
        _level2(principal)
        request = await self.own_request(principal, request_id)
        states.transition(Action.SUBMIT, request.status)
        now = self.d.clock.now()
        request = replace(request, requester_level=principal.level)
        check_rules(request, now.astimezone(HANOI).date())
        fee = Quote(self.d).price(request)
        if accepted_amount_due is not None and accepted_amount_due != fee.amount_due:
            raise Conflict("judicial.fee_changed", amount_due=fee.amount_due)
        authority = self.d.authorities.on(now)
        kind, reasons = deadlines.classify(request)
        submitted = replace(request, status=Status.SUBMITTED, fee=fee, authority_unit_id=authority.unit_id,
                            authority_code=authority.code, deadline_kind=kind, deadline_reasons=reasons,
                            due_at=deadlines.due_at(self.d.calendar, now, kind), submitted_at=now)
        moved = await self.move(request, submitted, principal,
                                data={"amount_due": fee.amount_due, "authority": authority.code})
        if self.d.open_fee_payment is not None:  # one intent for amount_due, same unit of work
            await self.d.open_fee_payment.execute(request_id=moved.id, ref=moved.ref, owner_id=principal.id,
                                                  amount_due=fee.amount_due)
        return moved


class Withdraw(UseCase):
    async def execute(self, principal: Principal, request_id: uuid.UUID, reason: str = "") -> Request:
        request = await self.own_request(principal, request_id)
        if request.status is Status.DRAFT:
            states.transition(Action.WITHDRAW, request.status)
            await self.d.requests.delete_draft(request.id)
            return replace(request, status=Status.WITHDRAWN)
        states.transition(Action.WITHDRAW, request.status)
        withdrawn = replace(request, status=Status.WITHDRAWN, closed_at=self.d.clock.now())
        moved = await self.move(request, withdrawn, principal, note=reason)
        if self.d.cancel_fee_payment is not None:  # same unit of work: withdrawn and canceled together
            await self.d.cancel_fee_payment.execute(request.id)
        return moved


class SupplementInput(msgspec.Struct, frozen=True, kw_only=True):
    note: str
    applicant: Applicant = msgspec.field(default_factory=Applicant)
    residence_history: tuple[ResidencePeriod, ...] | None = None


class Supplement(UseCase):
    """The citizen answers a supplement request; the deadline resumes, moved by the pause."""

    async def execute(self, principal: Principal, request_id: uuid.UUID, cmd: SupplementInput) -> Request:
        request = await self.own_request(principal, request_id)
        states.transition(Action.SUPPLEMENT, request.status)
        now = self.d.clock.now()
        updated = replace(request, applicant=_merge(request.applicant, cmd.applicant, request.prefilled),
                          residence_history=(request.residence_history if cmd.residence_history is None
                                             else cmd.residence_history))
        check_rules(updated, (request.submitted_at or now).astimezone(HANOI).date())
        due = request.due_at
        if due is not None and request.paused_at is not None:
            due = deadlines.extend(self.d.calendar, due,
                                   deadlines.working_days_between(self.d.calendar, request.paused_at, now))
        updated = replace(updated, status=Status.SUPPLEMENTED, due_at=due, paused_at=None)
        return await self.move(request, updated, principal, note=cmd.note)


class GetRequest(UseCase):
    async def execute(self, principal: Principal, request_id: uuid.UUID) -> tuple[Request, list[Step]]:
        request = await self.own_request(principal, request_id, lock=False)
        return request, await self.d.requests.steps(request.id)


class MyRequests(UseCase):
    async def execute(self, principal: Principal, cursor: str | None, limit: int) -> Page[Request]:
        return await self.d.requests.mine(principal.id, cursor, limit)
