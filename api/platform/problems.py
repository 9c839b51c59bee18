"""RFC 9457 problem+json for every error path: the one exception-to-response table.

Domain errors map by class (and may override by ``code``); Litestar's own errors (routing, body
size, validation) are rewritten into the same shape; anything unexpected becomes a 500 that names
only the request id. Database outages become 503 with ``Retry-After``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import asyncpg
import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotFoundException, SerializationException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from api.platform import i18n
from api.platform.path_params import bad_uuid_parameter
from domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthenticated,
    Unavailable,
)

log = logging.getLogger("thudo.errors")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://thudo.hanoi.gov.vn/problems/"

# The one mapping table from domain error classes to HTTP statuses (most specific first).
DOMAIN_STATUS: list[tuple[type[DomainError], int]] = [
    (NotFound, 404),
    (InvalidInput, 422),
    (Conflict, 409),
    (Forbidden, 403),
    (Unauthenticated, 401),
    (RateLimited, 429),
    (Unavailable, 503),
    (DomainError, 400),
]


class FieldError(msgspec.Struct):
    field: str
    rule: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str | None = None
    errors: list[FieldError] = msgspec.field(default_factory=list)


def problem_spec(description: str) -> ResponseSpec:
    """An error answer an operation declares beyond the statuses its shape implies (api.platform.openapi)."""
    return ResponseSpec(data_container=Problem, description=description, media_type=PROBLEM_JSON,
                        generate_examples=False)


class ProblemError(Exception):
    """Raised by API-layer code (guards, idempotency) that needs a specific status and code."""

    def __init__(self, status: int, code: str, *, headers: dict[str, str] | None = None,
                 errors: list[tuple[str, str, dict[str, Any]]] | None = None, **params: Any) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.headers = headers or {}
        self.errors = errors or []
        self.params = params


def problem_response(request: Request[Any, Any, Any], status: int, code: str, *,
                     params: dict[str, Any] | None = None,
                     errors: list[tuple[str, str, dict[str, Any]]] | None = None,
                     headers: dict[str, str] | None = None) -> Response[Problem]:
    lang = i18n.language(request.headers.get("accept-language"))
    request_id = request.scope.get("state", {}).get("request_id")
    params = {"request_id": request_id, **(params or {})}
    body = Problem(
        type=TYPE_BASE + code.replace(".", "/"),
        title=i18n.title(status, lang),
        status=status,
        detail=i18n.message(code, lang, status, params),
        code=code,
        request_id=request_id,
        errors=[FieldError(field=f, rule=r, message=i18n.rule_message(f, r, lang, p)) for f, r, p in errors or []],
    )
    return Response(body, status_code=status, media_type=PROBLEM_JSON,
                    headers={"Content-Language": lang, **(headers or {})})


# --- msgspec validation messages -> (field, rule, params) -----------------------------------------
_AT = re.compile(r" - at `(?P<path>[^`]*)`$")
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Object missing required field `(?P<name>[^`]+)`"), "required"),
    (re.compile(r"Object contains unknown field `(?P<name>[^`]+)`"), "unknown_field"),
    (re.compile(r"Expected `\w+` of length >= (?P<limit>\d+)"), "min_length"),
    (re.compile(r"Expected `\w+` of length <= (?P<limit>\d+)"), "max_length"),
    (re.compile(r"Expected `\w+` >= (?P<limit>[-\d.e]+)"), "minimum"),
    (re.compile(r"Expected `\w+` <= (?P<limit>[-\d.e]+)"), "maximum"),
    (re.compile(r"Expected `\w+` > (?P<limit>[-\d.e]+)"), "exclusive_minimum"),
    (re.compile(r"Expected `\w+` < (?P<limit>[-\d.e]+)"), "exclusive_maximum"),
    (re.compile(r"Expected `str` matching regex"), "pattern"),
    (re.compile(r"Invalid enum value"), "enum"),
    (re.compile(r"Invalid (?P<expected>[\w ]+?)(?: encoded)? ?(?P<what>datetime|date|time|UUID|uuid|duration)?$"),
     "format"),
    (re.compile(r"Expected `(?P<expected>[^`]+)`, got `[^`]+`"), "type"),
]


def _json_path_to_field(path: str) -> str:
    # "$.items[0].name" -> "items[0].name"; "$" -> ""
    return path[2:] if path.startswith("$.") else ("" if path == "$" else path.lstrip("$"))


def parse_validation_message(message: str, key: str | None = None) -> tuple[str, str, dict[str, Any]]:
    m_at = _AT.search(message)
    path = _json_path_to_field(m_at.group("path")) if m_at else (key or "")
    core = message[: m_at.start()] if m_at else message
    for pattern, rule in _PATTERNS:
        m = pattern.search(core)
        if not m:
            continue
        params = {k: v for k, v in m.groupdict().items() if v is not None}
        field = path
        if rule in ("required", "unknown_field"):
            name = params.pop("name")
            field = f"{path}.{name}" if path else name
        if rule == "format":
            params = {"expected": (params.get("what") or params.get("expected") or "value").strip()}
        return field or (key or "body"), rule, params
    return path or (key or "body"), "invalid", {}


# Litestar's message (no ``extra``) when a required query/path/header/cookie parameter is absent.
_MISSING_PARAMETER = re.compile(r"Missing required (?:query|path|header|cookie) parameter '([^']+)'")


def _validation_errors(exc: ValidationException) -> list[tuple[str, str, dict[str, Any]]]:
    extra = exc.extra if isinstance(exc.extra, list) else [exc.extra] if exc.extra else []
    missing = _MISSING_PARAMETER.match(str(exc.detail or ""))
    if not extra and missing:
        return [(missing.group(1), "required", {})]
    out: list[tuple[str, str, dict[str, Any]]] = []
    for item in extra:
        if isinstance(item, dict):
            msg = str(item.get("message", ""))
            key = item.get("key")
            if item.get("source") == "body" and msg == "'data'":
                # Litestar reports an empty body as a missing "data" kwarg.
                out.append(("body", "required", {}))
                continue
            field, rule, params = parse_validation_message(msg, key if key != "data" else None)
            if item.get("source") in ("query", "path", "header", "cookie") and key:
                field = str(key)
            out.append((field, rule, params))
    return out or [("body", "invalid", {})]


def _is_database_down(exc: BaseException) -> bool:
    # Outages, overload (pool or statement timeout) and transient conflicts: the same request may
    # succeed later, so the client gets 503 + Retry-After rather than a 500.
    return isinstance(exc, (OSError, asyncpg.CannotConnectNowError, asyncpg.ConnectionDoesNotExistError,
                            asyncpg.InterfaceError, asyncpg.AdminShutdownError, TimeoutError,
                            asyncpg.TooManyConnectionsError, asyncpg.QueryCanceledError,
                            asyncpg.DeadlockDetectedError, asyncpg.SerializationError,
                            # The driver's own state broken mid-query (seen when PostgreSQL stops).
                            asyncpg.InternalClientError))


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    if isinstance(exc, ProblemError):
        return problem_response(request, exc.status, exc.code, params=exc.params, errors=exc.errors,
                                headers=exc.headers)
    if isinstance(exc, DomainError):
        status = next(s for cls, s in DOMAIN_STATUS if isinstance(exc, cls))
        headers: dict[str, str] = {}
        if isinstance(exc, (RateLimited, Unavailable)):
            headers["Retry-After"] = str(exc.retry_after)
        errors = [(exc.field, exc.rule or "invalid", exc.params)] if exc.field else []
        params = dict(exc.params)
        if isinstance(exc, RateLimited):
            params["retry_after"] = exc.retry_after
        return problem_response(request, status, exc.code, params=params, errors=errors, headers=headers)
    if isinstance(exc, ValidationException):
        return problem_response(request, 422, "validation_failed", errors=_validation_errors(exc))
    if isinstance(exc, NotFoundException):
        bad = bad_uuid_parameter(request.app, request.scope["path"])
        if bad is not None:
            return problem_response(request, 422, "validation_failed", errors=[(bad, "format", {"expected": "UUID"})])
        return problem_response(request, 404, "route_not_found")
    if isinstance(exc, HTTPException):
        status = exc.status_code
        code = {400: "malformed_json", 405: "method_not_allowed", 413: "body_too_large",
                415: "unsupported_media_type"}.get(status, f"http_{status}")
        # Litestar wraps body decode failures (SerializationException) in a 400 ClientException.
        decode_failed = isinstance(exc.__cause__, SerializationException) or "malformed" in str(exc.detail).lower()
        if status == 400 and not decode_failed:
            code = "bad_request"
        return problem_response(request, status, code, headers=dict(exc.headers or {}))
    if _is_database_down(exc):
        log.warning("database unavailable: %s", type(exc).__name__)
        return problem_response(request, 503, "unavailable", headers={"Retry-After": "5"})
    # The route template, not the path: paths carry ids of citizens' objects.
    log.exception("unhandled error", extra={"route": request.scope.get("path_template")})
    return problem_response(request, 500, "internal_error")


# Documented in OpenAPI on every route.
PROBLEM_MEDIA = MediaType.JSON
