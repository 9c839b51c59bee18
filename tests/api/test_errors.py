"""Every error path answers RFC 9457 problem+json (real app, real HTTP, real PostgreSQL).

The mechanisms are shared by all endpoints, so they are exercised through a test-only controller
registered on an app built by the real factory.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Controller, get, post
from litestar.params import JSONBody, QueryParameter

from api.platform.app import create_app
from api.platform.deps import UnitOfWork
from api.platform.settings import Settings
from domain.errors import Conflict, InvalidInput, NotFound, RateLimited, Unavailable
from domain.shared.ids import new_id
from tests.support.live import serve

SMALL_LIMIT = 2048


class Item(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=2, max_length=20)]
    quantity: Annotated[int, msgspec.Meta(ge=1, le=10)]
    code: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}-\d{3}$")] = "AB-123"
    tags: list[Annotated[str, msgspec.Meta(max_length=5)]] = []
    urgent: bool = False


class ErrorsController(Controller):
    path = "/test/errors"

    @post("/items")
    async def create_item(self, data: JSONBody[Item]) -> dict[str, Any]:
        return {"name": data.name, "quantity": data.quantity}

    @get("/items")
    async def list_items(self, limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20) -> dict[str, int]:
        return {"limit": limit}

    @get("/crash")
    async def crash(self) -> None:
        raise RuntimeError("password=hunter2 at /srv/secret/config.py")

    @get("/missing")
    async def missing(self) -> None:
        raise NotFound("test.thing_not_found")

    @get("/conflict")
    async def conflict(self) -> None:
        raise Conflict("test.already_closed")

    @get("/limited")
    async def limited(self) -> None:
        raise RateLimited(retry_after=42)

    @get("/unavailable")
    async def unavailable(self) -> None:
        raise Unavailable(retry_after=7)

    @post("/units")
    async def create_unit_then_fail(self, data: JSONBody[Item], uow: UnitOfWork) -> None:
        # Writes first, then breaks a business rule: the unit of work must roll the write back.
        await uow.conn.execute(
            "INSERT INTO units (id, code, kind, name_vi, name_en) VALUES ($1, $2, 'department', $3, $3)",
            new_id(), data.name, data.name)
        raise InvalidInput("test.name_taken", field="name", rule="invalid")


@pytest.fixture(scope="module")
def url(settings: Settings) -> Iterator[str]:
    app = create_app(Settings(**{**settings.__dict__, "max_body_bytes": SMALL_LIMIT}))
    app.register(ErrorsController)
    with serve(app) as base:
        yield base


@pytest.fixture
def client(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=15) as c:
        yield c


def problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert all(body[k] for k in ("title", "detail", "code"))
    assert body["request_id"] == r.headers["x-request-id"]
    return body


def post_json(client: httpx.Client, body: bytes | str, **headers: str) -> httpx.Response:
    return client.post("/test/errors/items", content=body,
                       headers={"content-type": "application/json", **headers})


def test_valid_body_passes(client: httpx.Client) -> None:
    r = post_json(client, b'{"name": "Cau Giay", "quantity": 3}')
    assert r.status_code == 201
    assert r.json() == {"name": "Cau Giay", "quantity": 3}


@pytest.mark.parametrize("body", [b'{"name": "ab", "quantity": ', b"not json", b'{"name": "ab",}'])
def test_malformed_json_is_400(client: httpx.Client, body: bytes) -> None:
    assert problem(post_json(client, body), 400)["code"] == "malformed_json"


def test_unknown_field_is_422_naming_it(client: httpx.Client) -> None:
    body = problem(post_json(client, b'{"name": "ab", "quantity": 1, "is_admin": true}'), 422)
    assert body["code"] == "validation_failed"
    assert body["errors"] == [{"field": "is_admin", "rule": "unknown_field",
                               "message": "Trường 'is_admin' không được phép"}]


@pytest.mark.parametrize(("payload", "field", "rule"), [
    ({"name": "a", "quantity": 1}, "name", "min_length"),
    ({"name": "x" * 21, "quantity": 1}, "name", "max_length"),
    ({"name": "ab", "quantity": 0}, "quantity", "minimum"),
    ({"name": "ab", "quantity": 11}, "quantity", "maximum"),
    ({"name": "ab", "quantity": 1, "code": "ab-1"}, "code", "pattern"),
    ({"quantity": 1}, "name", "required"),
    ({"name": 12, "quantity": 1}, "name", "type"),
    ({"name": "ab", "quantity": 1, "tags": ["ok", "toolong"]}, "tags[1]", "max_length"),
    # No silent coercion: a string is not a number, a number is not a boolean.
    ({"name": "ab", "quantity": "3"}, "quantity", "type"),
    ({"name": "ab", "quantity": 1.5}, "quantity", "type"),
    ({"name": "ab", "quantity": 1, "urgent": 1}, "urgent", "type"),
    ({"name": "ab", "quantity": 1, "urgent": "true"}, "urgent", "type"),
])
def test_constraint_violations_name_field_and_rule(client: httpx.Client, payload: dict[str, Any], field: str,
                                                   rule: str) -> None:
    body = problem(post_json(client, msgspec.json.encode(payload)), 422)
    assert [(e["field"], e["rule"]) for e in body["errors"]] == [(field, rule)]
    assert body["errors"][0]["message"].startswith(f"Trường '{field}' ")


def test_messages_in_english_by_accept_language(client: httpx.Client) -> None:
    r = post_json(client, b'{"name": "a", "quantity": 1}', **{"Accept-Language": "en-GB,en;q=0.8"})
    body = problem(r, 422)
    assert r.headers["content-language"] == "en"
    assert body["title"] == "Invalid data"
    assert body["errors"][0]["message"] == "Field 'name' is too short (at least 2)"
    vi = problem(post_json(client, b'{"name": "a", "quantity": 1}', **{"Accept-Language": "fr"}), 422)
    assert vi["title"] == "Dữ liệu không hợp lệ"


def test_empty_body_is_required(client: httpx.Client) -> None:
    body = problem(post_json(client, b""), 422)
    assert [(e["field"], e["rule"]) for e in body["errors"]] == [("body", "required")]


def test_wrong_top_level_type(client: httpx.Client) -> None:
    body = problem(post_json(client, b"[1, 2]"), 422)
    assert body["errors"][0]["rule"] == "type"


def test_query_parameter_violation(client: httpx.Client) -> None:
    assert client.get("/test/errors/items", params={"limit": 100}).json() == {"limit": 100}
    body = problem(client.get("/test/errors/items", params={"limit": 101}), 422)
    assert [(e["field"], e["rule"]) for e in body["errors"]] == [("limit", "maximum")]
    body = problem(client.get("/test/errors/items", params={"limit": "many"}), 422)
    assert [(e["field"], e["rule"]) for e in body["errors"]] == [("limit", "type")]


def test_oversized_body_is_413(client: httpx.Client) -> None:
    big = msgspec.json.encode({"name": "ab", "quantity": 1, "tags": ["x"] * SMALL_LIMIT})
    assert problem(post_json(client, big), 413)["code"] == "body_too_large"


def test_oversized_body_without_content_length_is_413(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "ab", "quantity": 1, "tags": ['
        for _ in range(SMALL_LIMIT):
            yield b'"x",'
        yield b'"x"]}'

    r = client.post("/test/errors/items", content=chunks(), headers={"content-type": "application/json"})
    assert problem(r, 413)["code"] == "body_too_large"


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_wrong_content_type_is_415(client: httpx.Client, ctype: str) -> None:
    r = client.post("/test/errors/items", content=b'{"name": "ab", "quantity": 1}', headers={"content-type": ctype})
    body = problem(r, 415)
    assert body["code"] == "unsupported_media_type"
    assert "application/json" in body["detail"]


def test_json_with_charset_is_accepted(client: httpx.Client) -> None:
    r = client.post("/test/errors/items", content=b'{"name": "ab", "quantity": 1}',
                    headers={"content-type": "application/json; charset=utf-8"})
    assert r.status_code == 201


def test_unknown_route_and_wrong_method(client: httpx.Client) -> None:
    assert problem(client.get("/test/errors/nowhere"), 404)["code"] == "route_not_found"
    assert problem(client.delete("/test/errors/items"), 405)["code"] == "method_not_allowed"


def test_unhandled_exception_is_500_without_internals(client: httpx.Client) -> None:
    r = client.get("/test/errors/crash", headers={"X-Request-ID": "crash-1"})
    body = problem(r, 500)
    assert body["code"] == "internal_error"
    assert body["request_id"] == "crash-1"
    assert "crash-1" in body["detail"]
    for leak in ("hunter2", "RuntimeError", "Traceback", "secret", ".py"):
        assert leak not in r.text


def test_error_log_lines_name_the_request(client: httpx.Client) -> None:
    import io
    import json
    import logging

    from api.platform.observability import JsonFormatter

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    try:
        client.get("/test/errors/crash", headers={"X-Request-ID": "crash-log-1"})
    finally:
        logging.getLogger().removeHandler(handler)
    errors = [json.loads(line) for line in out.getvalue().splitlines() if '"unhandled error"' in line]
    assert [e["request_id"] for e in errors] == ["crash-log-1"]
    assert errors[0]["level"] == "error"


def test_domain_errors_map_through_the_table(client: httpx.Client) -> None:
    assert problem(client.get("/test/errors/missing"), 404)["code"] == "test.thing_not_found"
    assert problem(client.get("/test/errors/conflict"), 409)["code"] == "test.already_closed"
    limited = client.get("/test/errors/limited", headers={"Accept-Language": "en"})
    assert problem(limited, 429)["detail"] == "Too many requests; retry in 42 seconds"
    assert limited.headers["retry-after"] == "42"
    down = client.get("/test/errors/unavailable")
    assert problem(down, 503)["code"] == "unavailable"
    assert down.headers["retry-after"] == "7"


def test_invalid_input_names_field_and_rolls_back(client: httpx.Client, database_url: str) -> None:
    code = "T-ERR-" + uuid.uuid4().hex[:8]
    r = client.post("/test/errors/units", json={"name": code, "quantity": 1})
    body = problem(r, 422)
    assert body["code"] == "test.name_taken"
    assert body["errors"][0]["field"] == "name"
    assert body["errors"][0]["rule"] == "invalid"

    async def count() -> int:
        conn = await asyncpg.connect(database_url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM units WHERE code = $1", code))
        finally:
            await conn.close()

    assert asyncio.run(count()) == 0
