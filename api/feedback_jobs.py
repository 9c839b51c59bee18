"""Worker job: escalate reports whose acknowledgement or handling deadline passed.

Runs every minute; each batch is one transaction, and an escalation row per (report, deadline,
due time) makes it at most once even with several workers.
"""

from __future__ import annotations

from typing import Any

from adapters.postgres.uow import PgUnitOfWork
from api.feedback_setup import build_feedback, feedback_deps
from domain.feedback.usecases.escalation import EscalateOverdue

BATCH = 100


async def escalate_overdue(ctx: Any) -> bool:
    """``ctx`` is the worker's ``WorkerContext`` (settings, pool, clock)."""
    services = getattr(ctx, "_feedback", None)
    if services is None:
        services = build_feedback(ctx.settings)
        ctx._feedback = services
    async with PgUnitOfWork(ctx.pool) as uow:
        done = await EscalateOverdue(feedback_deps(services, uow.conn, ctx.clock)).execute(BATCH)
        await uow.commit()
    return done >= BATCH
