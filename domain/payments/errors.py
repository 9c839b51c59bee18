"""Errors of the payments context, each with a stable code."""

from __future__ import annotations

from domain.errors import Conflict, DomainError, InvalidInput, NotFound, Unauthenticated, Unavailable


class IntentNotFound(NotFound):
    code = "payments.intent_not_found"


class RefundNotFound(NotFound):
    code = "payments.refund_not_found"


class InvalidAmount(InvalidInput):
    code = "payments.invalid_amount"


class InvalidPurpose(InvalidInput):
    code = "payments.invalid_purpose"


class UnknownProvider(InvalidInput):
    code = "payments.unknown_provider"


class OrderAlreadyPaid(Conflict):
    """An order (purpose + object) already paid cannot be re-priced."""

    code = "payments.order_already_paid"


class OrderOwnedByAnother(Conflict):
    code = "payments.order_owner_mismatch"


class PaymentInFlight(Conflict):
    """The provider is processing a payment for this order; nothing may change until it settles."""

    code = "payments.payment_in_flight"


class NotRefundable(Conflict):
    code = "payments.not_refundable"


class RefundExceedsBalance(Conflict):
    code = "payments.refund_exceeds_balance"


class IdempotencyKeyReused(Conflict):
    """The same refund key was used with a different amount or reason."""

    code = "payments.refund_key_reused"


class NotCancelable(Conflict):
    code = "payments.not_cancelable"


class NotificationRejected(Unauthenticated):
    """A notification that is not provably from the provider: missing/bad signature, outside the
    replay window, malformed. Logged (without secrets) and refused."""

    code = "payments.notification_rejected"

    def __init__(self, reason: str) -> None:
        super().__init__(reason=reason)
        self.reason = reason


class UnknownIntent(NotFound):
    """An authentic notification about an intent we never created."""

    code = "payments.notification_unknown_intent"


class ProviderUnavailable(Unavailable):
    code = "payments.provider_unavailable"


class ProviderError(DomainError):
    """The provider answered, but not in a way we can use (malformed or unsigned answer)."""

    code = "payments.provider_error"
