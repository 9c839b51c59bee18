"""Payment intents, refunds and what providers tell us about them.

Money is an integer number of VND (no minor unit). An intent pays for one *order*: the object a
context sells (``purpose`` such as ``judicial.fee`` or ``transit.pass`` + that context's
``object_id``), and there is only ever one intent per order.
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import datetime
from enum import StrEnum

import msgspec

from domain.payments.errors import InvalidAmount, InvalidPurpose

CURRENCY = "VND"
# The most one intent may ask for: far above any fee or pass, low enough to catch unit mistakes
# (an amount in đồng × 1000). VietQR's amount field holds at most 13 characters.
MAX_AMOUNT = 500_000_000

PURPOSE_RE = re.compile(r"^[a-z][a-z0-9_]{1,30}\.[a-z][a-z0-9_]{1,30}$")
# Reference codes end up in bank-transfer memos, which banks strip of anything but A-Z0-9, and are
# read aloud at counters: no 0/O/1/I.
REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REF_PREFIX = "TDS"
REF_LEN = 12


def new_reference() -> str:
    return REF_PREFIX + "".join(secrets.choice(REF_ALPHABET) for _ in range(REF_LEN))


def check_purpose(purpose: str) -> str:
    if not PURPOSE_RE.match(purpose):
        raise InvalidPurpose(field="purpose", rule="pattern")
    return purpose


def check_amount(amount: int, field: str = "amount") -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidAmount(field=field, rule="positive")
    if amount > MAX_AMOUNT:
        raise InvalidAmount(field=field, rule="maximum", maximum=MAX_AMOUNT)
    return amount


class IntentStatus(StrEnum):
    REQUIRES_PAYMENT = "requires_payment"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELED = "canceled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


# Money was received (and maybe partly given back).
PAID = frozenset({IntentStatus.SUCCEEDED, IntentStatus.PARTIALLY_REFUNDED, IntentStatus.REFUNDED})
# Nothing received and nothing in flight: the order can be re-priced and paid again.
REOPENABLE = frozenset({IntentStatus.REQUIRES_PAYMENT, IntentStatus.FAILED, IntentStatus.EXPIRED,
                        IntentStatus.CANCELED})


class Instrument(msgspec.Struct, frozen=True, omit_defaults=True):
    """What a provider returns for display, and nothing more: never a full card or account number."""

    bank_name: str | None = None
    last_digits: str | None = None   # at most 4 digits

    @staticmethod
    def display(bank_name: str | None, last_digits: str | None) -> Instrument | None:
        digits = "".join(c for c in (last_digits or "") if c.isdigit())[-4:] or None
        name = (bank_name or "").strip()[:64] or None
        return Instrument(name, digits) if (name or digits) else None


class PaymentIntent(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    ref: str                    # our reference: VietQR memo, gateway order id (vnp_TxnRef)
    owner_id: uuid.UUID         # the citizen who pays
    purpose: str                # "judicial.fee", "transit.pass": selects the PaidObjectHandler
    object_id: str              # the owning context's id of what is bought
    amount: int                 # VND
    currency: str = CURRENCY
    description: str
    provider: str               # "vietqr", "vnpay", ...
    status: IntentStatus
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    attempt: int = 1            # bumped each time the order is re-opened after failing/expiring
    provider_ref: str | None = None       # the provider's transaction id once known
    paid_at: datetime | None = None
    refunded_amount: int = 0
    instrument: Instrument | None = None
    failure_code: str | None = None
    version: int = 1

    @property
    def refundable(self) -> int:
        return self.amount - self.refunded_amount if self.status in PAID else 0

    @property
    def open(self) -> bool:
        return self.status in (IntentStatus.REQUIRES_PAYMENT, IntentStatus.PROCESSING)


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


# Deterministic refund ids: a retried request (even after a rolled-back transaction) asks the
# provider for the refund with the same id, which the provider deduplicates.
_REFUND_NS = uuid.UUID("3b0e6c9e-4a52-5c1e-9a8f-0d7a3f5e2b11")


def refund_id(intent_id: uuid.UUID, key: str) -> uuid.UUID:
    return uuid.uuid5(_REFUND_NS, f"{intent_id}:{key}")


class Refund(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    intent_id: uuid.UUID
    key: str                    # the caller's idempotency key
    amount: int
    reason: str
    status: RefundStatus
    requested_by: uuid.UUID | None   # staff/admin user, None for automatic refunds
    created_at: datetime
    updated_at: datetime
    provider_ref: str | None = None
    failure_code: str | None = None


class CheckoutKind(StrEnum):
    QR = "qr"               # a VietQR payload to render or hand to a banking app
    REDIRECT = "redirect"   # a gateway page to open


class Checkout(msgspec.Struct, frozen=True, omit_defaults=True):
    """How the citizen pays an intent; never stored (rebuilt from the intent on each read)."""

    kind: CheckoutKind
    url: str | None = None
    qr_payload: str | None = None
    bank_bin: str | None = None
    account_name: str | None = None


class EventType(StrEnum):
    PAYMENT_PROCESSING = "payment.processing"
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"


class RawNotification(msgspec.Struct, frozen=True):
    """A notification as received over HTTP, before anything about it is trusted."""

    body: bytes
    headers: dict[str, str]        # lower-case names
    query: dict[str, str]


class ProviderEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A notification whose signature the provider adapter verified."""

    provider: str
    event_id: str                  # the nonce: unique per notification the provider sends
    sent_at: datetime              # the signed timestamp (replay window)
    type: EventType
    intent_ref: str
    amount: int
    currency: str
    provider_ref: str | None = None
    refund_id: uuid.UUID | None = None
    instrument: Instrument | None = None
    failure_code: str | None = None


