"""The lean lane: hot routes served without Litestar's generic per-request machinery, behaving exactly as before.

A handler marked ``opt=LEAN`` (``@get(..., opt={**READ_ONLY, **LEAN})``) stays registered with Litestar (its
OpenAPI operation, and the lane's fallback), but an ASGI layer between the observability middleware and
Litestar (``lean_lane``) answers its exact method and path itself:

* the same steps in the same order as Litestar's ``HTTPRoute.handle``: the app's ``before_request`` (text
  guard, ``authenticate_declared``, media type and the strict JSON body), the dependencies by the plan
  ``api.platform.deps`` made for the handler (the container, ``provide_uow``, the caller), query parameters
  through Litestar's own extractor and converted by msgspec to the signature model's own types, the handler
  function, its JSON body encoded with the handler's serializer, all inside the dependencies' cleanup group
  (so the unit of work commits before the response is sent and rolls back on any error);
* errors through the handler's exception handlers (``api.platform.problems.handle_exception``) and Litestar's
  own response, compressed by Litestar's compression middleware: the same problem+json bytes;
* a success answer with Litestar's headers (content-type, content-length), gzip-compressed only when the client
  accepts it and the body is at least the configured minimum (1,000 bytes), as Litestar's middleware does.

What it skips per request: Litestar's routing trie, the route middleware stack, the kwargs model's extractors and
the signature model's parse of every parameter, the response objects of a success, the exit stack. A request the
lane cannot answer exactly as Litestar would (an ``Origin`` header when CORS is on, a ``root_path``, another
host than a valid one) goes to Litestar unchanged. A marked handler using anything the lane does not implement
(guards, path/header/cookie parameters, cached or parameterised dependencies, response headers or cookies, after-
request hooks, DTOs, a ``Response`` return...) is refused when the app is built (``LeanRefused``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import partial
from io import BytesIO
from typing import Any

import msgspec
from litestar import Litestar, Response
from litestar._asgi.utils import is_valid_host
from litestar._kwargs.cleanup import DependencyCleanupGroup
from litestar._kwargs.extractors import create_connection_value_extractor, parse_connection_query_params
from litestar._signature.model import _deserializer
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import ImproperlyConfiguredException
from litestar.middleware._internal.exceptions.middleware import get_exception_handler
from litestar.middleware.compression.gzip_facade import GzipCompression
from litestar.routes import HTTPRoute
from litestar.serialization import encode_json, get_serializer
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.types.empty import Empty
from litestar.utils.scope.state import ScopeState

from api.platform.body import strict_decoder
from api.platform.deps import plan_of, resolve_planned, resolved_by_litestar

# Handler opt: serve this route through the lean lane (``opt={**READ_ONLY, **LEAN}``).
LEAN_OPT = "lean"
LEAN: dict[str, Any] = {LEAN_OPT: True}

# Requests the lane answered, per route template (tests prove with it which lane served them).
SERVED: Counter[str] = Counter()


class LeanRefused(ImproperlyConfiguredException):
    """A handler marked ``LEAN`` uses something the lane does not implement: refused when the app is built."""


@dataclass(frozen=True, slots=True)
class _Route:
    handler: Any
    template: str
    fn: Any
    before: Any
    plan: list[tuple[str, int, bool, Any, Any]]
    unused: tuple[str, ...]  # dependencies only other dependencies take (Litestar's signature model drops them)
    takes_request: bool
    takes_data: bool
    query: Any  # Litestar's query extractor, or None
    query_type: Any  # a Struct of the query parameters with the signature model's types, or None
    deserializer: Any
    serializer: Any
    status: int
    exception_handlers: Any
    type_encoders: Any


_RESERVED = {"request", "data"}


def _refuse(handler: Any, what: str) -> LeanRefused:
    return LeanRefused(f"LEAN handler {handler.handler_name!r} ({', '.join(sorted(handler.paths))}): {what} "
                       f"is not supported by the lean lane")


def _route(app: Litestar, route: HTTPRoute, handler: Any, model: Any) -> _Route:
    fail = partial(_refuse, handler)
    if route.path_parameters:
        raise fail("a path parameter")
    if handler.resolve_guards():
        raise fail("a guard")
    if handler.resolve_middleware():
        raise fail("route middleware")
    if any(layer.after_request for layer in handler.ownership_layers) or handler.resolve_after_response():
        raise fail("an after-request/after-response hook")
    if handler.resolve_response_headers():
        raise fail("response headers")
    if handler.resolve_response_cookies():
        raise fail("cookies")
    if handler.background is not None or handler.cache:
        raise fail("a background task or the response cache")
    if handler.resolve_return_dto() or handler.resolve_data_dto():
        raise fail("a DTO")
    if handler.resolve_response_class() is not Response:
        raise fail("a response class of its own")
    if handler.has_sync_callable:
        raise fail("a sync handler")
    returns = handler.parsed_fn_signature.return_type
    if returns.is_subclass_of(Response) or returns.is_none_type:
        raise fail("a Response or empty return")
    if str(getattr(handler.media_type, "value", handler.media_type)) != "application/json":
        raise fail("a response media type other than application/json")
    if model.expected_path_params or model.expected_header_params or model.expected_cookie_params:
        raise fail("a path, header or cookie parameter")
    if model.expected_form_data or model.expected_msgpack_data or model.expected_data_dto:
        raise fail("a form or MessagePack body")
    if model.sequence_query_parameter_names or any(p.is_required for p in model.expected_query_params):
        raise fail("a sequence or required query parameter")
    if not model.expected_reserved_kwargs <= _RESERVED:
        raise fail(f"the reserved parameters {sorted(model.expected_reserved_kwargs - _RESERVED)}")
    plan = plan_of(model)
    if plan is None or any(resolved_by_litestar(step) for step in plan):
        raise fail("a dependency that is cached or takes parameters besides the request")
    params = set(handler.parsed_fn_signature.parameters)
    takes_data = "data" in params
    if takes_data:
        entry = strict_decoder(handler)
        if entry is None or entry[1] or handler.http_methods.isdisjoint({"POST", "PUT", "PATCH"}):
            raise fail("a body that is optional, not JSON msgspec decodes, or on a method without one")
    signature = handler.signature_model
    query_names = sorted(p.field_name for p in model.expected_query_params)
    query_type = msgspec.defstruct("LeanQuery", [(n, signature.__annotations__[n]) for n in query_names]) \
        if query_names else None
    query = create_connection_value_extractor(model, "query_params", model.expected_query_params,
                                              parse_connection_query_params) if query_names else None
    provided = {step[0] for step in plan}
    if params - provided - _RESERVED - set(query_names):
        raise fail(f"the parameters {sorted(params - provided - _RESERVED - set(query_names))}")
    return _Route(handler=handler, template=route.path_format, fn=handler.fn, before=handler.resolve_before_request(),
                  plan=plan, unused=tuple(sorted(provided - params)), takes_request="request" in params,
                  takes_data=takes_data,
                  query=query, query_type=query_type,
                  deserializer=partial(_deserializer, default_deserializer=handler.default_deserializer),
                  serializer=get_serializer(handler.resolve_type_encoders()), status=handler.status_code,
                  exception_handlers=handler.resolve_exception_handlers(),
                  type_encoders=handler.resolve_type_encoders())


def lean_routes(app: Litestar) -> dict[tuple[str, str], _Route]:
    """(method, path) → the lane's plan for every handler marked ``LEAN`` (after ``resolve_dependencies_in_order``)."""
    routes: dict[tuple[str, str], _Route] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, (handler, model) in route.route_handler_map.items():
            if handler.opt.get(LEAN_OPT):
                routes[(method, route.path)] = _route(app, route, handler, model)
    if routes and app.before_send:
        raise LeanRefused("LEAN handlers with the app's before_send hooks are not supported by the lean lane")
    return routes


