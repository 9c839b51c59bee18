"""The transit context's registration: citizens' cards and passes, the validator API, counters,
fare administration, its jobs, reference data and what a paid or refunded pass does."""

from __future__ import annotations

from typing import Any

from adapters.postgres.transit.seed import seed_transit
from adapters.postgres.uow import PgUnitOfWork
from api.platform.container import Container
from api.platform.context import Context, Job
from api.transit.admin import AdminTransitController
from api.transit.citizen import CitizenTransitController
from api.transit.export import export_transit
from api.transit.jobs import prune_deny_list, remind_expiring
from api.transit.payments import pass_payments
from api.transit.public import PublicTransitController
from api.transit.staff import StaffTransitController
from api.transit.validator import ValidatorTransitController
from api.transit.wiring import SETTINGS, build_transit, prepare_keys
from domain.identity.principal import Principal
from domain.transit.usecases.purchase import PASS_PURPOSE


async def _export(container: Container, uow: PgUnitOfWork, principal: Principal) -> dict[str, Any]:
    return await export_transit(uow.conn, principal)


async def _reference(conn: Any) -> None:
    await seed_transit(conn)


TRANSIT = Context(
    name="transit",
    api_v1=[PublicTransitController, CitizenTransitController, ValidatorTransitController, StaffTransitController,
            AdminTransitController],
    services=build_transit,
    jobs=[Job("transit.expiry_reminders", remind_expiring, idle_s=3600.0, once_per_period=True),
          Job("transit.deny_list_prune", prune_deny_list, idle_s=3600.0, once_per_period=True)],
    exporter=_export,
    reference=_reference,
    prepare=prepare_keys,
    payment_handlers={PASS_PURPOSE: pass_payments},
    settings=SETTINGS,
)
