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
from api.platform.quota import FORMAT_DOC, Quota
from api.platform.settings import Spec
from domain.identity.principal import Principal


async def _export(container: Container, uow: PgUnitOfWork, principal: Principal) -> dict[str, Any]:
    return await reads(uow).export_for(principal.id)


# Per-account creation quotas (api/platform/quota.py): what one honest person does in a bad week,
# far below what a script does in a minute.
SETTINGS: dict[str, Spec] = {
    "feedback_quota_reports": Spec("FEEDBACK_QUOTA_REPORTS", Quota.parse, "20/hour,100/day",
                                   "Reports one citizen may submit. " + FORMAT_DOC),
    "feedback_quota_photos": Spec("FEEDBACK_QUOTA_PHOTOS", Quota.parse, "60/hour,300/day",
                                  "Photos one citizen may upload (all reports together). " + FORMAT_DOC),
    "feedback_quota_follows": Spec("FEEDBACK_QUOTA_FOLLOWS", Quota.parse, "60/hour,300/day",
                                   "Follows (\"me too\") one citizen may add. " + FORMAT_DOC),
    "feedback_quota_ratings": Spec("FEEDBACK_QUOTA_RATINGS", Quota.parse, "20/hour,100/day",
                                   "Ratings one citizen may give. " + FORMAT_DOC),
    "open311_quota_requests": Spec("OPEN311_QUOTA_REQUESTS", Quota.parse, "300/hour,3000/day",
                                   "Open311 POST service requests per partner api_key (on top of "
                                   "OPEN311_REQUESTS_PER_MINUTE). " + FORMAT_DOC),
}

FEEDBACK = Context(
    name="feedback",
    settings=SETTINGS,
    api_v1=[CitizenFeedbackController, StaffFeedbackController, AdminFeedbackController, PublicFeedbackController,
            FeedbackStatsController, *OPEN311_STAFF],
    root=[open311_router()],
    services=lambda settings, pool: build_feedback(settings),
    jobs=[Job("feedback.deadline_escalation", escalate_overdue, idle_s=60.0, once_per_period=True)],
    exporter=_export,
    reference=seed_feedback_categories,
)
