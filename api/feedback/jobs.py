"""Worker job: escalate reports whose acknowledgement or handling deadline passed.

Runs every minute; each batch is one transaction, and an escalation row per (report, deadline,
due time) makes it at most once even with several workers.
"""

from __future__ import annotations

from adapters.postgres.uow import PgUnitOfWork
from api.feedback.wiring import FeedbackServices, feedback_deps
from api.platform.container import Container
from domain.feedback.usecases.escalation import EscalateOverdue

BATCH = 100


async def escalate_overdue(container: Container) -> bool:
    services = container.get(FeedbackServices)
    async with PgUnitOfWork(container.pool) as uow:
        done = await EscalateOverdue(feedback_deps(services, uow.conn, container.clock)).execute(BATCH)
        await uow.commit()
    return done >= BATCH
