"""What Litestar's generated OpenAPI leaves out: the problem+json errors and closed request bodies.

Litestar documents each operation's success response (plus a generic 400 in its own error shape,
which this API never sends). Every error here is RFC 9457 problem+json from ``api.platform.problems``, and
which statuses an operation can answer follows from how it is declared: authentication (401/403),
path ids (404), parameters and bodies (422), JSON bodies (400 malformed, 413 too large, 415 wrong
media type), writes (409), the rate-limited sign-in endpoints (429) and the database (503). Input
Structs with ``forbid_unknown_fields`` get ``additionalProperties: false`` on their schema, so the
document says what the server enforces. Open311 paths are documented by ``api.feedback.open311.docs``.
Code generators also need what Litestar cannot see in a signature: the ``Idempotency-Key`` header of the
POSTs that honour it (found by following the handler's code to ``api.platform.idempotency.idempotent``)
and the ``Location`` header of 201 answers.
"""

from __future__ import annotations

import types
import typing
from typing import Any

import msgspec
from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.routes import HTTPRoute

from api.feedback.open311.docs import document_open311
from api.platform import idempotency
from api.platform.problems import PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `errors` names each invalid field and the rule it broke.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "rule", "message"],
            "properties": {"field": {"type": "string"}, "rule": {"type": "string"}, "message": {"type": "string"}}}},
    },
}

DESCRIPTIONS = {
    400: "Malformed request (e.g. a body that is not JSON)",
    401: "Missing, invalid or expired access token",
    403: "Authenticated, but not allowed (e-ID level, role, client kind)",
    404: "No such object, or it belongs to someone else",
    409: "Conflicts with the current state",
    413: "Body too large",
    415: "Unsupported Content-Type",
    422: "Invalid input: `errors` names the field and the rule (or an Idempotency-Key reused with another body)",
    429: "Too many attempts: wait `Retry-After` seconds",
    503: "Temporarily unavailable: retry after `Retry-After` seconds",
}

IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Any 1–200 printable ASCII characters, new for each intended creation: a retry with the same "
                   "key and body returns the first answer (header `Idempotent-Replayed: true`) and creates "
                   "nothing; the same key with another body is a 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200}}
LOCATION: dict[str, Any] = {"description": "Path of the created resource, where it has an address of its own",
                            "schema": {"type": "string"}}

_SIGN_IN = ("/api/v1/auth/vneid/start", "/api/v1/auth/vneid/callback", "/api/v1/auth/refresh",
                 "/api/v1/auth/token")
