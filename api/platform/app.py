"""App factory: builds the Litestar application from settings.

Everything a request needs is wired here or in ``api.platform.container``; bounded contexts contribute
their controllers to ``API_V1`` (versioned under ``/api/v1``) or ``ROOT`` (fixed paths such as
``/open311/v2`` and ``/.well-known``).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncGenerator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Router
from litestar.config.compression import CompressionConfig
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import BodyKwarg
from litestar.types import ControllerRouterHandler

import api.identity.eid_texts  # noqa: F401 - registers the e-ID error texts
from api.identity.auth import authenticate_declared, provide_client_principal, provide_principal
from api.platform.access_log import ACCESS_LOG
from api.platform.body import check_json_body
from api.platform.container import Container, build_container
from api.platform.context import Context
from api.platform.deps import ContainerProvider, per_handler, provide_uow, resolve_dependencies_in_order
from api.platform.lean import lean_lane
from api.platform.observability import configure_logging, observability_middleware
from api.platform.openapi import document_errors
from api.platform.problems import ProblemError, handle_exception
from api.platform.reads import start_read_routing, stop_read_routing
from api.platform.registry import CONTEXTS
from api.platform.routing import fix_options_allow
from api.platform.settings import Settings, load_settings
from api.platform.text_guard import check_query_and_path
from api.platform.viewer import SafeYaml, SwaggerViewer
from api.platform.worker import start_inline_worker, stop_inline_worker

log = logging.getLogger("thudo.app")

_JSON_TYPES = ("application/json",)


def _body_media(request: Request[Any, Any, Any]) -> str | None:
    """The media type the handler's body is declared as (``application/json`` by default), or None."""
    return per_handler(_MEDIA, request.route_handler, _declared_media)  # type: ignore[no-any-return]


_MEDIA: dict[int, tuple[object, Any]] = {}


def _declared_media(handler: Any) -> str | None:
    param = handler.parsed_fn_signature.parameters.get("data")
    if param is None:
        return None
    kwarg = param.kwarg_definition
    media = getattr(kwarg, "media_type", None) if isinstance(kwarg, BodyKwarg) else None
    # RequestEncodingType is a str enum: compare its value, str() of it is "RequestEncodingType.JSON".
    return "application/json" if media is None else str(getattr(media, "value", media))


async def before_request(request: Request[Any, Any, Any]) -> None:
    """Every request, before its body is parsed: who is calling (401/403), then the body's media type."""
    check_query_and_path(request.scope)
    await authenticate_declared(request)
    await require_declared_content_type(request)


