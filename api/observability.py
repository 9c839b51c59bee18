"""Request id, structured JSON logs, Prometheus metrics and security headers, as one ASGI middleware.

One pure-ASGI layer (rather than several) keeps the per-request overhead small; it runs outside
Litestar's routing so it also sees 404s and 405s. Only the route *template* is logged and used as
a metric label: paths hold ids, and query strings may hold personal data.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Histogram

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
# The interactive API viewer and the dev login page need scripts and styles from our own origin.
_RELAXED_CSP = (b"default-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com data:; "
                b"frame-ancestors 'none'")


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


access_log = logging.getLogger("thudo.access")


def observability_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        supplied = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id  # type: ignore[typeddict-item]
        status = 500
        start = time.perf_counter()
        relaxed = scope["path"].startswith(("/schema", "/dev/"))

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                out = list(message.get("headers", []))
                out.append((b"x-request-id", request_id.encode()))
                present = {k.lower() for k, _ in out}
                for k, v in SECURITY_HEADERS:
                    if k in present:
                        continue
                    if k == b"content-security-policy" and relaxed:
                        v = _RELAXED_CSP
                    if k == b"cache-control" and relaxed:
                        continue
                    out.append((k, v))
                message["headers"] = out  # type: ignore[typeddict-unknown-key]
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("path_template") or "<unmatched>"
            method = scope["method"]
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info("request", extra={"request_id": request_id, "method": method, "route": route,
                                                  "status": status, "duration_ms": round(elapsed * 1000, 2)})

    return middleware
