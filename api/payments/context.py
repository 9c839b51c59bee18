"""The payments context's registration: the bank's webhook, my payments, the jobs, the bank stand-in."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
from litestar.types import ControllerRouterHandler

from api.payments.http import BankWebhook, MyPayments
from api.payments.jobs import daily_report, expire_intents, reconcile
from api.payments.wiring import SETTINGS, WEBHOOK_PATH, build_payments, payments_secret
from api.platform.context import Context, Job
from api.platform.settings import Settings


def _standins(settings: Settings) -> Sequence[ControllerRouterHandler]:
    """The local bank: a citizen "pays" a VietQR with ``POST /dev/payments/simulate``; the stand-in then
    posts signed notifications to our webhook, as the real bank does."""
    from adapters.dev.payments_standin import PaymentsStandin, http_deliver, payments_standin_router

    # Lives as long as the app (development only); one client keeps the connection to ourselves warm.
    deliver = http_deliver(httpx.AsyncClient(timeout=10.0), f"{settings.base_url}{WEBHOOK_PATH}")
    return [payments_standin_router(PaymentsStandin(secret=payments_secret(settings), deliver=deliver))]


PAYMENTS = Context(
    name="payments",
    api_v1=[MyPayments],
    root=[BankWebhook],
    services=build_payments,
    jobs=[Job("payments.expire", expire_intents, idle_s=30.0),
          Job("payments.reconcile", reconcile, idle_s=300.0, once_per_period=True),
          Job("payments.daily_report", daily_report, idle_s=3600.0, once_per_period=True)],
    standins=_standins,
    settings=SETTINGS,
)
