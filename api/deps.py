"""Request-scoped dependencies: the unit of work and the container."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request
from litestar.datastructures import State

from adapters.postgres.uow import PgUnitOfWork
from api.container import Container

# Handler opt that marks a pure read: ``@get(..., opt=READ_ONLY)``.
READ_ONLY_OPT = "read_only"
READ_ONLY: dict[str, Any] = {READ_ONLY_OPT: True}


async def provide_uow(state: State, request: Request[Any, Any, Any]) -> AsyncGenerator[PgUnitOfWork, None]:
    """One transaction per request: committed when the handler returns, rolled back on any error.

    Litestar runs this cleanup before the response is sent, so a failed COMMIT becomes an error
    response, never a 2xx for data that was not stored. Handlers marked ``opt=READ_ONLY`` get a
    unit of work without BEGIN/COMMIT whose connection refuses writes: explicit per handler, not
    per HTTP method, because some GETs write (the e-ID callback, file downloads that log access).
    """
    read_only = bool(request.route_handler.opt.get(READ_ONLY_OPT))
    async with PgUnitOfWork(state.container.pool, read_only=read_only) as uow:
        yield uow
        await uow.commit()


def provide_container(state: State) -> Container:
    container: Container = state.container
    return container
