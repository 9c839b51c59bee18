"""The lean lane (api.platform.lean): the routes marked ``LEAN`` are answered by it, byte for byte as Litestar answers
them (an app built with ``lean=False`` serves the same routes through Litestar, side by side), their unit of work
commits or rolls back as before, and a marked handler using what the lane does not implement is refused at build."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from api.identity.auth import CurrentUser, user_guard
from api.platform.access_log import LOGGER
from api.platform.app import create_app
from api.platform.context import Context
from api.platform.deps import AppContainer, UnitOfWork
from api.platform.lean import LEAN, SERVED, LeanRefused
from api.platform.registry import CONTEXTS
from api.platform.settings import Settings
from domain.errors import NotFound
from tests.support.auth import client_token, login
from tests.support.feedback import sql, submit
from tests.support.live import serve

ME, MINE, VALIDATE = "/api/v1/me", "/api/v1/feedback/reports", "/api/v1/transit/validator/validate"
INBOX, UNREAD = "/api/v1/me/inbox", "/api/v1/me/inbox/unread-count"
# Set by the server per response (uvicorn's date and server; the request id is per request).
_VARYING = {"x-request-id", "date", "server"}


@pytest.fixture(scope="module")
def plain(settings: Settings) -> Iterator[httpx.Client]:
    """The same service with the lean lane off: every route served by Litestar."""
    with serve(create_app(settings, lean=False)) as url, httpx.Client(base_url=url, timeout=15) as client:
        yield client


@pytest.fixture(scope="module")
def lean(settings: Settings) -> Iterator[httpx.Client]:
    """Another server with the lane on, for transit: the session's server must not publish the transit issuer
    keys here (once per process), where a later ``clean_db`` would empty them under it for other modules."""
    with serve(create_app(settings)) as url, httpx.Client(base_url=url, timeout=15) as client:
        yield client


def _text(r: httpx.Response) -> str:
    return r.text.replace(r.headers["x-request-id"], "<request id>")


def _same(lean: httpx.Response, litestar: httpx.Response) -> None:
    assert lean.status_code == litestar.status_code, (lean.text, litestar.text)
    assert [(k, v) for k, v in lean.headers.multi_items() if k not in _VARYING] == \
        [(k, v) for k, v in litestar.headers.multi_items() if k not in _VARYING]
    assert _text(lean) == _text(litestar)


def _both(http: httpx.Client, plain: httpx.Client, method: str, url: str, template: str,
          **kw: Any) -> httpx.Response:
    """The request to both apps: the lean one answered it through the lane, and identically."""
    before = SERVED[template]
    lean = http.request(method, url, **kw)
    assert SERVED[template] == before + 1
    litestar = plain.request(method, url, **kw)
    assert SERVED[template] == before + 1  # the other app served it through Litestar
    _same(lean, litestar)
    return lean


def test_me_through_the_lane_as_through_litestar(http: httpx.Client, plain: httpx.Client, clean_db: str) -> None:
    person = login(http)
    r = _both(http, plain, "GET", ME, ME, headers=person.headers)
    assert r.json()["id"] == str(person.user_id)
    assert r.headers["x-content-type-options"] == "nosniff"  # the observability middleware still wraps it
    for lang in ("vi", "en"):
        lean = _both(http, plain, "GET", ME, ME, headers={"Accept-Language": lang})
        assert lean.status_code == 401
        assert lean.headers["content-type"] == "application/problem+json"
        _both(http, plain, "GET", ME, ME, headers={"Authorization": "Bearer not.a.token", "Accept-Language": lang})
    gate = client_token(http, clean_db, "validator")
    assert _both(http, plain, "GET", ME, ME, headers=gate.headers).status_code == 403
    assert _both(http, plain, "GET", f"{ME}?x=%00", ME, headers=person.headers).status_code == 422
    sql(clean_db, "UPDATE sessions SET revoked_at = now() WHERE id = $1", person.session_id)
    assert _both(http, plain, "GET", ME, ME, headers=person.headers).json()["code"] == "identity.session_revoked"


def test_my_reports_through_the_lane_as_through_litestar(http: httpx.Client, plain: httpx.Client,
                                                         clean_db: str) -> None:
    person = login(http)
    for _ in range(6):
        submit(http, person)
    r = _both(http, plain, "GET", f"{MINE}?limit=5", MINE, headers={**person.headers, "Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert len(r.json()["items"]) == 5
    r = _both(http, plain, "GET", f"{MINE}?limit=1", MINE, headers={**person.headers, "Accept-Encoding": "gzip"})
    assert "content-encoding" not in r.headers  # under 1,000 bytes: as it is
    cursor = r.json()["next_cursor"]
    _both(http, plain, "GET", f"{MINE}?limit=2&cursor={cursor}", MINE, headers=person.headers)
    _both(http, plain, "GET", MINE, MINE, headers={**person.headers, "Accept-Encoding": "identity"})
    for query in ("limit=abc", "limit=0", "limit=1000", "limit=2&limit=x", "cursor=%00", "cursor=not-a-cursor",
                  "limit=-1&cursor=x"):
        r = _both(http, plain, "GET", f"{MINE}?{query}", MINE, headers={**person.headers, "Accept-Language": "en"})
        assert r.status_code == 422, (query, r.text)
    assert _both(http, plain, "GET", MINE, MINE).status_code == 401
    sql(clean_db, "UPDATE users SET suspended_at = now() WHERE id = $1", person.user_id)
    assert _both(http, plain, "GET", MINE, MINE, headers=person.headers).status_code == 401


def test_online_validation_through_the_lane_as_through_litestar(http: httpx.Client, lean: httpx.Client,
                                                                plain: httpx.Client, clean_db: str) -> None:
    gate = client_token(http, clean_db, "validator")

    def body(**kw: Any) -> dict[str, Any]:
        return {"code": "AAAA", "network": 2, "route": 3, "direction": "in", "stop": "S1",
                "tap_id": str(uuid.uuid4()), **kw}

    tap = body()  # the same tap id to both: its second sight is the same verdict
    assert _both(lean, plain, "POST", VALIDATE, VALIDATE, json=tap, headers=gate.headers).status_code == 200
    bad_bodies: list[dict[str, Any]] = [body(code="!!not-base64!!"), body(network="2"), body(route=None),
                                        {"code": "AAAA"}, body(extra=1), body(stop="\u0000")]
    for bad in bad_bodies:
        assert _both(lean, plain, "POST", VALIDATE, VALIDATE, json=bad, headers=gate.headers).status_code == 422
    _both(lean, plain, "POST", VALIDATE, VALIDATE, content=b"{not json", headers={
        **gate.headers, "Content-Type": "application/json"})
    _both(lean, plain, "POST", VALIDATE, VALIDATE, content=b"", headers={
        **gate.headers, "Content-Type": "application/json"})
    r = _both(lean, plain, "POST", VALIDATE, VALIDATE, content=b"code=AAAA", headers={
        **gate.headers, "Content-Type": "text/plain"})
    assert r.status_code == 415
    citizen, facility = login(http), client_token(http, clean_db, "facility")
    assert _both(lean, plain, "POST", VALIDATE, VALIDATE, json=body(), headers=citizen.headers).status_code == 403
    assert _both(lean, plain, "POST", VALIDATE, VALIDATE, json=body(), headers=facility.headers).status_code == 403
    assert _both(lean, plain, "POST", VALIDATE, VALIDATE, json=body()).status_code == 401


def test_inbox_through_the_lane_as_through_litestar(http: httpx.Client, plain: httpx.Client, clean_db: str) -> None:
    person = login(http)
    for path in (INBOX, UNREAD):
        assert _both(http, plain, "GET", path, path, headers=person.headers).status_code == 200
        assert _both(http, plain, "GET", path, path).status_code == 401
    for query in ("limit=2", "limit=abc", f"cursor={'x' * 201}", "cursor=bad"):
        _both(http, plain, "GET", f"{INBOX}?{query}", INBOX, headers={**person.headers, "Accept-Language": "en"})
    sql(clean_db, "UPDATE sessions SET revoked_at = now() WHERE id = $1", person.session_id)
    assert _both(http, plain, "GET", UNREAD, UNREAD, headers=person.headers).status_code == 401  # checked with BEGIN


def test_requests_the_lane_leaves_to_litestar(http: httpx.Client, plain: httpx.Client, clean_db: str) -> None:
    person = login(http)
    before = SERVED[ME]
    # A browser's cross-origin call (CORS headers are Litestar's), another method, a trailing slash.
    r = http.get(ME, headers={**person.headers, "Origin": "https://app.thudo.example"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://app.thudo.example"
    assert http.head(ME, headers=person.headers).status_code in (200, 405)
    assert http.get(f"{ME}/", headers=person.headers).status_code in (200, 404)
    assert SERVED[ME] == before


def test_the_access_log_and_the_schema_are_unchanged(http: httpx.Client, plain: httpx.Client,
                                                     caplog: pytest.LogCaptureFixture,
                                                     access_log: list[dict[str, object]]) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    person = login(http)
    ok = http.get(ME, headers=person.headers)
    refused = http.get(MINE, headers={"Authorization": "Bearer x"})
    deadline = time.monotonic() + 5
    while sum(line["route"] in (ME, MINE) for line in access_log) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)  # access lines are written in batches (every 50 ms)
    lines = [(line["method"], line["route"], line["status"], line["request_id"]) for line in access_log
             if line["route"] in (ME, MINE)]
    assert lines == [("GET", ME, 200, ok.headers["x-request-id"]), ("GET", MINE, 401, refused.headers["x-request-id"])]
    assert http.get("/schema/openapi.json").json() == plain.get("/schema/openapi.json").json()


# --- the unit of work through the lane: a probe route that writes ---------------------------------------

class ProbeIn(msgspec.Struct, forbid_unknown_fields=True):
    note: str


@post("/lean-probe", opt=LEAN, status_code=201)
async def probe(principal: CurrentUser, uow: UnitOfWork, data: JSONBody[ProbeIn]) -> dict[str, str]:
    await uow.conn.execute("INSERT INTO lean_probe (note, user_id) VALUES ($1, $2)", data.note, principal.id)
    if data.note == "fail":
        raise NotFound("feedback.report_not_found")
    return {"note": data.note}


@pytest.fixture
def probe_app(settings: Settings, clean_db: str) -> Iterator[httpx.Client]:
    sql(clean_db, "CREATE TABLE IF NOT EXISTS lean_probe (note text NOT NULL, user_id uuid NOT NULL)")
    app = create_app(settings, contexts=(*CONTEXTS, Context(name="probe", api_v1=[probe])))
    try:
        with serve(app) as url, httpx.Client(base_url=url, timeout=15) as client:
            yield client
    finally:
        sql(clean_db, "DROP TABLE lean_probe")


def test_the_unit_of_work_commits_before_the_answer_and_rolls_back_on_an_error(http: httpx.Client,
                                                                               probe_app: httpx.Client,
                                                                               clean_db: str) -> None:
    person = login(http)  # the session app's VNeID stand-in; the probe app shares its keys and database
    before = SERVED["/api/v1/lean-probe"]
    r = probe_app.post("/api/v1/lean-probe", json={"note": "kept"}, headers=person.headers)
    assert r.status_code == 201
    assert r.json() == {"note": "kept"}
    assert sql(clean_db, "SELECT count(*) FROM lean_probe WHERE note = 'kept'") == 1  # committed before it answered
    r = probe_app.post("/api/v1/lean-probe", json={"note": "fail"}, headers=person.headers)
    assert r.status_code == 404
    assert r.json()["code"] == "feedback.report_not_found"
    assert sql(clean_db, "SELECT count(*) FROM lean_probe WHERE note = 'fail'") == 0  # rolled back
    assert probe_app.post("/api/v1/lean-probe", json={"note": 1}, headers=person.headers).status_code == 422
    sql(clean_db, "UPDATE sessions SET revoked_at = now() WHERE id = $1", person.session_id)
    r = probe_app.post("/api/v1/lean-probe", json={"note": "late"}, headers=person.headers)
    assert r.status_code == 401  # the session check that rides with BEGIN
    assert sql(clean_db, "SELECT count(*) FROM lean_probe") == 1
    assert SERVED["/api/v1/lean-probe"] == before + 4


# --- refused when the app is built -----------------------------------------------------------------------

def _needs_container(container: AppContainer) -> int:
    return 1


async def _fine(principal: CurrentUser) -> dict[str, str]:
    return {}


def _lean(decorator: Callable[..., Any], fn: Any = _fine, path: str = "/probe", **kw: Any) -> Any:
    return decorator(path, opt=LEAN, **kw)(fn)


async def _returns_response(principal: CurrentUser) -> Response[bytes]:
    return Response(b"")


async def _with_dependency(thing: NamedDependency[int]) -> dict[str, int]:
    return {"thing": thing}


async def _with_path(item_id: FromPath[int]) -> dict[str, int]:
    return {"id": item_id}


async def _optional_body(principal: CurrentUser, data: JSONBody[ProbeIn | None] = None) -> dict[str, str]:
    return {}


def _sync(principal: CurrentUser) -> dict[str, str]:
    return {}


@pytest.mark.parametrize(("handler", "what"), [
    (lambda: _lean(get, guards=[user_guard]), "a guard"),
    (lambda: _lean(get, response_cookies=[Cookie(key="k", value="v")]), "cookies"),
    (lambda: _lean(get, response_headers={"X-Extra": "1"}), "response headers"),
    (lambda: _lean(get, _with_dependency, dependencies={"thing": Provide(_needs_container, sync_to_thread=False)}),
     "a dependency that is cached or takes parameters"),
    (lambda: _lean(get, _with_path, path="/probe/{item_id:int}"), "a path parameter"),
    (lambda: _lean(get, _returns_response), "a Response or empty return"),
    (lambda: _lean(get, _sync, sync_to_thread=False), "a sync handler"),
    (lambda: _lean(post, _optional_body), "a body that is optional"),
])
def test_a_lean_handler_using_what_the_lane_lacks_is_refused(settings: Settings, handler: Callable[[], Any],
                                                              what: str) -> None:
    with pytest.raises(LeanRefused, match=what):
        create_app(settings, contexts=[Context(name="probe", api_v1=[handler()])])


def test_the_marked_hot_routes_are_accepted(settings: Settings) -> None:
    # create_app builds the lane for every marked route of the service (/me, my reports, online validation, inbox).
    from api.platform.lean import lean_routes
    app = create_app(settings)
    assert {path for _, path in lean_routes(app)} >= {ME, MINE, VALIDATE, INBOX, UNREAD}