class ProviderStatus(StrEnum):
    PENDING = "pending"            # nothing received yet / still in flight
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NOT_FOUND = "not_found"        # the provider never saw this intent


class ProviderPayment(msgspec.Struct, frozen=True, kw_only=True):
    """The answer of a (signed) status query to the provider."""

    status: ProviderStatus
    amount: int | None = None
    currency: str | None = None
    provider_ref: str | None = None
    instrument: Instrument | None = None
    failure_code: str | None = None


class ProviderRefund(msgspec.Struct, frozen=True, kw_only=True):
    status: RefundStatus
    provider_ref: str | None = None
    failure_code: str | None = None


class Outcome(StrEnum):
    """What a verified notification did (recorded with it, reported to the provider as 'received')."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"              # this very notification was seen before (same nonce)
    STALE = "stale"                      # arrived after a later state (out of order): nothing to do
    AMOUNT_MISMATCH = "amount_mismatch"  # authentic, but not what the intent asks: flagged, not applied
    LATE_PAYMENT = "late_payment"        # money arrived for a canceled order: flagged for refund
    UNKNOWN_REFUND = "unknown_refund"


class MismatchKind(StrEnum):
    AMOUNT = "amount"                    # notification or status query disagrees on amount/currency
    LATE_PAYMENT = "late_payment"        # paid after the order was canceled
    DOUBLE_PAYMENT = "double_payment"    # a second successful payment (other provider_ref)
    PROVIDER_DISAGREES = "provider_disagrees"   # reconciliation found a different final state
    UNKNOWN_REFUND = "unknown_refund"
    REFUND_FAILED = "refund_failed"


class Mismatch(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    kind: MismatchKind
    intent_id: uuid.UUID
    provider: str
    expected_amount: int | None = None
    reported_amount: int | None = None
    detail: str = ""                     # short, no secrets, no personal data
    created_at: datetime


class Totals(msgspec.Struct, frozen=True):
    succeeded_count: int = 0
    succeeded_amount: int = 0
    refunded_amount: int = 0


class DailyReport(msgspec.Struct, frozen=True, kw_only=True):
    """Business day (Asia/Ho_Chi_Minh) summary for finance: what came in, what went back, and
    everything that does not add up."""

    day: str                             # YYYY-MM-DD in Hanoi
    generated_at: datetime
    totals: Totals
    mismatches: list[Mismatch]
    stuck_processing: int                # intents still processing longer than the stuck threshold
    pending_refunds: int
