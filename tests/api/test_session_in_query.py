"""``GET /me``, ``GET /feedback/reports``, the health timeline and a pass credential carry the caller's session
check in their own query (api.identity.auth, ``SESSION_IN_QUERY``): one round trip, and still refused on the
very next request once the session is not live."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import pytest

from adapters.postgres.pool import create_pool
from api.identity.auth import SESSION_IN_QUERY
from api.platform.deps import DEFERRED_SESSION, READ_ONLY, READ_ONLY_PRIMARY, provide_uow
from tests.support.auth import login
from tests.support.transit_api import bind_phone, paid_pass


def _execute(database_url: str, sql: str, *args: Any) -> None:
    async def go() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(sql, *args)
        finally:
            await conn.close()
    asyncio.run(go())


def test_an_expired_session_is_refused_by_the_profile_query(http: httpx.Client, database_url: str) -> None:
    person, other = login(http), login(http)
    assert http.get("/api/v1/me", headers=person.headers).json()["id"] == str(person.user_id)
    _execute(database_url, "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1",
             person.session_id)
    r = http.get("/api/v1/me", headers=person.headers)
    assert r.status_code == 401
    assert r.json()["code"] == "identity.session_revoked"
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
    assert http.get("/api/v1/me", headers=other.headers).status_code == 200


def test_a_revoked_session_is_refused_and_a_live_one_shows_live_grants(http: httpx.Client, database_url: str) -> None:
    person = login(http)
    _execute(database_url, "UPDATE users SET city_admin = true WHERE id = $1", person.user_id)
    assert http.get("/api/v1/me", headers=person.headers).json()["city_admin"] is True  # as it is now
    _execute(database_url, "UPDATE sessions SET revoked_at = now() WHERE id = $1", person.session_id)
    assert http.get("/api/v1/me", headers=person.headers).status_code == 401


def test_my_reports_carry_the_session_check(http: httpx.Client, database_url: str) -> None:
    person = login(http)
    r = http.get("/api/v1/feedback/reports", headers=person.headers)
    assert r.status_code == 200
    assert r.json()["items"] == []  # a live session without reports: an empty page, not a 401
    _execute(database_url, "UPDATE users SET suspended_at = now() WHERE id = $1", person.user_id)
    r = http.get("/api/v1/feedback/reports", headers=person.headers)
    assert r.status_code == 401
    assert r.json()["code"] == "identity.session_revoked"
    _execute(database_url, "UPDATE users SET suspended_at = NULL WHERE id = $1", person.user_id)
    assert http.get("/api/v1/feedback/reports", headers=person.headers).status_code == 200
    _execute(database_url, "UPDATE sessions SET revoked_at = now() WHERE id = $1", person.session_id)
    assert http.get("/api/v1/feedback/reports", headers=person.headers).status_code == 401


def test_a_pass_credential_carries_the_session_check(http: httpx.Client, database_url: str) -> None:
    citizen = login(http)
    pass_id = paid_pass(http, database_url, citizen)
    path = f"/api/v1/transit/passes/{pass_id}/credential"
    r = http.post(path, headers=citizen.headers)
    assert r.status_code == 409  # a live session without a bound phone: the domain's answer, not a 401
    assert r.json()["code"] == "transit.no_device"
    bind_phone(http, citizen)
    assert http.post(path, headers=citizen.headers).status_code == 200
    other = f"/api/v1/transit/passes/{uuid.uuid4()}/credential"
    assert http.post(other, headers=citizen.headers).status_code == 404
    _execute(database_url, "UPDATE sessions SET revoked_at = now() WHERE id = $1", citizen.session_id)
    for refused in (path, other):
        r = http.post(refused, headers=citizen.headers)
        assert r.status_code == 401
        assert r.json()["code"] == "identity.session_revoked"


def test_the_health_timeline_carries_the_session_check_behind_its_level_guard(http: httpx.Client,
                                                                             database_url: str) -> None:
    person, level1 = login(http), login(http, level=1)
    r = http.get("/api/v1/health-record/timeline", headers=person.headers)
    assert r.status_code == 404  # a live session, no record yet: not a 401
    assert r.json()["code"] == "health.record_not_found"
    _execute(database_url, "UPDATE users SET suspended_at = now() WHERE id = $1", person.user_id)
    r = http.get("/api/v1/health-record/timeline", headers=person.headers)
    assert r.status_code == 401
    assert r.json()["code"] == "identity.session_revoked"
    # The level guard decides on the token alone, before any check of the session (as before BEGIN's).
    assert http.get("/api/v1/health-record/timeline", headers=level1.headers).status_code == 403


async def test_a_handler_that_does_not_settle_the_deferred_check_cannot_answer(database_url: str) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        state: dict[str, Any] = {DEFERRED_SESSION: uuid.uuid4()}
        request = SimpleNamespace(route_handler=SimpleNamespace(opt={**READ_ONLY, **SESSION_IN_QUERY}),
                                  app=SimpleNamespace(state=SimpleNamespace(container=SimpleNamespace(
                                      reads=None, pool=pool))),
                                  scope={"state": state})
        gen = provide_uow(request)  # type: ignore[arg-type]
        await gen.__anext__()
        with pytest.raises(RuntimeError, match="deferred session"):
            await gen.__anext__()
        # Settled (the handler popped it): the unit of work ends normally.
        gen = provide_uow(request)  # type: ignore[arg-type]
        await gen.__anext__()
        state.pop(DEFERRED_SESSION)
        with pytest.raises(StopAsyncIteration):
            await gen.__anext__()
    finally:
        await pool.close()


async def test_a_read_pinned_to_the_primary_never_asks_the_replica_router(database_url: str) -> None:
    class Router:
        async def route(self, caller: Any) -> Any:
            raise AssertionError("a READ_ONLY_PRIMARY handler must not be routed to the replica")

    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        state: dict[str, Any] = {DEFERRED_SESSION: uuid.uuid4()}
        request = SimpleNamespace(route_handler=SimpleNamespace(opt={**READ_ONLY_PRIMARY, **SESSION_IN_QUERY}),
                                  app=SimpleNamespace(state=SimpleNamespace(container=SimpleNamespace(
                                      reads=Router(), pool=pool))),
                                  scope={"state": state})
        gen = provide_uow(request)  # type: ignore[arg-type]
        uow = await gen.__anext__()
        assert await uow.conn.fetchval("SELECT NOT pg_is_in_recovery()")  # the primary's pool
        with pytest.raises(RuntimeError, match="deferred session"):  # still never answers unsettled
            await gen.__anext__()
    finally:
        await pool.close()


def test_the_check_is_deferred_only_for_marked_read_only_handlers_without_guards() -> None:
    from api.identity.auth import _defers_session_check, city_admin_guard, level2_guard, staff_guard, user_guard

    def request(opt: dict[str, Any], guards: list[Any], reads: Any = None) -> Any:
        from litestar import Request

        handler = SimpleNamespace(opt=opt, resolve_guards=lambda: guards)
        req = Request.__new__(Request)
        req.scope = {"state": {}, "route_handler": handler,  # type: ignore[typeddict-unknown-key]
                     "litestar_app": SimpleNamespace(state=SimpleNamespace(container=SimpleNamespace(reads=reads)))}
        return req

    assert _defers_session_check(request({**READ_ONLY, **SESSION_IN_QUERY}, []))
    # Guards on what the token says alone run before the handler's query as before BEGIN's check; the others
    # need the live grants first.
    assert _defers_session_check(request({**READ_ONLY, **SESSION_IN_QUERY}, [user_guard, level2_guard]))
    assert not _defers_session_check(request({**READ_ONLY, **SESSION_IN_QUERY}, [staff_guard]))
    assert not _defers_session_check(request({**READ_ONLY, **SESSION_IN_QUERY}, [level2_guard, city_admin_guard]))
    assert not _defers_session_check(request(SESSION_IN_QUERY, []))  # not read-only
    assert not _defers_session_check(request(READ_ONLY, []))  # not marked
    assert not _defers_session_check(request({**READ_ONLY, **SESSION_IN_QUERY}, [], reads=object()))  # replicas
    # ... unless the handler reads the primary anyway.
    assert _defers_session_check(request({**READ_ONLY_PRIMARY, **SESSION_IN_QUERY}, [], reads=object()))


def test_the_timeline_and_the_credential_carry_the_check_in_the_real_app() -> None:
    """Their guards (the health controller's ``level2_guard``) and opts, as the app resolves them."""
    from api.identity.auth import _deferrable
    from api.platform.app import create_app

    handlers = {h.operation_id: h for route in create_app().routes for h in getattr(route, "route_handlers", [])}
    assert _deferrable(handlers["healthTimeline"]) == (True, False)
    assert _deferrable(handlers["transitCredentialIssue"]) == (True, True)  # and on the primary
    assert _deferrable(handlers["healthVisit"])[0] is False  # a transactional handler: its check rides with BEGIN
