"""Platform endpoints: liveness, readiness (database), Prometheus metrics."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from adapters.postgres.pool import ping

READY_TIMEOUT_S = 1.5

# Litestar appends "; charset=utf-8" to every text/* type itself: prometheus_client's already has it.
METRICS_TYPE = CONTENT_TYPE_LATEST.replace("; charset=utf-8", "")


class PlatformController(Controller):
    path = ""
    tags = ["platform"]
    include_in_schema = True

    @get("/health/live", operation_id="healthLive", summary="The process is up")
    async def live(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/health/ready", operation_id="healthReady", summary="The service can reach its database",
         description="Readiness probe: 200 when a database query succeeds within 1.5 s, else 503.",
         responses={503: ResponseSpec(data_container=dict[str, str], generate_examples=False,
                                      description="The database cannot be reached; retry after Retry-After "
                                                  "seconds.")})
    async def ready(self, state: State) -> Response[dict[str, str]]:
        if not await ping(state.container.pool, READY_TIMEOUT_S):
            return Response({"status": "unavailable", "database": "down"}, status_code=503,
                            headers={"Retry-After": "5"})
        return Response({"status": "ok", "database": "up"})

    @get("/metrics", operation_id="metrics", summary="Prometheus metrics", media_type=METRICS_TYPE)
    async def metrics(self) -> Response[bytes]:
        return Response(generate_latest(), media_type=METRICS_TYPE)
