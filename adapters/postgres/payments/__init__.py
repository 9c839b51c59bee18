"""Postgres adapters of the payments context.

Other contexts build ``PgPaymentIntents(uow.conn)`` to create an intent in their own transaction;
the payments use cases open their own transactions through ``PgPaymentsTransactions``.
"""

from adapters.postgres.payments.repositories import (
    PgMismatches,
    PgNotifications,
    PgPaymentIntents,
    PgPaymentReports,
    PgRefunds,
)
from adapters.postgres.payments.store import HandlerRegistry, PgPaymentsStore, PgPaymentsTransactions

__all__ = ["HandlerRegistry", "PgMismatches", "PgNotifications", "PgPaymentIntents", "PgPaymentReports",
           "PgPaymentsStore", "PgPaymentsTransactions", "PgRefunds"]
