"""A request's fee payment in the judicial views: the citizen sees the payment (with the VietQR
checkout while unpaid), staff see its state (a lapsed payment is why a request cannot be issued)."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from adapters.postgres.judicial.fees import PgFeePayments
from api.payments.views import my_payment
from api.platform.container import Container


async def fee_payment_out(container: Container, conn: Any, request_id: uuid.UUID, *,
                          owner_id: uuid.UUID | None = None) -> dict[str, Any] | None:
    """None when nothing was owed; ``owner_id`` (the citizen's own view) adds the payment intent."""
    fee = await PgFeePayments(conn).get(request_id)
    if fee is None:
        return None
    out: dict[str, Any] = msgspec.to_builtins(fee)
    if owner_id is not None:
        out["intent"] = msgspec.to_builtins(await my_payment(container, conn, owner_id, fee.intent_id))
    return out
