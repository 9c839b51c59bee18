"""App factory for the graceful-shutdown test: the real app plus one deliberately slow endpoint.

Served by granian in a subprocess (``granian --factory tests.support.slow_app:factory``) with the
same settings loading as production, so the test sees the real server's SIGTERM handling.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Litestar, get

from api.platform.app import create_app
from api.platform.deps import UnitOfWork


class SlowController(Controller):
    path = "/probe/slow"

    @get("")
    async def slow(self, uow: UnitOfWork) -> dict[str, Any]:
        # Holds a transaction open like a slow real request would.
        await uow.conn.execute("SELECT pg_sleep(2)")
        return {"slept": True}


def factory() -> Litestar:
    app = create_app()
    app.register(SlowController)
    return app