_WRITES = ("post", "put", "patch", "delete")


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation of this API can answer, from how it is declared."""
    statuses = {503}
    params = operation.get("parameters", [])
    body = operation.get("requestBody")
    if operation.get("security"):
        statuses |= {401, 403}
    if any(p.get("in") == "path" for p in params):
        statuses |= {404, 422}
    if params or body:
        statuses |= {400, 422}
    if body:
        statuses |= {400, 413, 415, 422}
    if method in _WRITES and operation.get("security"):
        statuses.add(409)
    if path in _SIGN_IN:
        # A wrong or expired code, refresh token or client assertion is a 401; trying too often a 429.
        statuses |= {401, 429}
    return statuses


def document_errors(app: Litestar) -> None:
    """Complete the app's generated OpenAPI in place (the served document is built once and cached)."""
    schema = app.plugins.get(OpenAPIPlugin).provide_openapi_schema()
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    document_open311(schema)
    _distinct_titles(components)
    bodies = _body_types(app)
    idempotent_ops = _idempotent_operations(app)
    for path, item in schema.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            if (path, method.upper()) in idempotent_ops:
                operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
            if "201" in responses:
                responses["201"].setdefault("headers", {})["Location"] = LOCATION
            for status in sorted(error_statuses(path, method, operation)):
                responses[str(status)] = {"description": DESCRIPTIONS[status],
                                          "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}
            body_type = bodies.get((path, method.upper()))
            if body_type is not None:
                for media in operation.get("requestBody", {}).get("content", {}).values():
                    _close_objects(media.get("schema", {}), body_type, components)


def _distinct_titles(components: dict[str, Any]) -> None:
    """Generators name classes after a schema's ``title``. Litestar keeps the Struct's name there even when two
    contexts' Structs share it (``ShareIn``) and it had to prefix the component key (``health_schemas_ShareIn``),
    so clients got two classes of one name; give such schemas a title made from their unique key."""
    for key, component in components.items():
        if isinstance(component, dict) and "_" in key and component.get("title") not in (None, key):
            component["title"] = "".join(part[:1].upper() + part[1:] for part in key.split("_"))


def _body_types(app: Litestar) -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            param = handler.parsed_fn_signature.parameters.get("data")
            if param is None:
                continue
            for method in handler.http_methods:
                found[(route.path_format, method)] = param.annotation
    return found


def _idempotent_operations(app: Litestar) -> set[tuple[str, str]]:
    """The (path, method) of every handler whose code reaches ``idempotent()``: the ones honouring the header."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                if _reaches(handler.fn, idempotency.idempotent, depth=3):
                    found.update((route.path_format, method) for method in handler.http_methods)
    return found


def _reaches(fn: Any, target: Any, depth: int) -> bool:
    """Whether ``fn`` calls ``target`` itself or through module functions it names (a shared helper such as
    staff's ``_act``), up to ``depth`` calls deep. Reads names, not source, so renames stay correct."""
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    if code is None or depth < 0:
        return False
    names = set(code.co_names)
    names.update(n for const in code.co_consts if isinstance(const, types.CodeType) for n in const.co_names)
    scope = getattr(fn, "__globals__", {})
    for name in names:
        value = scope.get(name)
        if value is target:
            return True
        if isinstance(value, types.FunctionType) and value.__module__.startswith("api.") \
                and _reaches(value, target, depth - 1):
            return True
    return False


def _struct_of(annotation: Any) -> type[msgspec.Struct] | None:
    """The Struct an annotation holds, through Annotated, Optional and list/tuple items."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _struct_of(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, set, frozenset):
        for arg in typing.get_args(annotation):
            found = _struct_of(arg)
            if found is not None:
                return found
        return None
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return annotation
    return None


def _close_objects(node: dict[str, Any], annotation: Any, components: dict[str, Any]) -> None:
    """``additionalProperties: false`` on every object schema whose Struct forbids unknown fields."""
    struct = _struct_of(annotation)
    if struct is None:
        return
    ref = node.get("$ref")
    if isinstance(ref, str):
        node = components.get(ref.rsplit("/", 1)[-1], {})
    for key in ("oneOf", "anyOf", "allOf"):
        for sub in node.get(key, []):
            _close_objects(sub, struct, components)
    if "properties" not in node:
        if node.get("type") == "array" and isinstance(node.get("items"), dict):
            _close_objects(node["items"], annotation, components)
        return
    if struct.__struct_config__.forbid_unknown_fields:
        node["additionalProperties"] = False
    hints = typing.get_type_hints(struct, include_extras=True)
    for field in msgspec.structs.fields(struct):
        sub = node["properties"].get(field.encode_name)
        if isinstance(sub, dict):
            _constrain_optional(sub, hints.get(field.name))
            _close_objects(sub, hints.get(field.name), components)


_CONSTRAINTS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength",
                "maxLength", "pattern", "minItems", "maxItems")


def _constrain_optional(node: dict[str, Any], annotation: Any) -> None:
    """Litestar drops the ``Meta`` constraints of an optional field (``Annotated[int, Meta(ge=0)] | None``
    becomes ``oneOf: [integer, null]``); msgspec, which enforces them, states them: copy its bounds, lengths
    and patterns onto the matching branch, so generated clients and fuzzers see what the server refuses."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType) or "oneOf" not in node:
        return
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is not typing.Annotated:
            continue
        stated = msgspec.json.schema(arg)
        rules = {k: v for k, v in stated.items() if k in _CONSTRAINTS}
        for branch in node["oneOf"]:
            if rules and branch.get("type") == stated.get("type"):
                branch.update(rules)
