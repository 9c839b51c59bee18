"""Sync of visits to social insurance (BHXH), at least once and idempotent.

Facilities already report each visit to BHXH (QĐ 130/QĐ-BYT tables keyed by the visit link code
MA_LK); the city record forwards what it received so both sides agree. The outbox is the visit
row itself: every stored change raises its version, and a visit whose version is ahead of the last
version synced is due. The worker claims due visits (a lease, ``SKIP LOCKED``), sends each as one
message whose key is facility + visit code + version (the receiver drops repeats), and marks it
synced, or reschedules it with exponential backoff. Nothing is lost if BHXH is down for hours.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Protocol

import msgspec

from domain.errors import DomainError
from domain.shared.time import Clock


class InsuranceLine(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    code: str          # ICD-10 for diagnoses, ATC for medicines
    text: str
    quantity: float | None = None
    unit: str | None = None


class InsuranceMessage(msgspec.Struct, frozen=True, kw_only=True):
    key: str                     # facility code | visit code | version: the receiver's idempotency key
    facility_code: str
    visit_code: str              # MA_LK
    version: int
    insurance_card: str | None   # BHYT card number when the facility sent one (never the personal ID)
    start: datetime | None
    end: datetime | None
    visit_class: str | None
    diagnoses: tuple[InsuranceLine, ...]
    medicines: tuple[InsuranceLine, ...]


class DueVisit(msgspec.Struct, frozen=True, kw_only=True):
    encounter_id: uuid.UUID
    attempts: int
    message: InsuranceMessage


class InsuranceQueue(Protocol):
    async def claim(self, now: datetime, limit: int, lease: timedelta) -> list[DueVisit]:
        """Lease up to ``limit`` due visits (hidden from other workers until ``now + lease``)."""
        ...

    async def synced(self, encounter_id: uuid.UUID, version: int) -> None:
        """Mark ``version`` as sent (a newer version stays due)."""
        ...

    async def retry(self, encounter_id: uuid.UUID, at: datetime, error: str) -> None: ...


class SocialInsuranceGateway(Protocol):
    async def send(self, message: InsuranceMessage) -> None:
        """Deliver one message; raises ``InsuranceUnavailable`` (retry later) or ``InsuranceRejected``."""
        ...


class InsuranceUnavailable(DomainError):
    code = "health.insurance_unavailable"


class InsuranceRejected(DomainError):
    code = "health.insurance_rejected"


class SyncToSocialInsurance:
    def __init__(self, queue: InsuranceQueue, gateway: SocialInsuranceGateway, clock: Clock, *,
                 lease: timedelta = timedelta(minutes=2), backoff_base: timedelta = timedelta(seconds=30),
                 backoff_max: timedelta = timedelta(hours=6)) -> None:
        self.queue = queue
        self.gateway = gateway
        self.clock = clock
        self.lease = lease
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max

    def backoff(self, attempts: int) -> timedelta:
        delay: timedelta = self.backoff_base * (2 ** min(attempts, 20))
        return min(self.backoff_max, delay)

    async def run_once(self, limit: int = 100) -> tuple[int, int]:
        """(sent, rescheduled) for one batch. Each queue call is its own short transaction."""
        due = await self.queue.claim(self.clock.now(), limit, self.lease)
        sent = failed = 0
        for visit in due:
            try:
                await self.gateway.send(visit.message)
            except (InsuranceUnavailable, InsuranceRejected) as exc:
                # A rejection is retried too, slowly: it usually means the facility must resend the
                # visit, and the new version replaces this one in the queue.
                await self.queue.retry(visit.encounter_id, self.clock.now() + self.backoff(visit.attempts),
                                       exc.code)
                failed += 1
                continue
            await self.queue.synced(visit.encounter_id, visit.message.version)
            sent += 1
        return sent, failed
