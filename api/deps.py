"""Request-scoped dependencies: the unit of work and the container."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from litestar.datastructures import State

from adapters.postgres.uow import PgUnitOfWork
from api.container import Container


async def provide_uow(state: State) -> AsyncGenerator[PgUnitOfWork, None]:
    """One transaction per request: committed when the handler returns, rolled back on any error.

    Litestar runs this cleanup before the response is sent, so a failed COMMIT becomes an error
    response, never a 2xx for data that was not stored.
    """
    async with PgUnitOfWork(state.container.pool) as uow:
        yield uow
        await uow.commit()


def provide_container(state: State) -> Container:
    container: Container = state.container
    return container
