"""One payments transaction: the repositories and the owners' handlers on one connection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from adapters.postgres.payments.repositories import (
    Conn,
    PgMismatches,
    PgNotifications,
    PgPaymentIntents,
    PgPaymentReports,
    PgRefunds,
)
from adapters.postgres.uow import ACQUIRE_TIMEOUT_S
from domain.payments.ports import PaidObjectHandler

# What an owning context registers per purpose: given the payments transaction's connection, its
# handler working on that same connection (so its change commits with the intent's).
HandlerFactory = Callable[[Conn], PaidObjectHandler]


class HandlerRegistry:
    """``PaidObjectHandlers`` bound to one connection."""

    def __init__(self, factories: Mapping[str, HandlerFactory], conn: Conn) -> None:
        self._factories = factories
        self._conn = conn
        self._built: dict[str, PaidObjectHandler] = {}

    def for_purpose(self, purpose: str) -> PaidObjectHandler | None:
        handler = self._built.get(purpose)
        if handler is None:
            factory = self._factories.get(purpose)
            if factory is None:
                return None
            handler = self._built[purpose] = factory(self._conn)
        return handler


class PgPaymentsStore:
    def __init__(self, conn: Conn, factories: Mapping[str, HandlerFactory]) -> None:
        self.conn = conn
        self.intents = PgPaymentIntents(conn)
        self.refunds = PgRefunds(conn)
        self.notifications = PgNotifications(conn)
        self.mismatches = PgMismatches(conn)
        self.reports = PgPaymentReports(conn)
        self.handlers = HandlerRegistry(factories, conn)


class PgPaymentsTransactions:
    """``PaymentsTransactions`` over the pool: each call is a new connection and transaction,
    committed when the block exits normally, rolled back on any exception."""

    def __init__(self, pool: asyncpg.Pool[Any], factories: Mapping[str, HandlerFactory]) -> None:
        self.pool = pool
        self.factories = factories

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[PgPaymentsStore]:
        async with self.pool.acquire(timeout=ACQUIRE_TIMEOUT_S) as conn, conn.transaction():
            yield PgPaymentsStore(conn, self.factories)

    def __call__(self) -> Any:
        return self._tx()