def lean_lane(app: Litestar, inner: ASGIApp) -> ASGIApp:
    """The ASGI layer around Litestar's handler (``inner``) that serves the ``LEAN`` routes itself."""
    routes = lean_routes(app)
    if not routes:
        return inner
    cors = app.cors_config is not None
    compression = app.compression_config
    request_class = app.request_class

    async def lane(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):  # type: ignore[comparison-overlap]
            route = routes.get((scope["method"], scope["path"]))  # type: ignore[typeddict-item]
            if route is not None:
                host = origin = None
                accept = ""
                for name, value in scope["headers"]:
                    if name == b"host":
                        host = value
                    elif name == b"origin":
                        origin = value
                    elif name == b"accept-encoding":
                        accept = value.decode("latin-1")
                if (origin is None or not cors) and (host is None or is_valid_host(host)):
                    await _serve(route, request_class, compression, accept, scope, receive, send)
                    return
        await inner(scope, receive, send)

    return lane


async def _serve(route: _Route, request_class: Any, compression: Any, accept: str, scope: Any, receive: Receive,
                 send: Send) -> None:
    scope["path_params"] = {}
    scope["route_handler"] = route.handler
    scope["path_template"] = route.template
    SERVED[route.template] += 1
    request = request_class(scope=scope, receive=receive, send=send)
    try:
        body = await _respond(route, request, scope)
    except Exception as exc:  # every error becomes the problem answer Litestar would give
        handle = get_exception_handler(route.exception_handlers, exc)
        if handle is None:
            raise
        answer = handle(request, exc).to_asgi_response(app=None, request=request, type_encoders=route.type_encoders)
        await _compressed(answer, compression)(scope, receive, send)
        return
    if isinstance(body, bytes):
        await _send_json(send, route.status, body, compression, accept)
    else:  # the handler returned a Response after all: Litestar's own answer
        await _compressed(body, compression)(scope, receive, send)


