"""Worker jobs: expiry reminders for passes that end soon and are not renewed, and pruning deny-list
rows no gate needs any more."""

from __future__ import annotations

import time

from adapters.postgres.transit.gates import PgDenyList
from adapters.postgres.uow import PgUnitOfWork
from api.platform.container import Container
from api.transit.wiring import TransitServices, transit_deps
from domain.transit.usecases.passes import RemindExpiring

BATCH = 500


async def remind_expiring(container: Container) -> bool:
    services = container.get(TransitServices)
    async with PgUnitOfWork(container.pool) as uow:
        sent = await RemindExpiring(transit_deps(services, uow.conn, container.clock)).execute(days=3, limit=BATCH)
        await uow.commit()
    return sent >= BATCH


async def prune_deny_list(container: Container) -> bool:
    async with PgUnitOfWork(container.pool) as uow:
        await PgDenyList(uow.conn).prune(int(time.time()))
        await uow.commit()
    return False
