"""``Idempotency-Key``: a retried or racing creating POST yields one record and one answer.

A probe controller creates a unit (kind 'department', unique code) inside ``idempotent(...)``,
exactly as a bounded context's creating endpoint does, on the real app over real HTTP.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Controller, Request, Response, post
from litestar.params import JSONBody

from api.platform.app import create_app
from api.platform.deps import UnitOfWork
from api.platform.idempotency import idempotent
from api.platform.settings import Settings
from domain.shared.ids import new_id
from tests.support.live import serve

PRINCIPAL = "probe-citizen"


class NewUnit(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(min_length=3, max_length=40)]
    fail: bool = False
    # Give every run its own code, so a retry's insert succeeds and must be discarded, not fail.
    run_suffix: bool = False
    # Widens the window between claiming the key and committing, so racing requests overlap.
    delay_ms: Annotated[int, msgspec.Meta(ge=0, le=2000)] = 0


class ProbeUnitController(Controller):
    path = "/probe/units"

    @post("")
    async def create(self, request: Request[Any, Any, Any], data: JSONBody[NewUnit], uow: UnitOfWork) -> Response[Any]:
        async def create_unit() -> Response[Any]:
            unit_id = new_id()
            code = f"{data.code}-{unit_id}" if data.run_suffix else data.code
            await uow.conn.execute(
                "INSERT INTO units (id, code, kind, name_vi, name_en) VALUES ($1, $2, 'department', $2, $2)",
                unit_id, code)
            await asyncio.sleep(data.delay_ms / 1000)
            if data.fail:
                raise RuntimeError("failure after the insert")
            return Response({"id": str(unit_id), "code": data.code}, status_code=201,
                            headers={"Location": f"/probe/units/{unit_id}"})

        return await idempotent(request, uow, PRINCIPAL, create_unit)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[httpx.Client]:
    app = create_app(settings)
    app.register(ProbeUnitController)
    with serve(app) as url, httpx.Client(base_url=url, timeout=15) as http:
        yield http


def query(database_url: str, sql: str, *args: Any) -> Any:
    async def run() -> Any:
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()
    return asyncio.run(run())


def count_units(database_url: str, code: str) -> int:
    return int(query(database_url, "SELECT count(*) FROM units WHERE code = $1", code))


def count_keys(database_url: str, key: str) -> int:
    return int(query(database_url, "SELECT count(*) FROM idempotency_keys WHERE principal = $1 AND key = $2",
                     PRINCIPAL, key))


def fresh() -> tuple[str, str]:
    return "IDEM-" + uuid.uuid4().hex[:12], uuid.uuid4().hex


def test_retry_returns_the_first_response(client: httpx.Client, database_url: str) -> None:
    code, key = fresh()
    first = client.post("/probe/units", json={"code": code}, headers={"Idempotency-Key": key})
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    again = client.post("/probe/units", json={"code": code}, headers={"Idempotency-Key": key})
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"] == f"/probe/units/{first.json()['id']}"
    assert count_units(database_url, code) == 1


def test_a_retry_whose_change_succeeds_is_discarded_and_replayed(client: httpx.Client, database_url: str) -> None:
    code, key = fresh()
    body = {"code": code, "run_suffix": True}
    first = client.post("/probe/units", json=body, headers={"Idempotency-Key": key})
    again = client.post("/probe/units", json=body, headers={"Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert int(query(database_url, "SELECT count(*) FROM units WHERE code LIKE $1", code + "-%")) == 1


def test_without_a_key_each_post_runs(client: httpx.Client, database_url: str) -> None:
    code, _ = fresh()
    assert client.post("/probe/units", json={"code": code}).status_code == 201
    # The unique code now rejects the second insert: proof that the handler really ran twice.
    assert client.post("/probe/units", json={"code": code}).status_code == 500
    assert count_units(database_url, code) == 1


def test_same_key_different_body_is_422(client: httpx.Client, database_url: str) -> None:
    code, key = fresh()
    assert client.post("/probe/units", json={"code": code}, headers={"Idempotency-Key": key}).status_code == 201
    other = client.post("/probe/units", json={"code": code + "X"},
                        headers={"Idempotency-Key": key, "Accept-Language": "en"})
    assert other.status_code == 422
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["code"] == "idempotency.key_reused"
    assert count_units(database_url, code + "X") == 0


@pytest.mark.parametrize("key", ["", "x" * 201, "tab\there", "khóa"])
def test_invalid_key_is_400(client: httpx.Client, database_url: str, key: str) -> None:
    code, _ = fresh()
    r = client.post("/probe/units", json={"code": code}, headers={"Idempotency-Key": key.encode()})  # type: ignore[dict-item]
    assert r.status_code == 400
    assert r.json()["code"] == "idempotency.key_invalid"
    assert count_units(database_url, code) == 0


def test_racing_requests_create_one_record(client: httpx.Client, database_url: str) -> None:
    code, key = fresh()

    def send(_: int) -> httpx.Response:
        return client.post("/probe/units", json={"code": code, "delay_ms": 300}, headers={"Idempotency-Key": key})

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(send, range(4)))
    assert [r.status_code for r in responses] == [201] * 4
    assert len({r.text for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 3
    assert count_units(database_url, code) == 1
    assert count_keys(database_url, key) == 1


def test_failed_create_leaves_nothing_and_frees_the_key(client: httpx.Client, database_url: str) -> None:
    code, key = fresh()
    failed = client.post("/probe/units", json={"code": code, "fail": True}, headers={"Idempotency-Key": key})
    assert failed.status_code == 500
    assert count_units(database_url, code) == 0
    assert count_keys(database_url, key) == 0
    # The key was never stored, so the client's retry runs for real.
    retry = client.post("/probe/units", json={"code": code}, headers={"Idempotency-Key": key})
    assert retry.status_code == 201
    assert "idempotent-replayed" not in retry.headers
    assert count_units(database_url, code) == 1


def test_a_retry_reencoded_differently_is_the_same_request(client: httpx.Client, database_url: str) -> None:
    """Issue 10 #17: JSON values are compared, not bytes (key order and whitespace do not matter)."""
    code, key = fresh()
    first = client.post("/probe/units", content=f'{{"code": "{code}", "fail": false}}'.encode(),
                        headers={"Idempotency-Key": key, "Content-Type": "application/json"})
    assert first.status_code == 201, first.text
    again = client.post("/probe/units", content=f'{{\n  "fail":false,\n  "code":"{code}"\n}}'.encode(),
                        headers={"Idempotency-Key": key, "Content-Type": "application/json"})
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert count_units(database_url, code) == 1
