"""What a transit pass does when its payment succeeds or is refunded (``Context.payment_handlers``).

Runs on the payments transaction's connection, so "intent succeeded" and "pass issued" (or
"refunded" and "pass revoked") commit together or not at all. The pass's ``payment_ref`` is the
intent id: stable across re-opened attempts, and unique, so a retried notification finds the pass
it already issued.
"""

from __future__ import annotations

from typing import Any

from adapters.postgres.notifications.notifier import PgNotifier
from adapters.postgres.transit.cards import PgApplications, PgBindings, PgCards, PgPasses
from adapters.postgres.transit.catalog import PgCatalog, PgCitizens
from adapters.postgres.transit.gates import PgDenyList, PgIssuerKeys, PgPaperTickets, PgTaps
from adapters.postgres.transit.orders import PgOrders
from adapters.transit_crypto.p256 import P256Verifier
from domain.payments.model import PaymentIntent, Refund
from domain.payments.ports import PaidObjectHandler
from domain.shared.time import SystemClock
from domain.transit.usecases.common import Deps
from domain.transit.usecases.purchase import ActivatePaidPass, RevokeRefundedPass


class _NoSigning:
    """Issuing or revoking a pass signs nothing (credentials are signed when the phone asks)."""

    kid = 0

    def sign(self, data: bytes) -> bytes:
        raise RuntimeError("payment handlers do not sign")


def _deps(conn: Any) -> Deps:
    clock = SystemClock()
    return Deps(catalog=PgCatalog(conn), citizens=PgCitizens(conn), applications=PgApplications(conn),
                cards=PgCards(conn), passes=PgPasses(conn), bindings=PgBindings(conn), keys=PgIssuerKeys(conn),
                deny=PgDenyList(conn), taps=PgTaps(conn), tickets=PgPaperTickets(conn), orders=PgOrders(conn),
                notifier=PgNotifier(conn, clock), clock=clock, signer=_NoSigning(), verifier=P256Verifier())


class PassPayments:
    def __init__(self, conn: Any) -> None:
        self.deps = _deps(conn)

    async def on_paid(self, intent: PaymentIntent) -> None:
        await ActivatePaidPass(self.deps).execute(intent.owner_id, intent.object_id, str(intent.id))

    async def on_refunded(self, intent: PaymentIntent, refund: Refund, *, full: bool) -> None:
        # Any refund of a pass is its cancellation: there is no partly-valid pass.
        await RevokeRefundedPass(self.deps).execute(str(intent.id))

    async def on_unpaid(self, intent: PaymentIntent) -> None:
        """Nothing was reserved for an unpaid order, so nothing is released."""


def pass_payments(conn: Any) -> PaidObjectHandler:
    return PassPayments(conn)
