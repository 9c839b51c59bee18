"""Composition root: the one place that decides which adapter serves which port.

``Container`` is built once per process (in the app's lifespan, by the worker, by CLI commands)
from the list of contexts: each context's ``services`` builder contributes one object, reached by
its type with ``container.get(FeedbackServices)``. Handlers reach the container through the
``container`` dependency; worker jobs receive it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

import asyncpg

from adapters.postgres.pool import create_pool
from adapters.postgres.replica import ReadRouter
from api.platform.context import Context
from api.platform.settings import Settings
from domain.shared.time import Clock, SystemClock

if TYPE_CHECKING:
    from api.identity.wiring import IdentityServices

T = TypeVar("T")


class Contexts:
    """The contexts this container was built from. A plain class, not a tuple field: Litestar builds a
    msgspec model of every injected dependency's annotations, and must not descend into ``Context``."""

    def __init__(self, items: Iterable[Context] = ()) -> None:
        self._items = tuple(items)

    def __iter__(self) -> Iterator[Context]:
        return iter(self._items)


@dataclass
class Container:
    settings: Settings
    # Unparameterised: Litestar (msgspec) evaluates these annotations at runtime to inject `container`.
    pool: asyncpg.Pool
    services: dict[type, object]
    contexts: Contexts = field(default_factory=Contexts)
    clock: Clock = field(default_factory=SystemClock)
    # Read routing to DATABASE_READ_URL, started by the app's lifespan (api.platform.reads); None: all on `pool`.
    reads: ReadRouter | None = None
    # Background tasks started by the lifespan (inline worker); cancelled on shutdown.
    background: list[asyncio.Task[None]] = field(default_factory=list)

    def get(self, kind: type[T]) -> T:
        """The services object a context registered, by its type."""
        found = self.services.get(kind)
        if not isinstance(found, kind):
            raise LookupError(f"no {kind.__name__} in the container: is its context in api.platform.registry?")
        return found

    @cached_property
    def identity(self) -> IdentityServices:
        """Our tokens, PII protector, rate limits: every request's authentication needs them (cached:
        this is on the hot path)."""
        from api.identity.wiring import IdentityServices

        return self.get(IdentityServices)

    async def close(self) -> None:
        for services in self.services.values():
            close = getattr(services, "close", None)
            if close is not None:
                await close()
        await self.pool.close()


async def build_container(settings: Settings, contexts: Iterable[Context], *, pool_max: int | None = None,
                          clock: Clock | None = None) -> Container:
    if not settings.database_url:
        raise RuntimeError("the CLI resolves the embedded database before building the container")
    pool = await create_pool(settings.database_url, max_size=pool_max or settings.db_pool_max,
                             statement_timeout_ms=settings.db_statement_timeout_ms)
    contexts = Contexts(contexts)
    services: dict[type, object] = {}
    for context in contexts:
        if context.services is not None:
            built = context.services(settings, pool)
            services[type(built)] = built
    return Container(settings=settings, pool=pool, services=services, contexts=contexts, clock=clock or SystemClock())

