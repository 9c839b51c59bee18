"""Ports of the judicial context: narrow Protocols served by Postgres, crypto and stand-in adapters
and by in-memory fakes in the unit tests."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Protocol

import msgspec

from domain.judicial.model import (
    Applicant,
    Certificate,
    CertificateContent,
    CertificateType,
    CrossCheckResult,
    QueueItem,
    Request,
    ShareCode,
    Status,
    StatusPurpose,
    StatusRef,
    Step,
    Verification,
)
from domain.notifications.model import Notification
from domain.shared.paging import Page


class QueueFilter(msgspec.Struct, frozen=True, kw_only=True):
    authority_unit_ids: frozenset[uuid.UUID]
    statuses: frozenset[Status] = frozenset()       # empty: every status in process
    certificate_type: CertificateType | None = None
    overdue_only: bool = False
    submitted_from: date | None = None             # Hanoi calendar days, inclusive
    submitted_to: date | None = None


class Requests(Protocol):
    async def add(self, request: Request, first_step: Step) -> Request:
        """Insert a new request with its reference code assigned (``LLTP-2026-000123``)."""
        ...

    async def get(self, request_id: uuid.UUID, *, for_update: bool = False) -> Request | None: ...

    async def save(self, request: Request, step: Step | None = None,
                   notification: Notification | None = None) -> None:
        """Store the new state (optimistic on ``version``) and, when given, the history step and the
        notification of the change (with a step only; written in the same unit of work, and only if the
        change was stored: a store may write all three in one statement)."""
        ...

    async def delete_draft(self, request_id: uuid.UUID) -> None: ...

    async def steps(self, request_id: uuid.UUID) -> list[Step]: ...

    async def mine(self, requester_id: uuid.UUID, cursor: str | None, limit: int) -> Page[Request]: ...

    async def queue(self, f: QueueFilter, now: datetime, cursor: str | None, limit: int) -> Page[Request]:
        """Requests in process of the given authorities, earliest deadline first."""
        ...

    async def queue_items(self, f: QueueFilter, now: datetime, cursor: str | None,
                          limit: int) -> Page[QueueItem]:
        """``queue``'s page as its read model (the API's list): the same rows, order and cursor."""
        ...


class Certificates(Protocol):
    async def add(self, certificate: Certificate) -> None: ...

    async def get(self, certificate_id: uuid.UUID, *, for_update: bool = False) -> Certificate | None: ...

    async def by_request(self, request_id: uuid.UUID) -> Certificate | None: ...

    async def by_verify_token(self, token: str) -> Certificate | None: ...

    async def mine(self, holder_id: uuid.UUID) -> list[Certificate]: ...

    async def save_status(self, certificate: Certificate) -> None: ...


class StatusLists(Protocol):
    """Bitstring Status Lists, one per (authority, purpose), allocated at random positions."""

    async def allocate(self, authority_code: str, purpose: StatusPurpose) -> StatusRef: ...

    async def set(self, ref: StatusRef, value: bool) -> None: ...


class ShareCodes(Protocol):
    async def add(self, share: ShareCode) -> None: ...

    async def by_hash(self, code_hash: bytes, *, for_update: bool = False) -> ShareCode | None: ...

    async def get(self, share_id: uuid.UUID, *, for_update: bool = False) -> ShareCode | None: ...

    async def save(self, share: ShareCode) -> None: ...

    async def for_holder(self, holder_id: uuid.UUID) -> list[ShareCode]: ...


class Verifications(Protocol):
    async def add(self, verification: Verification) -> None: ...

    async def for_holder(self, holder_id: uuid.UUID, certificate_id: uuid.UUID | None = None,
                         limit: int = 100) -> list[Verification]: ...


class CrossCheck(Protocol):
    """Outbound: the police and court records (a local stand-in answers as configured)."""

    async def check(self, applicant: Applicant, certificate_type: CertificateType) -> CrossCheckResult: ...


class PopulationRecords(Protocol):
    """What the national population database knows about a level-2 e-ID user (VNeID pre-fill)."""

    async def profile(self, user_id: uuid.UUID) -> Applicant | None: ...


class CredentialSigner(Protocol):
    """Secures the certificate as a W3C Verifiable Credential (VC-JWT) with the authority's key."""

    def sign(self, content: CertificateContent, status: tuple[StatusRef, ...]) -> str: ...


class CertificateRenderer(Protocol):
    """The signed PDF for people (Vietnamese text, QR to ``content.verify_url``)."""

    async def render(self, content: CertificateContent) -> bytes: ...


class Blobs(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes | None: ...


class Attempts(Protocol):
    """A fixed-window counter (the platform's rate limiter): seconds to wait, 0 when allowed."""

    async def hit(self, key: str, limit: int, window_seconds: int) -> int: ...
