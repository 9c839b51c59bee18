"""The health context's registration: citizen record, FHIR R4 API, facility ingestion, shares,
the social-insurance sync job, export and demo data."""

from __future__ import annotations

from typing import Any

import asyncpg

from adapters.postgres.uow import PgUnitOfWork
from api.health.admin import FacilityAdminController
from api.health.citizen import HealthRecordController, ShareRedeemController
from api.health.facility import FacilityIngestController
from api.health.fhir import fhir_router
from api.health.jobs import sync_insurance
from api.health.wiring import build_health, health
from api.identity.wiring import build_pii
from api.platform.container import Container
from api.platform.context import Context, Job
from api.platform.settings import Settings
from domain.errors import NotFound
from domain.identity.principal import Principal


async def _export(container: Container, uow: PgUnitOfWork, principal: Principal) -> dict[str, Any]:
    try:
        record = await health(container, uow.conn).export.execute(principal)
    except NotFound:
        return {"patient": None, "items": []}
    return {"patient": record.patient.resource if record.patient else None,
            "items": [msgspec_builtins(i) for i in record.items],
            "fhir_resources": [r.resource for r in record.resources]}


def msgspec_builtins(value: object) -> Any:
    import msgspec
    return msgspec.to_builtins(value)


async def _seed(conn: asyncpg.Connection[Any], settings: Settings) -> None:
    from adapters.postgres.health.seed import seed_health  # demo data: loaded only when seeding
    await seed_health(conn, build_pii(settings))


HEALTH = Context(
    name="health",
    api_v1=[HealthRecordController, ShareRedeemController, FacilityIngestController, FacilityAdminController],
    root=[fhir_router()],
    services=lambda settings, pool: build_health(settings),
    jobs=[Job("health.insurance_sync", sync_insurance, idle_s=10.0)],
    exporter=_export,
    seed=_seed,
)
