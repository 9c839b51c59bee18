"""Staff grants, Open311 keys: who may grant what, in which unit."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import jwt

from api.identity.auth import authenticate_partner
from tests.support.auth import authorize, callback, login, login_city_admin, login_staff, refresh, unit_id

GRANTS = "/api/v1/admin/staff-grants"


def _count_grants(database_url: str, user_id: object) -> int:
    async def go() -> int:
        conn = await asyncpg.connect(database_url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM staff_grants WHERE user_id = $1", user_id))
        finally:
            await conn.close()
    return asyncio.run(go())


def test_city_admin_grants_and_roles_reach_the_token(http: httpx.Client, database_url: str) -> None:
    admin = login_city_admin(http, database_url)
    assert "city_admin" in jwt.decode(admin.access_token, options={"verify_signature": False})["roles"]
    person = login(http)
    ward = unit_id(database_url, "W00004")
    r = http.post(GRANTS, headers=admin.headers, json={"unit_id": str(ward), "role": "handler",
                                                       "personal_id": person.personal_id})
    assert r.status_code == 201, r.text
    assert r.json()["user_id"] == str(person.user_id)
    roles = jwt.decode(refresh(http, person).access_token, options={"verify_signature": False})["roles"]
    assert f"handler@{ward}" in roles
    listed = http.get(GRANTS, params={"unit_id": str(ward)}, headers=admin.headers).json()["items"]
    assert [g["user_id"] for g in listed] == [str(person.user_id)]
    again = http.post(GRANTS, headers=admin.headers, json={"unit_id": str(ward), "role": "handler",
                                                           "user_id": str(person.user_id)})
    assert again.status_code == 409
    gone = http.delete(f"{GRANTS}/{ward}/{person.user_id}/handler", headers=admin.headers)
    assert gone.status_code == 204
    assert http.delete(f"{GRANTS}/{ward}/{person.user_id}/handler", headers=admin.headers).status_code == 404


def test_unit_admin_of_one_unit_cannot_act_in_another(http: httpx.Client, database_url: str) -> None:
    unit_admin = login_staff(http, database_url, "W00001", "unit_admin")
    person = login(http)
    own, other = unit_id(database_url, "W00001"), unit_id(database_url, "W00007")
    r = http.post(GRANTS, headers=unit_admin.headers, json={"unit_id": str(other), "role": "handler",
                                                            "user_id": str(person.user_id)})
    assert r.status_code == 403
    assert r.json()["code"] == "identity.unit_role_required"
    assert http.get(GRANTS, params={"unit_id": str(other)}, headers=unit_admin.headers).status_code == 403
    assert _count_grants(database_url, person.user_id) == 0
    ok = http.post(GRANTS, headers=unit_admin.headers, json={"unit_id": str(own), "role": "supervisor",
                                                             "user_id": str(person.user_id)})
    assert ok.status_code == 201


def test_handler_and_citizen_cannot_grant(http: httpx.Client, database_url: str) -> None:
    handler = login_staff(http, database_url, "W00001", "handler")
    citizen = login(http)
    own = unit_id(database_url, "W00001")
    for who in (handler, citizen):
        r = http.post(GRANTS, headers=who.headers, json={"unit_id": str(own), "role": "unit_admin",
                                                         "user_id": str(who.user_id)})
        assert r.status_code == 403
    assert _count_grants(database_url, citizen.user_id) == 0


def test_grant_bad_input_writes_nothing(http: httpx.Client, database_url: str) -> None:
    admin = login_city_admin(http, database_url)
    person = login(http)
    ward = str(unit_id(database_url, "W00001"))
    cases = [
        {"unit_id": ward, "role": "emperor", "user_id": str(person.user_id)},
        {"unit_id": ward, "role": "handler"},
        {"unit_id": ward, "role": "handler", "user_id": str(person.user_id), "personal_id": person.personal_id},
        {"unit_id": ward, "role": "handler", "personal_id": "12ab"},
        {"unit_id": ward, "role": "handler", "user_id": str(person.user_id), "granted_by": str(admin.user_id)},
    ]
    for body in cases:
        r = http.post(GRANTS, headers=admin.headers, json=body)
        assert r.status_code == 422, body
        assert r.headers["content-type"].startswith("application/problem+json")
    assert _count_grants(database_url, person.user_id) == 0
    unknown = http.post(GRANTS, headers=admin.headers, json={"unit_id": ward, "role": "handler",
                                                             "personal_id": "001099999999"})
    assert unknown.status_code == 404


def test_open311_keys_are_shown_once_and_authenticate(http: httpx.Client, database_url: str) -> None:
    admin = login_city_admin(http, database_url)
    r = http.post("/api/v1/admin/open311-keys", headers=admin.headers, json={"name": "Báo Hà Nội Mới"})
    assert r.status_code == 201
    key, key_id = r.json()["api_key"], r.json()["id"]
    assert key.startswith("o311_")
    listed = http.get("/api/v1/admin/open311-keys", headers=admin.headers).json()["items"]
    assert key_id in [item["id"] for item in listed]
    assert all(item.get("api_key") is None for item in listed)

    async def check(api_key: str) -> str:
        conn = await asyncpg.connect(database_url)
        try:
            return str((await authenticate_partner(conn, api_key)).kind)
        except Exception as exc:
            return type(exc).__name__
        finally:
            await conn.close()
    assert asyncio.run(check(key)) == "partner"
    assert asyncio.run(check(key + "x")) == "Unauthenticated"
    assert http.delete(f"/api/v1/admin/open311-keys/{key_id}", headers=admin.headers).status_code == 204
    assert asyncio.run(check(key)) == "Unauthenticated"
    citizen = login(http)
    assert http.post("/api/v1/admin/open311-keys", headers=citizen.headers, json={"name": "x"}).status_code == 403
    assert http.post("/api/v1/admin/open311-keys", headers=admin.headers, json={"name": ""}).status_code == 422
    assert http.delete(f"/api/v1/admin/open311-keys/{key_id}", headers=admin.headers).status_code == 404
    assert http.delete(f"/api/v1/admin/open311-keys/{key_id}", headers=citizen.headers).status_code == 403
    assert http.delete(f"/api/v1/admin/clients/{key_id}", headers=admin.headers).status_code == 404


def test_admin_lists_are_cursor_paged_in_creation_order(http: httpx.Client, database_url: str) -> None:
    admin = login_city_admin(http, database_url)
    made = [http.post("/api/v1/admin/open311-keys", headers=admin.headers, json={"name": f"Đối tác {i}"}).json()["id"]
            for i in range(3)]
    seen: list[str] = []
    url = "/api/v1/admin/open311-keys?limit=2"
    while True:
        page = http.get(url, headers=admin.headers).json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        url = f"/api/v1/admin/open311-keys?limit=2&cursor={page['next_cursor']}"
    assert seen[-3:] == made
    assert len(seen) == len(set(seen))
    bad = http.get("/api/v1/admin/open311-keys?cursor=bm90LWEtY3Vyc29y", headers=admin.headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "cursor"
    assert http.get("/api/v1/admin/open311-keys?limit=0", headers=admin.headers).status_code == 422


def test_removing_a_grant_takes_effect_on_the_next_request(http: httpx.Client, database_url: str) -> None:
    # The removed role is still in the staff member's unexpired access token: the check must not trust it.
    admin = login_city_admin(http, database_url)
    staff = login_staff(http, database_url, "W00004", "unit_admin")
    ward = unit_id(database_url, "W00004")
    assert http.get(GRANTS, params={"unit_id": str(ward)}, headers=staff.headers).status_code == 200
    gone = http.delete(f"{GRANTS}/{ward}/{staff.user_id}/unit_admin", headers=admin.headers)
    assert gone.status_code == 204
    r = http.get(GRANTS, params={"unit_id": str(ward)}, headers=staff.headers)
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "identity.unit_role_required"
    # Granted again: effective at once too, without a new token.
    again = http.post(GRANTS, headers=admin.headers, json={"unit_id": str(ward), "role": "unit_admin",
                                                           "user_id": str(staff.user_id)})
    assert again.status_code == 201
    assert http.get(GRANTS, params={"unit_id": str(ward)}, headers=staff.headers).status_code == 200


def test_suspending_an_account_ends_access_on_the_next_request(http: httpx.Client, database_url: str) -> None:
    admin = login_city_admin(http, database_url)
    person, bystander = login(http), login(http)
    suspension = f"/api/v1/admin/users/{person.user_id}/suspension"
    assert http.get("/api/v1/me", headers=person.headers).status_code == 200
    # Only city admins; another citizen cannot suspend anyone (nor themselves).
    assert http.put(suspension, headers=bystander.headers).status_code == 403
    assert http.put(f"/api/v1/admin/users/{bystander.user_id}/suspension", headers=person.headers).status_code == 403
    assert http.get("/api/v1/me", headers=person.headers).status_code == 200
    assert http.put(suspension, headers=admin.headers).status_code == 204
    assert http.put(suspension, headers=admin.headers).status_code == 204  # idempotent
    r = http.get("/api/v1/me", headers=person.headers)
    assert r.status_code == 401
    assert r.json()["code"] == "identity.session_revoked"
    assert http.post("/api/v1/auth/refresh", json={"refresh_token": person.refresh_token}).status_code == 401
    tx, code, state = authorize(http, person.personal_id)
    relogin = callback(http, tx, code, state)
    assert relogin.status_code == 403
    assert relogin.json()["code"] == "identity.account_suspended"
    assert http.get("/api/v1/me", headers=bystander.headers).status_code == 200  # nobody else affected
    assert http.delete(suspension, headers=admin.headers).status_code == 204
    assert login(http, personal_id=person.personal_id).user_id == person.user_id
    assert http.get("/api/v1/me", headers=person.headers).status_code == 401  # old sessions stay ended


def test_suspension_bad_input(http: httpx.Client, database_url: str) -> None:
    admin = login_city_admin(http, database_url)
    unknown = http.put("/api/v1/admin/users/0193f3a2-0000-7000-8000-000000000000/suspension", headers=admin.headers)
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "identity.user_not_found"
    assert http.put("/api/v1/admin/users/not-a-uuid/suspension", headers=admin.headers).status_code in (400, 404,
                                                                                                         422)
    own = http.put(f"/api/v1/admin/users/{admin.user_id}/suspension", headers=admin.headers)
    assert own.status_code == 409
    assert own.json()["code"] == "identity.suspend_self"
    assert http.get("/api/v1/me", headers=admin.headers).status_code == 200
