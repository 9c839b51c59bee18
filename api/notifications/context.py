"""The notifications context's registration: inbox, preferences, announcements, push delivery."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar.types import ControllerRouterHandler

from adapters.postgres.notifications.inbox import PgInbox
from adapters.postgres.uow import PgUnitOfWork
from api.notifications.controllers import CONTROLLERS
from api.notifications.jobs import JOBS
from api.notifications.wiring import build_notifications, push_standin
from api.platform.container import Container
from api.platform.context import Context
from api.platform.quota import FORMAT_DOC, Quota
from api.platform.settings import Settings, Spec
from domain.identity.principal import Principal
from domain.notifications.inbox import export_inbox


async def _export(container: Container, uow: PgUnitOfWork, principal: Principal) -> dict[str, Any]:
    return await export_inbox(PgInbox(uow.conn), principal.id)


def _standins(settings: Settings) -> Sequence[ControllerRouterHandler]:
    return [push_standin(settings)]


SETTINGS: dict[str, Spec] = {
    # Apps re-register their push token at start and on rotation: generous, but not a flood.
    "notifications_quota_devices": Spec("NOTIFICATIONS_QUOTA_DEVICES", Quota.parse, "30/hour,100/day",
                                        "Push device registrations (POST /me/devices) per account. " + FORMAT_DOC),
}

NOTIFICATIONS = Context(
    name="notifications",
    settings=SETTINGS,
    api_v1=CONTROLLERS,
    services=build_notifications,
    jobs=JOBS,
    exporter=_export,
    standins=_standins,
)
