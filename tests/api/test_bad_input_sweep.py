"""Bad-input sweep (issue 10 #2, done criterion): every operation, every input, every hostile value — no 5xx.

The operations come from the app itself: each one in ``/schema/openapi.json`` plus every route of the
route table the document leaves out (FHIR, ingestion, webhooks), so a new endpoint is swept without
touching this file. For each (operation, input, payload kind) one request is sent, with a caller of
the kind the operation expects and a body that is otherwise valid by the documented schema, so the
hostile value is what the server has to cope with. A 5xx anywhere fails the test, listing them all.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from api.platform.app import create_app
from api.platform.settings import Settings
from tests.support.auth import client_token, login, login_city_admin, login_staff
from tests.support.open311 import issue_key
from tests.support.openapi import resolve as _resolve
from tests.support.openapi import valid as _valid

METHODS = ("get", "post", "put", "patch", "delete")
# Stand-ins of external systems (test/dev only) and the document viewer are not the API.
NOT_SWEPT = re.compile(r"^/(dev|schema)(/|$)")
TYPED_PARAM = re.compile(r"\{(\w+):[^}]+\}")

# Hostile values, as they travel in a URL (already percent-encoded) and in a JSON body (raw bytes).
URL_PAYLOADS = {
    "nul": "a%00b",
    "bad_utf8": "%FF%FE",
    "deep": "%5B" * 1000 + "%5D" * 1000,
    "long": "x" * 6000,
    "big_number": "1" + "0" * 400,
    "far_date": "9999-12-31T23:59:59%2B14:00",
}
JSON_PAYLOADS = {
    "nul": b'"a\\u0000b"',
    "bad_utf8": b'"\xff\xfe"',
    "deep": b"[" * 1000 + b"]" * 1000,
    "long": b'"' + b"x" * 100_000 + b'"',
    "big_number": b"1" + b"0" * 400,
    "huge_exponent": b"1e400",
    "far_date": b'"9999-12-31T23:59:59+14:00"',
}
PLACEHOLDER = "\u2603SWEEP\u2603"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    params: tuple[tuple[str, str], ...]   # (in, name) for query and path parameters
    body: dict[str, Any] | None           # JSON schema of an application/json body
    form: bool                            # an application/x-www-form-urlencoded body

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def _operations(app_doc: dict[str, Any], route_paths: list[tuple[str, set[str]]]) -> list[Operation]:
    components = app_doc.get("components", {}).get("schemas", {})
    ops: list[Operation] = []
    for path, item in app_doc["paths"].items():
        for method, op in item.items():
            if method not in METHODS or NOT_SWEPT.match(path):
                continue
            params = tuple((p["in"], p["name"]) for p in op.get("parameters", []) if p["in"] in ("query", "path"))
            content = (op.get("requestBody") or {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            ops.append(Operation(method, path, params, _resolve(body, components) if body else None,
                                 "application/x-www-form-urlencoded" in content))
    documented = {(o.method, o.path) for o in ops}
    for raw, methods in route_paths:
        path = TYPED_PARAM.sub(r"{\1}", raw)
        if NOT_SWEPT.match(path):
            continue
        for method in sorted(m.lower() for m in methods if m.lower() in METHODS):
            if (method, path) in documented or any(m == method and _same_route(p, path) for m, p in documented):
                continue
            # Undocumented (FHIR, ingestion, webhooks): its path parameters, and a body of a single field.
            names = tuple(("path", n) for n in re.findall(r"\{(\w+)\}", path))
            ops.append(Operation(method, path, names,
                                 {"type": "object", "properties": {"x": {"type": "string"}}}
                                 if method != "get" else None, False))
    return ops


def _same_route(documented: str, route: str) -> bool:
    """Open311 documents ``/requests.json`` for the route ``/requests/{name}``-like ``/requests``."""
    return re.sub(r"\.(json|xml)$", "", documented) == route


def _caller_for(path: str, callers: dict[str, dict[str, str]]) -> dict[str, str]:
    rules = (("/fhir/", "facility"), ("/api/v1/health-ingest", "facility"), ("/api/v1/transit/validator", "validator"),
             ("/api/v1/admin/", "admin"), ("/api/v1/transit/admin", "admin"), ("/api/v1/health-facilities", "admin"),
             ("/api/v1/staff/", "staff"), ("/api/v1/transit/staff", "staff"), ("/api/v1/feedback/stats", "staff"))
    return next((callers[kind] for prefix, kind in rules if path.startswith(prefix)), callers["citizen"])


def _url(op: Operation, target: tuple[str, str] | None, value: str) -> str:
    path = op.path
    for where, name in op.params:
        if where == "path":
            path = path.replace("{" + name + "}", value if (where, name) == target else str(uuid.uuid4()))
    if target and target[0] == "query":
        path += f"?{quote(target[1])}={value}"
    return path


def _requests(op: Operation, components: dict[str, Any], api_key: str) -> Iterator[tuple[str, str, bytes | None, str]]:
    """(label, url, body, content type) for every input of ``op`` and payload kind."""
    valid_body = json.dumps(_valid(op.body, components)).encode() if op.body is not None else None
    for target in op.params:
        for kind, value in URL_PAYLOADS.items():
            yield f"{target[0]}.{target[1]}={kind}", _url(op, target, value), valid_body, "application/json"
    if op.body is not None:
        base = _valid(op.body, components)
        fields = list(op.body.get("properties", {})) or [None]
        for field in fields:
            template = dict(base) if isinstance(base, dict) else {}
            if field is not None:
                template[field] = PLACEHOLDER
            encoded = json.dumps(template, ensure_ascii=False).encode()
            for kind, raw in JSON_PAYLOADS.items():
                body = encoded.replace(json.dumps(PLACEHOLDER, ensure_ascii=False).encode(), raw) if field else raw
                yield f"body.{field}={kind}", _url(op, None, ""), body, "application/json"
        for kind, raw in (("bad_utf8_body", b'{"x": "\xff'), ("not_json", b"\x00\x01")):
            yield f"body={kind}", _url(op, None, ""), raw, "application/json"
    if op.form:
        fields = ("api_key", "service_code", "description", "lat", "long", "address_string", "email",
                  "first_name", "media_url", "grant_type", "client_assertion", "attribute[x]")
        for field in fields:
            for kind, value in URL_PAYLOADS.items():
                form = f"api_key={quote(api_key)}&service_code=x&lat=21.03&long=105.85&{quote(field)}={value}"
                yield f"form.{field}={kind}", _url(op, None, ""), form.encode(), "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def document(base_url: str) -> dict[str, Any]:
    with httpx.Client(base_url=base_url, timeout=15) as http:
        r = http.get("/schema/openapi.json")
    assert r.status_code == 200
    return dict(r.json())


def test_no_operation_answers_5xx_to_hostile_input(http: httpx.Client, database_url: str, settings: Settings,
                                                   document: dict[str, Any]) -> None:
    routes = [(r.path, set(getattr(r, "methods", ()))) for r in create_app(settings).routes]
    ops = _operations(document, routes)
    swept = {str(o) for o in ops}
    # The hidden routes really are included (the document alone would miss them).
    assert {"POST /fhir/r4/Bundle/$validate", "POST /api/v1/health-ingest/bundles"} <= swept, sorted(swept)
    assert any(s.startswith("GET /api/v1/transit/") for s in swept)
    key = issue_key(http, database_url, "Sweep")
    callers = {
        "citizen": login(http).headers,
        "staff": login_staff(http, database_url, "W00001").headers,
        "admin": login_city_admin(http, database_url).headers,
        "facility": client_token(http, database_url, "facility").headers,
        "validator": client_token(http, database_url, "validator").headers,
    }
    components = document.get("components", {}).get("schemas", {})
    failures: list[str] = []
    sent = 0
    for op in ops:
        if op.path in ("/api/v1/auth/logout", "/api/v1/auth/logout-all", "/api/v1/me/deletion-request"):
            continue  # they would end the callers' sessions; the payload-free endpoints take no input anyway
        headers = _caller_for(op.path, callers)
        for label, url, body, ctype in _requests(op, components, key.api_key):
            r = http.request(op.method.upper(), url, content=body,
                             headers={**headers, **({"Content-Type": ctype} if body is not None else {})})
            sent += 1
            if r.status_code >= 500:
                failures.append(f"{op} {label}: {r.status_code} {r.text[:200]}")
    assert sent > 1000
    assert not failures, f"{len(failures)} of {sent} requests answered 5xx:\n" + "\n".join(failures)
