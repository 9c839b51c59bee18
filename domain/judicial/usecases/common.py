"""What every judicial use case needs: its ports and configuration, loading a request the caller
may see, recording a step and notifying the requester."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec

from domain.errors import Forbidden, NotFound
from domain.identity.principal import Principal, StaffRole
from domain.judicial import notifications as _templates  # noqa: F401  (registers the texts)
from domain.judicial.authority import AuthoritySchedule
from domain.judicial.deadlines import WorkingDays
from domain.judicial.fee_payment import CancelFeePayment, FeePayment, FeePayments, OpenFeePayment
from domain.judicial.fees import DEFAULT_SCHEDULE, FeeSchedule
from domain.judicial.model import ActorKind, Request, Status, Step
from domain.judicial.ports import (
    Attempts,
    Blobs,
    CertificateRenderer,
    Certificates,
    CredentialSigner,
    CrossCheck,
    PopulationRecords,
    Requests,
    ShareCodes,
    StatusLists,
    Verifications,
)
from domain.notifications.model import Notification
from domain.notifications.ports import Notifier
from domain.shared.ids import new_id
from domain.shared.time import Clock


@dataclass(frozen=True)
class Settings:
    verify_base_url: str = "http://127.0.0.1:8000/judicial/verify"   # + "/<token>" in the PDF's QR
    certificate_valid_days: int = 180      # how long verifiers treat a certificate as current
    max_upload_bytes: int = 10 * 1024 * 1024
    verify_per_client_per_minute: int = 30
    verify_per_code_per_window: int = 10
    verify_code_window_seconds: int = 600


@dataclass(frozen=True)
class Deps:
    requests: Requests
    certificates: Certificates
    status_lists: StatusLists
    share_codes: ShareCodes
    verifications: Verifications
    cross_check: CrossCheck
    population: PopulationRecords
    signer: CredentialSigner
    renderer: CertificateRenderer
    blobs: Blobs
    notifier: Notifier
    clock: Clock
    calendar: WorkingDays
    authorities: AuthoritySchedule
    attempts: Attempts | None = None
    fees: FeeSchedule = DEFAULT_SCHEDULE
    settings: Settings = field(default_factory=Settings)
    # What the citizen still owes goes through the payment port (domain/judicial/fee_payment.py):
    # both set together by the wiring; unset, no intent is created and issuing does not wait for it.
    fee_payments: FeePayments | None = None
    open_fee_payment: OpenFeePayment | None = None
    cancel_fee_payment: CancelFeePayment | None = None


def not_found() -> NotFound:
    return NotFound("judicial.request_not_found")


T = TypeVar("T", bound=msgspec.Struct)


def replace(obj: T, **changes: Any) -> T:
    return msgspec.structs.replace(obj, **changes)


class UseCase:
    def __init__(self, deps: Deps) -> None:
        self.d = deps

    async def own_request(self, principal: Principal, request_id: uuid.UUID, *, lock: bool = True) -> Request:
        """The caller's own request (the account that filed it); anyone else's is 404."""
        request = await self.d.requests.get(request_id, for_update=lock)
        if request is None or request.requester_id != principal.id:
            raise not_found()
        return request

    async def staff_request(self, principal: Principal, request_id: uuid.UUID, *roles: StaffRole,
                            lock: bool = True) -> Request:
        """A submitted request of an authority the caller works for; other authorities' are 404,
        a missing role is 403."""
        request = await self.d.requests.get(request_id, for_update=lock)
        if (request is None or request.status is Status.DRAFT or request.authority_unit_id is None
                or not principal.has_role(request.authority_unit_id)):
            raise not_found()
        if roles and not principal.has_role(request.authority_unit_id, *roles):
            raise Forbidden("judicial.role_required", role="/".join(r.value for r in roles))
        return request

    def step(self, request: Request, from_status: Status | None, actor: Principal | None, *, note: str = "",
             data: dict[str, Any] | None = None) -> Step:
        kind = (ActorKind.SYSTEM if actor is None else
                ActorKind.CITIZEN if actor.id == request.requester_id else ActorKind.STAFF)
        return Step(id=new_id(), request_id=request.id, from_status=from_status, to_status=request.status,
                    actor_kind=kind, actor_id=actor.id if actor else None, at=self.d.clock.now(), note=note,
                    data=data or {})

    async def move(self, before: Request, after: Request, actor: Principal | None, *, note: str = "",
                   data: dict[str, Any] | None = None) -> Request:
        """Save ``after``, record the step from ``before.status`` and notify the requester, all three handed
        to the store together (it writes them in one statement: one round trip per transition)."""
        after = replace(after, updated_at=self.d.clock.now(), version=before.version + 1)
        await self.d.requests.save(
            after, self.step(after, before.status, actor, note=note, data=data),
            Notification(user_id=after.requester_id, category="judicial", template=f"judicial.{after.status.value}",
                         object_type="judicial_request", object_id=str(after.id), params={"ref": after.ref},
                         legally_required=True,
                         idempotency_key=f"judicial.{after.status.value}:{after.id}:{after.version}"))
        return after


class FeePaymentOf(UseCase):
    """What is still owed for a request the caller already read (as its owner or its authority's staff),
    and where its payment stands: no second read of the request, and no read at all when nothing was
    owed (no payment is ever opened for ``amount_due`` 0)."""

    async def execute(self, request: Request) -> FeePayment | None:
        if self.d.fee_payments is None or request.fee is None or request.fee.amount_due <= 0:
            return None
        return await self.d.fee_payments.get(request.id)
