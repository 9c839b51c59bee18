"""Request and response schemas of the transit API (binary values travel as base64url, no padding)."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import date, datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from api.platform.problems import ProblemError
from domain.payments.model import Checkout
from domain.transit.codes import Direction, Rejection
from domain.transit.model import Card, Category, ConcessionApplication, Pass, Price, Product, Trip
from domain.transit.trust import IssuerKey

B64U = r"^[A-Za-z0-9_-]*$"
# A dynamic code is 211 bytes and a paper ticket 100 (docs/transit-qr.md); 512 leaves room for versions.
CodeB64 = Annotated[str, Meta(min_length=4, max_length=700, pattern=B64U)]
KeyB64 = Annotated[str, Meta(min_length=40, max_length=48, pattern=B64U)]
SigB64 = Annotated[str, Meta(min_length=80, max_length=100, pattern=B64U)]
Stop = Annotated[str, Meta(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")]
Route = Annotated[int, Meta(ge=0, le=0xFFFF)]
NetworkBits = Annotated[int, Meta(ge=1, le=3)]
CategoryCode = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64u(text: str, field: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ProblemError(422, "transit.invalid_base64", errors=[(field, "base64url", {})]) from None


# -- inputs ------------------------------------------------------------------------------------------

class CardIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    category: CategoryCode


class OrderIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    card_id: uuid.UUID
    product_id: uuid.UUID
    start_date: date


class FreeClaimIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    card_id: uuid.UUID
    product_id: uuid.UUID


class TransitDeviceIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    public_key: KeyB64          # SEC1 compressed P-256 (33 bytes)
    proof: SigB64               # signature of "TQR1-BIND" || user id || public key (64 bytes r||s)
    platform: Annotated[str, Meta(pattern=r"^(android|ios|other)$")]


class RevokeIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Annotated[str, Meta(min_length=1, max_length=200)]


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    approve: bool
    valid_until: date | None = None
    reason: Annotated[str, Meta(min_length=1, max_length=500)] | None = None


class PaperTicketIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    product_id: uuid.UUID
    category: CategoryCode = "standard"


class TapUpload(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    id: uuid.UUID
    medium: Annotated[str, Meta(pattern=r"^(pass|paper)$")]
    subject_id: uuid.UUID
    direction: Direction
    network: NetworkBits
    route: Route
    stop: Stop
    occurred_at: datetime
    code_timestamp: Annotated[int, Meta(ge=0, le=0xFFFFFFFF)] | None = None
    counter: Annotated[int, Meta(ge=0, le=0xFFFF)] | None = None
    accepted: bool
    reason: Rejection | None = None


class TapBatchIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    taps: Annotated[list[TapUpload], Meta(min_length=1, max_length=1000)]


class ValidateIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: CodeB64               # the scanned QR bytes
    network: NetworkBits        # the gate: 1 bus, 2 metro
    route: Route
    direction: Direction = Direction.IN
    stop: Stop
    tap_id: uuid.UUID           # chosen by the gate: the recorded tap's id


class ProductIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Annotated[str, Meta(min_length=2, max_length=40)]
    name_vi: Annotated[str, Meta(min_length=1, max_length=200)]
    name_en: Annotated[str, Meta(min_length=1, max_length=200)]
    kind: Annotated[str, Meta(pattern=r"^(single_ride|day|week|monthly_route|monthly_all|free)$")]
    networks: NetworkBits
    route: Route = 0


class ProductActiveIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    active: bool


class PriceIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    category: CategoryCode
    amount_vnd: Annotated[int, Meta(ge=0, le=100_000_000)]
    valid_from: date
    valid_to: date | None = None


# -- outputs -----------------------------------------------------------------------------------------

class TransitCategoryOut(msgspec.Struct, kw_only=True):
    code: str
    name_vi: str
    name_en: str
    free: bool
    min_age: int | None
    max_age: int | None
    document: str | None


class ProductOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    code: str
    name_vi: str
    name_en: str
    kind: str
    networks: int
    route: int
    active: bool


class PriceOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    product_id: uuid.UUID
    category: str
    amount_vnd: int
    valid_from: date
    valid_to: date | None


class OfferOut(msgspec.Struct, kw_only=True):
    product: ProductOut
    category: str
    amount_vnd: int
    price_id: uuid.UUID


class CardOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    number: str
    holder_name: str
    category: str
    status: str
    created_at: datetime


class ApplicationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    category: str
    document: str
    status: str
    valid_until: date | None
    reason: str | None
    created_at: datetime
    decided_at: datetime | None


class PassOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    card_id: uuid.UUID
    product_id: uuid.UUID
    kind: str
    networks: int
    route: int
    category: str
    valid_from: datetime
    valid_until: datetime | None
    price_vnd: int
    status: str
    renewed_from: uuid.UUID | None
    created_at: datetime
    revoked_at: datetime | None


class CheckoutOut(msgspec.Struct, kw_only=True):
    kind: str
    qr_payload: str | None
    redirect_url: str | None
    bank_bin: str | None
    account_name: str | None


class PurchaseOut(msgspec.Struct, kw_only=True):
    """The order waiting for payment: the pass is issued when the payment succeeds."""

    order: str
    amount_vnd: int
    valid_from: datetime
    valid_until: datetime | None
    payment_intent_id: uuid.UUID
    payment_status: str
    payment_ref: str
    expires_at: datetime
    checkout: CheckoutOut | None
    pass_id: uuid.UUID | None = None


class TransitDeviceOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    public_key: str
    platform: str
    bound_at: datetime


class CredentialOut(msgspec.Struct, kw_only=True):
    credential: str             # base64url of the issuer-signed level-1 credential (docs/transit-qr.md §7)
    kid: int
    pass_id: uuid.UUID
    issued_at: datetime
    expires_at: datetime
    server_time: datetime       # the phone corrects its clock by this
    server_time_epoch: int


class TripOut(msgspec.Struct, kw_only=True):
    pass_id: uuid.UUID
    network: int
    route: int
    boarded_at: datetime
    boarded_stop: str
    alighted_at: datetime | None
    alighted_stop: str | None


class TransitKeyOut(msgspec.Struct, kw_only=True):
    kid: int
    public_key: str
    valid_from: int
    valid_until: int
    alg: str = "ES256"


class KeysOut(msgspec.Struct, kw_only=True):
    keys: list[TransitKeyOut]


class TapBatchOut(msgspec.Struct, kw_only=True):
    received: int
    inserted: int


class VerdictOut(msgspec.Struct, kw_only=True):
    accepted: bool
    reason: str | None
    kind: str | None
    pass_id: uuid.UUID | None
    product: str | None
    category: int | None


class PaperTicketOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    product_id: uuid.UUID
    category: str
    price_vnd: int
    valid_from: datetime
    valid_until: datetime
    data: str                   # base64url of the signed ticket bytes (docs/transit-qr.md §9)
    png: str                    # standard base64 of the QR as PNG, ready to print
    svg: str                    # the QR as an SVG document


# -- mapping -----------------------------------------------------------------------------------------

def category_out(c: Category) -> TransitCategoryOut:
    return TransitCategoryOut(code=c.code, name_vi=c.name_vi, name_en=c.name_en, free=c.free, min_age=c.min_age,
                       max_age=c.max_age, document=c.document.value if c.document else None)


def product_out(p: Product) -> ProductOut:
    return ProductOut(id=p.id, code=p.code, name_vi=p.name_vi, name_en=p.name_en, kind=p.kind.slug,
                      networks=int(p.networks), route=p.route, active=p.active)


def price_out(p: Price) -> PriceOut:
    return PriceOut(id=p.id, product_id=p.product_id, category=p.category, amount_vnd=p.amount_vnd,
                    valid_from=p.valid_from, valid_to=p.valid_to)


def card_out(c: Card) -> CardOut:
    return CardOut(id=c.id, number=c.number, holder_name=c.holder_name, category=c.category, status=c.status.value,
                   created_at=c.created_at)


def application_out(a: ConcessionApplication) -> ApplicationOut:
    return ApplicationOut(id=a.id, category=a.category, document=a.document.value, status=a.status.value,
                          valid_until=a.valid_until, reason=a.reason, created_at=a.created_at,
                          decided_at=a.decided_at)


def pass_out(p: Pass) -> PassOut:
    return PassOut(id=p.id, card_id=p.card_id, product_id=p.product_id, kind=p.kind.slug, networks=int(p.networks),
                   route=p.route, category=p.category, valid_from=p.valid_from, valid_until=p.valid_until,
                   price_vnd=p.price_vnd, status=p.status.value, renewed_from=p.renewed_from,
                   created_at=p.created_at, revoked_at=p.revoked_at)


def checkout_out(c: Checkout | None) -> CheckoutOut | None:
    if c is None:
        return None
    return CheckoutOut(kind=c.kind.value, qr_payload=c.qr_payload, redirect_url=c.url, bank_bin=c.bank_bin,
                       account_name=c.account_name)


def trip_out(t: Trip) -> TripOut:
    return TripOut(pass_id=t.pass_id, network=int(t.network), route=t.route, boarded_at=t.boarded_at,
                   boarded_stop=t.boarded_stop, alighted_at=t.alighted_at, alighted_stop=t.alighted_stop)


def key_out(k: IssuerKey) -> TransitKeyOut:
    return TransitKeyOut(kid=k.kid, public_key=b64u(k.public_key), valid_from=k.valid_from, valid_until=k.valid_until)
