"""Worker job: forward new and corrected visits to social insurance (BHXH), at least once."""

from __future__ import annotations

from adapters.postgres.health.insurance import PgInsuranceQueue
from api.health.wiring import HealthServices
from api.platform.container import Container
from domain.health.insurance import SyncToSocialInsurance

BATCH = 100


async def sync_insurance(container: Container) -> bool:
    services = container.get(HealthServices)
    sent, failed = await SyncToSocialInsurance(PgInsuranceQueue(container.pool), services.insurance,
                                               container.clock).run_once(BATCH)
    return sent + failed >= BATCH
