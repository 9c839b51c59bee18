"""The feedback context's controllers, registered under /api/v1 by ``api.app``."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from api.feedback_admin import AdminFeedbackController
from api.feedback_citizen import CitizenFeedbackController
from api.feedback_public import PublicFeedbackController
from api.feedback_staff import StaffFeedbackController
from api.feedback_stats import FeedbackStatsController

CONTROLLERS: list[ControllerRouterHandler] = [CitizenFeedbackController, StaffFeedbackController,
                                              AdminFeedbackController, PublicFeedbackController,
                                              FeedbackStatsController]
