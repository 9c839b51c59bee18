"""The feedback context's registration: citizen reports, staff handling, statistics, Open311."""

from __future__ import annotations

from typing import Any

from adapters.postgres.feedback.seed import seed_feedback_categories
from adapters.postgres.uow import PgUnitOfWork
from api.feedback.admin import AdminFeedbackController
from api.feedback.citizen import CitizenFeedbackController
from api.feedback.jobs import escalate_overdue
from api.feedback.open311.router import build_router as open311_router
from api.feedback.open311.staff import CONTROLLERS as OPEN311_STAFF
from api.feedback.public import PublicFeedbackController
from api.feedback.staff import StaffFeedbackController
from api.feedback.stats import FeedbackStatsController
from api.feedback.wiring import build_feedback, reads
from api.platform.container import Container
from api.platform.context import Context, Job
from domain.identity.principal import Principal


async def _export(container: Container, uow: PgUnitOfWork, principal: Principal) -> dict[str, Any]:
    return await reads(uow).export_for(principal.id)


FEEDBACK = Context(
    name="feedback",
    api_v1=[CitizenFeedbackController, StaffFeedbackController, AdminFeedbackController, PublicFeedbackController,
            FeedbackStatsController, *OPEN311_STAFF],
    root=[open311_router()],
    services=lambda settings, pool: build_feedback(settings),
    jobs=[Job("feedback.deadline_escalation", escalate_overdue, idle_s=60.0)],
    exporter=_export,
    reference=seed_feedback_categories,
)