async def require_declared_content_type(request: Request[Any, Any, Any]) -> None:
    """415 naming the expected type for a body of another media type (before any parsing happens): an upload
    sent as raw ``image/jpeg`` instead of multipart learns what to send, rather than a generic 400."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    expected = _body_media(request)
    if expected is None:
        return
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if expected.startswith("application/json"):
        if ctype not in _JSON_TYPES and not ctype.endswith("+json"):
            raise ProblemError(415, "unsupported_media_type", expected="application/json")
        await check_json_body(request)
    elif expected.startswith("multipart/") and ctype != expected:
        raise ProblemError(415, "unsupported_media_type", expected=expected)


def create_app(settings: Settings | None = None, container: Container | None = None,
               contexts: Sequence[Context] = CONTEXTS, *, freeze_heap: bool = False, lean: bool = True) -> Litestar:
    """Build the app. Pass ``container`` to share one across apps (tests); else the lifespan builds it.

    ``lean=False`` serves the handlers marked ``LEAN`` through Litestar like any other (tests compare the two).

    ``freeze_heap`` (servers only, see ``freeze_startup_heap``): move everything start-up made out of
    the garbage collector's reach once the app is ready."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    provide_container = ContainerProvider()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        owned = container is None
        app.state.container = provide_container.container = container or await build_container(settings,
                                                                                                contexts)
        try:
            for start in _STARTUP_HOOKS:
                await start(app.state.container)
            if freeze_heap:
                freeze_startup_heap()
            yield
        finally:
            for task in app.state.container.background:
                task.cancel()
            for stop in _SHUTDOWN_HOOKS:
                await stop(app.state.container)
            if owned:
                await app.state.container.close()

    api_v1 = Router(path="/api/v1", route_handlers=[h for c in contexts for h in c.api_v1])
    app = Litestar(
        route_handlers=[*(h for c in contexts for h in c.root), api_v1, *_standins(settings, contexts)],
        lifespan=[lifespan],
        dependencies={"uow": Provide(provide_uow), "container": Provide(provide_container, sync_to_thread=False),
                      "principal": Provide(provide_principal), "client_principal": Provide(provide_client_principal)},
        exception_handlers={Exception: handle_exception},
        before_request=before_request,
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins), allow_credentials=False,
                               allow_headers=["authorization", "content-type", "idempotency-key",
                                              "accept-language", "x-request-id"],
                               expose_headers=["x-request-id", "retry-after", "location"])
        if settings.cors_origins else None,
        compression_config=CompressionConfig(backend="gzip", minimum_size=1000, gzip_compress_level=6),
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Thủ Đô Số API", version="1.0.0", path="/schema",
            description="Backend of Hanoi's citizen super-app. Errors are RFC 9457 problem+json.",
            # The viewer's assets are served by the service (api.platform.viewer); JSON is Litestar's default.
            render_plugins=[SwaggerViewer(), SafeYaml()],
            components=Components(security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
            }),
        ),
        # Litestar's default LoggingConfig would replace our JSON handler on the root logger.
        logging_config=None,
        debug=False,
    )
    # Wrapped around Litestar's whole ASGI handler (not as route middleware) so that 404/405 from the
    # router and CORS preflights also get a request id, security headers, a log line and metrics.
    # The lean lane (api.platform.lean) sits inside it too: its routes get the same headers, log line and metrics.
    resolve_dependencies_in_order(app)
    app.asgi_handler = observability_middleware(lean_lane(app, app.asgi_handler) if lean else app.asgi_handler)
    document_errors(app)
    fix_options_allow(app)
    return app


# Hooks run by the lifespan after/before the container exists (inline worker, caches, ...).
_STARTUP_HOOKS: list[Any] = [start_read_routing, start_inline_worker]
async def _flush_access_log(_: Container) -> None:
    ACCESS_LOG.flush()


_SHUTDOWN_HOOKS: list[Any] = [stop_inline_worker, stop_read_routing, _flush_access_log]


def _standins(settings: Settings, contexts: Sequence[Context]) -> list[ControllerRouterHandler]:
    """Local stand-ins of external systems: only when explicitly enabled (never in production)."""
    if not settings.standins_enabled:
        return []
    handlers = [h for c in contexts if c.standins is not None for h in c.standins(settings)]
    # Stand-ins play outside systems for development: not part of the contract apps are generated from.
    return [Router(path="/", route_handlers=handlers, include_in_schema=False)] if handlers else []


def freeze_startup_heap() -> None:
    """Stop the garbage collector from rescanning what start-up built, on every full collection.

    After start-up a worker holds ~190,000 tracked objects (modules, Litestar's route and schema
    objects, the container) that live as long as the process. CPython's full (generation 2)
    collection walks all of them: ~450 ms measured with the machine loaded, ~100 ms quiet, with the
    event loop stopped, several times a minute under load — the `/me` p99 stalls of 87 and 111 ms
    (docs/performance.md, "The /me stalls"). ``gc.freeze()`` moves them to the permanent generation
    (after one collection, so no garbage is kept forever); a full pass then costs well under a
    millisecond. Only for a server process: tests that build many apps would never free the frozen
    ones."""
    gc.collect()
    gc.freeze()


def app_factory() -> Litestar:
    """Entry point for ASGI servers (``granian --factory api.platform.app:app_factory``)."""
    return create_app(freeze_heap=True)
