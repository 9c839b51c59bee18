"""Composition root: the one place that decides which adapter serves which port.

``Container`` is built once per process in the app's lifespan (``startup``) and reached by
handlers through ``request.app.state.container``. Bounded contexts add their adapters here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg

from adapters.postgres.pool import create_pool
from api.feedback_setup import FeedbackServices, build_feedback
from api.identity_setup import IdentityServices, build_identity
from api.settings import Settings
from domain.identity.eid import EIdProvider
from domain.shared.time import Clock, SystemClock


@dataclass
class Container:
    settings: Settings
    # Unparameterised: Litestar (msgspec) evaluates these annotations at runtime to inject `container`.
    pool: asyncpg.Pool  # type: ignore[type-arg]
    clock: Clock = field(default_factory=SystemClock)
    # Background tasks started by the lifespan (inline worker); cancelled on shutdown.
    background: list[Any] = field(default_factory=list)
    identity: IdentityServices | None = None  # our tokens, PII protector, rate limits (api/auth.py)
    eid: EIdProvider | None = None  # VNeID relying party (adapters/vneid)
    feedback: FeedbackServices | None = None  # blob store, photo processing, working-day calendar

    async def close(self) -> None:
        if self.identity is not None:
            await self.identity.close()
        await self.pool.close()


async def build_container(settings: Settings) -> Container:
    assert settings.database_url, "the CLI resolves the embedded database before building the app"
    pool = await create_pool(settings.database_url, max_size=settings.db_pool_max,
                             statement_timeout_ms=settings.db_statement_timeout_ms)
    identity = build_identity(settings, pool)
    return Container(settings=settings, pool=pool, identity=identity, eid=identity.eid,
                     feedback=build_feedback(settings))
