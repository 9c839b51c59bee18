"""Wiring of the payments context: the collecting account's provider (VietQR over the bank's signed
protocol), built once per process, and the use cases other contexts run in their own transaction.

A context that sells something creates its intent with ``intent_creator(container, conn)`` on its
request's connection (so the order and its intent commit together) and registers a
``PaidObjectHandler`` in its ``Context.payment_handlers``; notifications and jobs run those
handlers inside the payments transaction (docs/payments.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx

from adapters.payments.bank_notifications import WEBHOOK_TARGET, VietQrConfig, VietQrProvider
from adapters.postgres.payments import PgPaymentIntents, PgPaymentsTransactions
from api.platform.context import Context, PaymentHandlerFactory
from api.platform.settings import Settings, Spec
from domain.payments.intents import CancelPaymentIntent, CreatePaymentIntent
from domain.payments.ports import PaymentProvider

if TYPE_CHECKING:
    from api.platform.container import Container

SETTINGS: dict[str, Spec] = {
    "payments_bank_bin": Spec("PAYMENTS_BANK_BIN", str, "970418",
                              "NAPAS BIN of the bank holding the city's collecting account (VietQR)."),
    "payments_account_number": Spec("PAYMENTS_ACCOUNT_NUMBER", str, "1200012345678",
                                    "The city's collecting account number (VietQR)."),
    "payments_account_name": Spec("PAYMENTS_ACCOUNT_NAME", str, "THU DO SO",
                                  "Account holder name shown in the banking app."),
    "payments_bank_api_url": Spec("PAYMENTS_BANK_API_URL", str, "",
                                  "The bank's API (status, refunds). Empty: the local stand-in under /dev/payments."),
    "payments_secret": Spec("PAYMENTS_SECRET", str, "",
                            "Shared HMAC secret of the bank's signed notifications and API calls. Empty: a "
                            "development secret; required in production."),
}

PROVIDER = "vietqr"
# The path the bank posts notifications to; the signed request target names it too.
WEBHOOK_PATH = WEBHOOK_TARGET.split(" ", 1)[1]
# Only for development and tests: production refuses to start without PAYMENTS_SECRET.
DEV_PAYMENTS_SECRET = b"thudo-dev-payments-secret"


class PaymentsConfigError(RuntimeError):
    pass


def payments_secret(settings: Settings) -> bytes:
    configured = settings.of("payments_secret", str)
    if configured:
        return configured.encode()
    if settings.environment == "production":
        raise PaymentsConfigError("PAYMENTS_SECRET is required with ENVIRONMENT=production")
    return DEV_PAYMENTS_SECRET


class Providers:
    """``domain.payments.ports.Providers``: the configured providers by name."""

    def __init__(self, providers: dict[str, PaymentProvider]) -> None:
        self._providers = providers

    def get(self, name: str) -> PaymentProvider | None:
        return self._providers.get(name)


@dataclass
class PaymentServices:
    http: httpx.AsyncClient
    providers: Providers

    async def close(self) -> None:
        await self.http.aclose()


def build_payments(settings: Settings, pool: asyncpg.Pool[Any]) -> PaymentServices:
    http = httpx.AsyncClient(timeout=10.0)
    bank_api = settings.of("payments_bank_api_url", str) or f"{settings.base_url}/dev/payments"
    vietqr = VietQrProvider(VietQrConfig(bank_bin=settings.of("payments_bank_bin", str),
                                         account_number=settings.of("payments_account_number", str),
                                         account_name=settings.of("payments_account_name", str),
                                         bank_api_url=bank_api, secrets=[payments_secret(settings)],
                                         name=PROVIDER), http)
    return PaymentServices(http=http, providers=Providers({PROVIDER: vietqr}))


def services(container: Container) -> PaymentServices:
    return container.get(PaymentServices)


def intent_creator(container: Container, conn: Any, intents: PgPaymentIntents | None = None) -> CreatePaymentIntent:
    """Creates (or returns) an order's payment intent in the caller's transaction. ``intents``: the
    caller's adapter on ``conn``, to put a row on its next insert (``idempotent_folded``)."""
    return CreatePaymentIntent(intents or PgPaymentIntents(conn), services(container).providers, container.clock,
                               default_provider=PROVIDER)


def intent_canceller(container: Container, conn: Any) -> CancelPaymentIntent:
    return CancelPaymentIntent(PgPaymentIntents(conn), container.clock)


def handler_factories(contexts: Iterable[Context]) -> dict[str, PaymentHandlerFactory]:
    """Every context's declared ``PaidObjectHandler`` factory, by payment purpose."""
    return {purpose: factory for context in contexts for purpose, factory in context.payment_handlers.items()}


def transactions(container: Container) -> PgPaymentsTransactions:
    """Payments transactions that call every context's declared handler for its purposes."""
    return PgPaymentsTransactions(container.pool, handler_factories(container.contexts))