async def _respond(route: _Route, request: Any, scope: Any) -> bytes | ASGIApp:
    """The handler's answer, encoded before its dependencies are cleaned up (the unit of work commits after the
    body is rendered and before it is sent, as in Litestar's ``HTTPRoute``)."""
    data = await route.before(request) if route.before is not None else None
    group = DependencyCleanupGroup()
    async with group:
        if not data:
            kwargs: dict[str, Any] = {}
            await resolve_planned(route.plan, request, kwargs, group)
            for name in route.unused:
                del kwargs[name]
            if route.takes_request:
                kwargs["request"] = request
            if route.takes_data:
                value = ScopeState.from_scope(scope).json  # the strict decode of before_request (api.platform.body)
                if value is Empty:
                    raise RuntimeError("the lean lane expects the JSON body decoded by before_request")
                kwargs["data"] = value
            if route.query is not None:
                await _query(route, request, kwargs)
            data = await route.fn(**kwargs)
        if isinstance(data, Response):
            answer: ASGIApp = await route.handler.to_response(app=scope["litestar_app"], data=data, request=request)
            return answer
        return encode_json(data, route.serializer)


async def _query(route: _Route, request: Any, kwargs: dict[str, Any]) -> None:
    """Query parameters as Litestar extracts them (defaults, last value wins), converted to the signature model's
    types; on failure the signature model itself raises the ValidationException Litestar would have raised."""
    values: dict[str, Any] = {}
    await route.query(values, request)
    try:
        parsed = msgspec.convert(values, route.query_type, strict=False, dec_hook=route.deserializer, str_keys=True)
    except msgspec.ValidationError:
        route.handler.signature_model.parse_values_from_connection_kwargs(connection=request,
                                                                          kwargs={**kwargs, **values})
        raise
    for name in route.query_type.__struct_fields__:
        kwargs[name] = getattr(parsed, name)


async def _send_json(send: Send, status: int, body: bytes, compression: Any, accept: str) -> None:
    start: Any = {"type": "http.response.start", "status": status,
                  "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]}
    facade = _facade(compression, accept) if compression is not None and len(body) >= compression.minimum_size \
        else None
    if facade is not None:
        buffer = BytesIO()
        compressor = facade[0](buffer=buffer, compression_encoding=facade[1], config=compression)
        compressor.write(body)
        compressor.close()
        body = buffer.getvalue()
        headers = MutableScopeHeaders(start)
        headers["Content-Encoding"] = facade[1]
        headers["Content-Length"] = str(len(body))
        headers.extend_header_value("vary", "Accept-Encoding")
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _facade(compression: Any, accept: str) -> tuple[Any, str] | None:
    """Which compression Litestar's middleware would apply for this ``Accept-Encoding`` (its own rule)."""
    if compression.compression_facade.encoding in accept:
        return compression.compression_facade, compression.compression_facade.encoding
    if compression.gzip_fallback and "gzip" in accept:
        return GzipCompression, "gzip"
    return None


def _compressed(answer: ASGIApp, compression: Any) -> ASGIApp:
    return answer if compression is None else compression.middleware_class(app=answer, config=compression)
