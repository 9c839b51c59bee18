"""The judicial fee's payment state (migration 0061): one row per request that owed something."""

from __future__ import annotations

import uuid
from typing import Any

from domain.judicial.fee_payment import FeePayment, FeeStatus

_COLS = "request_id, intent_id, amount, status, refunded_amount, paid_at, updated_at"


class PgFeePayments:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def get(self, request_id: uuid.UUID, *, for_update: bool = False) -> FeePayment | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self.conn.fetchrow(f"SELECT {_COLS} FROM judicial_fee_payments WHERE request_id = $1{lock}",
                                       request_id)
        if row is None:
            return None
        return FeePayment(request_id=row["request_id"], intent_id=row["intent_id"], amount=row["amount"],
                          status=FeeStatus(row["status"]), refunded_amount=row["refunded_amount"],
                          paid_at=row["paid_at"], updated_at=row["updated_at"])

    async def put(self, p: FeePayment) -> None:
        await self.conn.execute(
            f"""INSERT INTO judicial_fee_payments ({_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (request_id) DO UPDATE SET intent_id = EXCLUDED.intent_id, amount = EXCLUDED.amount,
                    status = EXCLUDED.status, refunded_amount = EXCLUDED.refunded_amount,
                    paid_at = EXCLUDED.paid_at, updated_at = EXCLUDED.updated_at""",
            p.request_id, p.intent_id, p.amount, p.status.value, p.refunded_amount, p.paid_at, p.updated_at)
