"""Wiring of the feedback context: blob store, image processing, working-day calendar, limits,
and the per-request bundle of ports its use cases receive."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.blobs.images import PillowImageProcessor
from adapters.blobs.local import LocalBlobStore
from adapters.calendar.vietnam import VietnamHolidays
from adapters.postgres.feedback.cache import ReferenceCache
from adapters.postgres.feedback.queries import PgFeedbackQueries
from adapters.postgres.feedback.repositories import PgCategories, PgReports, PgUnits
from adapters.postgres.notifications.notifier import PgNotifier
from adapters.postgres.uow import PgUnitOfWork
from api.platform.settings import Settings
from domain.feedback.calendar import WorkingCalendar, parse_periods
from domain.feedback.reads import FeedbackReads
from domain.feedback.usecases.common import Deps, Limits
from domain.shared.time import Clock


@dataclass(frozen=True)
class FeedbackServices:
    blobs: LocalBlobStore
    images: PillowImageProcessor
    calendar: WorkingCalendar
    limits: Limits
    reference: ReferenceCache


def build_feedback(settings: Settings) -> FeedbackServices:
    root = Path(settings.blob_dir) if settings.blob_dir else Path(settings.data_dir) / "blobs"
    calendar = WorkingCalendar(VietnamHolidays(settings.feedback_extra_days_off),
                               parse_periods(settings.feedback_working_hours), settings.feedback_makeup_workdays)
    limits = Limits(max_photos=settings.feedback_max_photos, max_upload_bytes=settings.feedback_max_upload_bytes,
                    reopen_days=settings.feedback_reopen_days)
    return FeedbackServices(LocalBlobStore(root), PillowImageProcessor(), calendar, limits, ReferenceCache())


def feedback_deps(services: FeedbackServices, conn: Any, clock: Clock) -> Deps:
    """The ports of one unit of work (all on the request's connection = one transaction)."""
    return Deps(reports=PgReports(conn), categories=PgCategories(conn, services.reference),
                units=PgUnits(conn, services.reference),
                notifier=PgNotifier(conn, clock), clock=clock, calendar=services.calendar,
                images=services.images, blobs=services.blobs, limits=services.limits)


def reads(uow: PgUnitOfWork) -> FeedbackReads:
    """The read-side port on the request's connection."""
    return PgFeedbackQueries(uow.conn)
