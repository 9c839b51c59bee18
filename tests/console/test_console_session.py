"""The console's browser session: login through the VNeID stand-in, the cookie, CSRF, logout, revocation."""

from __future__ import annotations

import httpx

from api.console.session import LOGIN_COOKIE, SESSION_COOKIE
from tests.support.auth import grant
from tests.support.console import console_login, set_cookies
from tests.support.feedback import sql

WARD = "W00001"


def test_login_sets_a_secure_httponly_samesite_cookie_and_opens_the_home_page(
    http: httpx.Client, clean_db: str
) -> None:
    start = http.get("/console/login/start", follow_redirects=False)
    assert start.status_code == 303
    pending = next(h for h in start.headers.get_list("set-cookie") if h.startswith(LOGIN_COOKIE))
    assert "HttpOnly" in pending
    assert "Secure" in pending
    assert "SameSite=lax" in pending.replace("Lax", "lax")
    staff = console_login(http, clean_db, WARD)
    page = staff.get("/console/")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "Phường" in page.text or "W00001" in page.text or "Cán bộ xử lý" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_the_session_cookie_attributes(http: httpx.Client, clean_db: str) -> None:
    staff = console_login(http, clean_db, WARD)
    assert staff.cookie
    out = staff.post("/console/logout")
    header = next(h for h in out.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    for attribute in ("HttpOnly", "Secure", "Path=/console"):
        assert attribute in header


def test_no_cookie_redirects_to_login_and_back(http: httpx.Client, clean_db: str) -> None:
    r = http.get("/console/", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/console/login?next=%2Fconsole")
    r = http.get("/console/", headers={"Cookie": f"{SESSION_COOKIE}=forged"}, follow_redirects=False)
    assert r.status_code == 303


def test_a_form_posted_without_its_csrf_token_is_refused(http: httpx.Client, clean_db: str) -> None:
    staff = console_login(http, clean_db, WARD)
    refused = staff.post("/console/logout", csrf=False)
    assert refused.status_code == 403
    assert "text/html" in refused.headers["content-type"]
    wrong = staff.post("/console/logout", {"csrf_token": "x" * 43}, csrf=False)
    assert wrong.status_code == 403
    foreign = staff.post("/console/logout", headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    assert staff.get("/console/").status_code == 200  # none of them logged out
    assert staff.post("/console/logout").status_code == 303
    assert staff.get("/console/").status_code == 303  # the real form did


def test_logout_ends_the_session_itself(http: httpx.Client, clean_db: str) -> None:
    staff = console_login(http, clean_db, WARD)
    assert staff.post("/console/logout").headers["location"] == "/console/login?reason=bye"
    again = staff.get("/console/")
    assert again.status_code == 303
    assert "reason=ended" in again.headers["location"]
    assert set_cookies(again)[SESSION_COOKIE] == ""


def test_a_revoked_grant_ends_the_console_session(http: httpx.Client, clean_db: str) -> None:
    staff = console_login(http, clean_db, WARD)
    assert staff.get("/console/").status_code == 200
    sql(clean_db, "DELETE FROM staff_grants WHERE user_id = $1", staff.user_id)
    gone = staff.get("/console/")
    assert gone.status_code == 303
    assert "reason=no_access" in gone.headers["location"]
    # The session itself was revoked: a grant given back later does not revive this cookie.
    grant(clean_db, staff.user_id, WARD, "handler")
    assert staff.get("/console/").status_code == 303
    assert (
        sql(
            clean_db,
            "SELECT revoked_reason FROM sessions WHERE user_id = $1 AND user_agent LIKE 'console%'",
            staff.user_id,
        )
        == "console_access_revoked"
    )


def test_a_citizen_cannot_use_the_console(http: httpx.Client, clean_db: str) -> None:
    citizen = console_login(http, clean_db, None)
    r = citizen.get("/console/")
    assert r.status_code == 303
    assert "reason=no_access" in r.headers["location"]


def test_next_is_kept_to_console_paths_only(http: httpx.Client, clean_db: str) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/api/v1/me", "/console\\@evil"):
        start = http.get("/console/login/start", params={"next": target}, follow_redirects=False)
        assert set_cookies(start)[LOGIN_COOKIE].endswith("|/console/")


def test_a_replayed_or_forged_callback_is_refused(http: httpx.Client, clean_db: str) -> None:
    r = http.get("/console/login/callback?code=x&state=y", follow_redirects=False)
    assert r.status_code == 400
    assert SESSION_COOKIE not in set_cookies(r)
    start = http.get("/console/login/start", follow_redirects=False)
    pending = set_cookies(start)[LOGIN_COOKIE]
    r = http.get(
        "/console/login/callback?code=x&state=y",
        headers={"Cookie": f"{LOGIN_COOKIE}={pending}"},
        follow_redirects=False,
    )
    assert r.status_code == 400
    assert SESSION_COOKIE not in set_cookies(r)


def test_language_switch(http: httpx.Client, clean_db: str) -> None:
    staff = console_login(http, clean_db, WARD)
    r = http.get("/console/lang/en?next=/console/", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/console/"
    staff.extra_cookies["console_lang"] = set_cookies(r)["console_lang"]
    page = staff.get("/console/")
    assert 'lang="en"' in page.text
    assert "Log out" in page.text
    assert 'lang="vi"' in http.get("/console/login").text


def test_static_assets_are_served_by_the_service(http: httpx.Client) -> None:
    r = http.get("/console/static/htmx-2.0.11.min.js")
    assert r.status_code == 200
    assert "max-age=31536000" in r.headers["cache-control"]
    assert http.get("/console/static/console.css").status_code == 200


def test_static_names_the_file_system_refuses_are_not_found(http: httpx.Client) -> None:
    assert http.get("/console/static/" + "x" * 6000).status_code == 404
    assert http.get("/console/static/nothing.js").status_code == 404
    assert http.get("/console/static/../session.py").status_code == 404
