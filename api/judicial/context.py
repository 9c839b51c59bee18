"""The judicial context's registration: citizen requests and certificates, the authority's staff,
public verification (share codes, JWKS, status lists), and the reaction to the fee's payment."""

from __future__ import annotations

from typing import Any

from adapters.postgres.judicial.fees import PgFeePayments
from api.judicial.citizen import CitizenJudicialController
from api.judicial.public import PublicJudicialController
from api.judicial.staff import StaffJudicialController
from api.judicial.wiring import build_judicial
from api.platform.context import Context
from domain.judicial.fee_payment import PURPOSE, FeePaidHandler
from domain.payments.ports import PaidObjectHandler
from domain.shared.time import SystemClock


def fee_handler(conn: Any) -> PaidObjectHandler:
    """Runs inside the payments transaction, on its connection: paid / refunded / lapsed."""
    return FeePaidHandler(PgFeePayments(conn), SystemClock())


JUDICIAL = Context(
    name="judicial",
    api_v1=[CitizenJudicialController, StaffJudicialController, PublicJudicialController],
    services=build_judicial,
    payment_handlers={PURPOSE: fee_handler},
)
