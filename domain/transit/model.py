"""Entities and value objects of the transit context."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

import msgspec

from domain.transit.codes import Direction, Network, ProductKind


class DocumentKind(StrEnum):
    STUDENT_CARD = "student_card"
    WORKER_CARD = "industrial_park_worker_card"
    MERIT_CERTIFICATE = "merit_certificate"
    DISABILITY_CERTIFICATE = "disability_certificate"
    POOR_HOUSEHOLD_CERTIFICATE = "poor_household_certificate"


class Product(msgspec.Struct, frozen=True, kw_only=True):
    """A ticket product as admin-managed data; what it costs lives in dated ``Price`` rows."""

    id: uuid.UUID
    code: str
    name_vi: str
    name_en: str
    kind: ProductKind
    networks: Network
    route: int = 0            # MONTHLY_ROUTE: the route; every other kind: 0 (all routes)
    active: bool = True


class Price(msgspec.Struct, frozen=True, kw_only=True):
    """Amount in VND for one product and passenger category over business dates
    ``valid_from`` .. ``valid_to`` (exclusive; None = until further notice)."""

    id: uuid.UUID
    product_id: uuid.UUID
    category: str
    amount_vnd: int
    valid_from: date
    valid_to: date | None = None

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


class Category(msgspec.Struct, frozen=True, kw_only=True):
    """A passenger (concession) category and its eligibility rule."""

    code: str                          # "standard", "student", "elderly", …
    qr_code: int                       # 1..255, printed into the QR (docs/transit-qr.md §4)
    name_vi: str
    name_en: str
    free: bool = False                 # fares are 0 and free passes never expire on their own
    min_age: int | None = None         # age ≥ min_age (e.g. 60)
    max_age: int | None = None         # age < max_age (e.g. under 6)
    document: DocumentKind | None = None   # a card or certificate verified by staff
    active: bool = True


class ApplicationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ConcessionApplication(msgspec.Struct, frozen=True, kw_only=True):
    """A citizen's uploaded student/worker card or certificate, verified by transit staff."""

    id: uuid.UUID
    user_id: uuid.UUID
    category: str
    document: DocumentKind
    evidence_ref: str                  # blob key of the uploaded image
    status: ApplicationStatus = ApplicationStatus.PENDING
    valid_until: date | None = None    # set by staff on approval (end of the school year, …)
    reason: str | None = None
    decided_by: uuid.UUID | None = None
    created_at: datetime
    decided_at: datetime | None = None


class CardStatus(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"


class Card(msgspec.Struct, frozen=True, kw_only=True):
    """A virtual transit card ("thẻ vé điện tử"); an account may hold several."""

    id: uuid.UUID
    user_id: uuid.UUID
    number: str                        # 12 digits, the last a Luhn check digit
    holder_name: str
    category: str
    status: CardStatus = CardStatus.ACTIVE
    created_at: datetime


class PassStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class Pass(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    user_id: uuid.UUID
    card_id: uuid.UUID
    product_id: uuid.UUID
    kind: ProductKind
    networks: Network
    route: int
    category: str
    category_qr: int
    valid_from: datetime
    valid_until: datetime | None       # None: no expiry (free passes)
    price_vnd: int
    payment_ref: str | None = None
    status: PassStatus = PassStatus.ACTIVE
    renewed_from: uuid.UUID | None = None
    created_at: datetime
    revoked_at: datetime | None = None
    revoke_reason: str | None = None

    def usable_at(self, at: datetime) -> bool:
        return (self.status is PassStatus.ACTIVE and self.valid_from <= at
                and (self.valid_until is None or at <= self.valid_until))


class DeviceBinding(msgspec.Struct, frozen=True, kw_only=True):
    """The phone key a user's credentials are bound to. One active binding per user."""

    id: uuid.UUID
    user_id: uuid.UUID
    public_key: bytes                  # SEC1 compressed P-256
    platform: str
    bound_at: datetime
    revoked_at: datetime | None = None


class PaperTicket(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    product_id: uuid.UUID
    category: str
    price_vnd: int
    sold_by: uuid.UUID
    valid_from: datetime
    valid_until: datetime
    created_at: datetime


class Medium(StrEnum):
    PASS = "pass"  # noqa: S105 (a medium, not a password)
    PAPER = "paper"


class Tap(msgspec.Struct, frozen=True, kw_only=True):
    """One scan at a gate or bus reader, as the validator uploads it (accepted or not)."""

    id: uuid.UUID                      # made by the validator: uploads are idempotent by it
    validator_id: uuid.UUID
    medium: Medium
    subject_id: uuid.UUID              # pass id or paper ticket id
    direction: Direction
    network: Network
    route: int
    stop: str                          # station or stop code
    occurred_at: datetime              # the validator's clock
    code_timestamp: int | None = None
    counter: int | None = None
    accepted: bool
    reason: str | None = None


class Trip(msgspec.Struct, frozen=True, kw_only=True):
    pass_id: uuid.UUID
    network: Network
    route: int
    boarded_at: datetime
    boarded_stop: str
    alighted_at: datetime | None = None
    alighted_stop: str | None = None
