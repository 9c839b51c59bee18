"""Wiring of read routing (``DATABASE_READ_URL``): who the caller is, the router's lifecycle, its metrics.

The routing itself is ``adapters.postgres.replica.ReadRouter``; ``api.platform.deps.provide_uow`` asks
it for the pool of each read-only unit of work and tells it about each committed write.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from prometheus_client import Counter, Gauge

from adapters.postgres.replica import ReadRouter
from adapters.postgres.write_marks import MemoryWriteMarks, RedisWriteMarks, WriteMarks
from api.platform.container import Container

# Which server answered each read-only unit of work, and why there (api.platform.deps).
READS = Counter(
    "thudo_db_reads_total", "Read-only units of work by the server that answered them and why", ["server", "reason"]
)
REPLICA_UP = Gauge("thudo_db_replica_up", "1 while the read replica answers its polls as a hot standby")
REPLICA_LAG = Gauge(
    "thudo_db_replica_lag_seconds",
    "How long ago the primary was at the oldest WAL position the replica has not replayed",
)

_counted: dict[tuple[str, str], Any] = {}


def count_read(server: str, reason: str) -> None:
    """``READS`` by (server, reason), with its children cached (``labels()`` locks and builds a key)."""
    child = _counted.get((server, reason))
    if child is None:
        child = _counted[(server, reason)] = READS.labels(server, reason)
    child.inc()


# Set by a handler whose write belongs to a caller that is not yet authenticated (a login creating the
# account): its reads right after must see the write, like any caller's.
_WRITES_FOR = "writes_for"
_PRINCIPAL = "principal"  # api.identity.auth caches the authenticated caller under this key


def writes_for(request: Request[Any, Any, Any], caller_id: object) -> None:
    """The write this request commits is ``caller_id``'s (read-your-writes for their next reads)."""
    request.scope.setdefault("state", {})[_WRITES_FOR] = str(caller_id)


def caller_of(request: Request[Any, Any, Any]) -> str | None:
    state = request.scope.get("state", {})
    named = state.get(_WRITES_FOR)
    if named is not None:
        return str(named)
    principal = state.get(_PRINCIPAL)
    return None if principal is None else str(principal.id)


def _marks(container: Container) -> WriteMarks:
    settings = container.settings
    ttl_s = ReadRouter.mark_ttl_s(settings.database_read_max_lag_seconds)
    # Shared by every process and pod when Redis is configured: a caller's next request may land anywhere.
    return RedisWriteMarks(settings.redis_url, ttl_s) if settings.redis_url else MemoryWriteMarks(ttl_s)


async def start_read_routing(container: Container) -> None:
    settings = container.settings
    if not settings.database_read_url or container.reads is not None:
        return
    router = ReadRouter(
        settings.database_url or "",
        settings.database_read_url,
        _marks(container),
        max_lag_s=settings.database_read_max_lag_seconds,
        pool_max=settings.db_pool_max,
        statement_timeout_ms=settings.db_statement_timeout_ms,
    )
    await router.start()
    container.reads = router
    REPLICA_UP.set_function(lambda: float(router.up))
    REPLICA_LAG.set_function(router.lag_s)


async def stop_read_routing(container: Container) -> None:
    router, container.reads = container.reads, None
    if router is not None:
        REPLICA_UP.set_function(lambda: 0.0)
        REPLICA_LAG.set_function(lambda: 0.0)
        await router.close()
