"""Request id, access log, Prometheus metrics and security headers, as one ASGI middleware.

One pure-ASGI layer (rather than several) keeps the per-request overhead small; it runs outside
Litestar's routing so it also sees 404s and 405s. Only the route *template* is logged and used as
a metric label: paths hold ids, and query strings may hold personal data.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import time
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Histogram

from api.platform.access_log import ACCESS_LOG

if TYPE_CHECKING:  # annotations only: the CLI imports this module and should not pay for Litestar
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("thudo_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("thudo_http_request_duration_seconds", "HTTP request latency", ["method", "route"],
                    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
]
# The interactive API viewer (api.platform.viewer) loads scripts and styles from our own origin only;
# Swagger UI sets inline style attributes and shows inline SVG/data images, hence those two allowances.
VIEWER_CSP = (b"default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
              b"frame-ancestors 'none'")
# The dev stand-ins' pages (consent forms) keep inline scripts; still no third-party host.
_DEV_CSP = b"default-src 'self' 'unsafe-inline' data:; frame-ancestors 'none'"


# The request being served by this task (asyncio copies the context into each task), so that every
# log line written while serving it — errors included — names it like its access line does.
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; ``extra=`` fields are merged in."""

    _SKIP = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            entry["request_id"] = request_id
        entry.update({k: v for k, v in record.__dict__.items() if k not in self._SKIP})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "asyncio", "pgserver"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def granian_log_config() -> dict[str, Any]:
    """dictConfig for granian's own loggers, so the server's lines are JSON like ours."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"console": handler},
        "loggers": {"_granian": {"handlers": ["console"], "level": "INFO", "propagate": False},
                    "granian.access": {"handlers": ["console"], "level": "WARNING", "propagate": False}},
    }


_SECURITY_NAMES = frozenset(k for k, _ in SECURITY_HEADERS)


def _page_headers(csp: bytes) -> list[tuple[bytes, bytes]]:
    """The headers of a page a browser renders (another CSP, cacheable) rather than an API answer."""
    return [(k, csp if k == b"content-security-policy" else v) for k, v in SECURITY_HEADERS if k != b"cache-control"]


_VIEWER_HEADERS = _page_headers(VIEWER_CSP)
_DEV_HEADERS = _page_headers(_DEV_CSP)


def _headers_for(path: str) -> list[tuple[bytes, bytes]]:
    if path.startswith("/schema"):
        return _VIEWER_HEADERS
    return _DEV_HEADERS if path.startswith("/dev/") else SECURITY_HEADERS


def _with_security_headers(headers: list[tuple[bytes, bytes]],
                           extra: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    if any(k.lower() in _SECURITY_NAMES for k, _ in headers):  # the handler set one itself: keep its value
        present = {k.lower() for k, _ in headers}
        extra = [(k, v) for k, v in extra if k not in present]
    return headers + extra


# Metric children per (method, route, status): ``labels()`` takes a lock and builds keys on every call.
_metrics: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _observe(method: str, route: str, status: int, elapsed: float) -> None:
    children = _metrics.get((method, route, status))
    if children is None:
        children = _metrics[(method, route, status)] = (REQUESTS.labels(method, route, str(status)),
                                                        LATENCY.labels(method, route))
    children[0].inc()
    children[1].observe(elapsed)


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            supplied = value.decode("latin-1")
            if _REQUEST_ID.match(supplied):
                return supplied
            break
    return os.urandom(16).hex()


def observability_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]  # servers send plain strings
            await app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        token = REQUEST_ID.set(request_id)
        status = 500
        start = time.perf_counter()
        page_headers = _headers_for(scope["path"])

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                message["headers"] = _with_security_headers(headers, page_headers)
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("path_template") or "<unmatched>"
            method = str(scope.get("method", ""))
            _observe(method, route, status, elapsed)
            if ACCESS_LOG.enabled:
                ACCESS_LOG.record(request_id, method, route, status, elapsed)
            REQUEST_ID.reset(token)

    return middleware
