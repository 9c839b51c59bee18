"""The mobile login flow over real HTTP through the VNeID stand-in, and what it must refuse."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

from api.platform.settings import Settings
from tests.support.auth import authorize, callback, login, refresh, register_person


def test_full_login_returns_our_tokens(http: httpx.Client) -> None:
    session = login(http, name="Nguyễn Thị Hoa")
    header = jwt.get_unverified_header(session.access_token)
    assert header["alg"] == "ES256"
    assert header["typ"] == "at+jwt"
    claims = jwt.decode(session.access_token, options={"verify_signature": False})
    assert claims["sub"] == str(session.user_id)
    assert claims["roles"] == ["citizen"]
    assert claims["acr"] == "2"
    assert claims["exp"] - claims["iat"] <= 900
    assert len(session.refresh_token) >= 43
    assert session.user["full_name"] == "Nguyễn Thị Hoa"
    masked = session.user["personal_id"]
    assert masked == session.personal_id[:4] + "*****" + session.personal_id[-3:]
    me = http.get("/api/v1/me", headers=session.headers)
    assert me.status_code == 200
    assert me.json()["id"] == str(session.user_id)


def test_access_token_verifies_with_published_jwks(http: httpx.Client) -> None:
    session = login(http)
    jwks = http.get("/.well-known/jwks.json").json()
    kid = jwt.get_unverified_header(session.access_token)["kid"]
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid))
    claims = jwt.decode(session.access_token, key.key, algorithms=["ES256"], audience="thudo-api")
    assert claims["sid"] == str(session.session_id)


def test_second_login_of_same_person_is_same_user(http: httpx.Client) -> None:
    first = login(http)
    tx, code, state = authorize(http, first.personal_id)
    r = callback(http, tx, code, state)
    assert r.status_code == 200
    assert r.json()["user"]["id"] == str(first.user_id)


def test_wrong_state_is_refused_and_consumes_the_transaction(http: httpx.Client) -> None:
    pid = register_person(http)
    tx, code, state = authorize(http, pid)
    bad = callback(http, tx, code, state + "x")
    assert bad.status_code == 401
    assert bad.json()["code"] == "identity.state_mismatch"
    again = callback(http, tx, code, state)
    assert again.status_code == 401
    assert again.json()["code"] == "identity.login_transaction_invalid"


def test_replayed_callback_is_refused(http: httpx.Client) -> None:
    pid = register_person(http)
    tx, code, state = authorize(http, pid)
    assert callback(http, tx, code, state).status_code == 200
    replay = callback(http, tx, code, state)
    assert replay.status_code == 401
    assert replay.json()["code"] == "identity.login_transaction_invalid"


def test_refresh_rotates_and_reuse_kills_the_family(http: httpx.Client) -> None:
    first = login(http)
    second = refresh(http, first)
    assert second.refresh_token != first.refresh_token
    assert second.session_id == first.session_id
    assert http.get("/api/v1/me", headers=second.headers).status_code == 200
    reuse = http.post("/api/v1/auth/refresh", json={"refresh_token": first.refresh_token})
    assert reuse.status_code == 401
    assert reuse.json()["code"] == "identity.refresh_token_reused"
    # The whole family is gone: the newest refresh token and the access token stop working.
    assert http.post("/api/v1/auth/refresh", json={"refresh_token": second.refresh_token}).status_code == 401
    dead = http.get("/api/v1/me", headers=second.headers)
    assert dead.status_code == 401
    assert dead.json()["code"] == "identity.session_revoked"


def _count(database_url: str, table: str) -> int:
    import asyncio

    import asyncpg

    async def go() -> int:
        conn = await asyncpg.connect(database_url)
        try:
            return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
        finally:
            await conn.close()
    return asyncio.run(go())


def test_start_bad_input_writes_nothing(http: httpx.Client, database_url: str) -> None:
    before = _count(database_url, "login_transactions")
    for body in ({"level": 3}, {"level": "2"}, {"redirect_uri": "https://evil.example"}):
        r = http.post("/api/v1/auth/vneid/start", json=body)
        assert r.status_code == 422, body
        assert r.headers["content-type"].startswith("application/problem+json")
    assert http.post("/api/v1/auth/vneid/start", content=b"{", headers={"content-type": "application/json"}
                     ).status_code == 400
    assert _count(database_url, "login_transactions") == before


def test_callback_and_refresh_bad_input(http: httpx.Client, database_url: str) -> None:
    sessions = _count(database_url, "sessions")
    for body in ({}, {"transaction_id": "nope", "code": "c", "state": "s"},
                 {"transaction_id": "0190b7c4-0000-7000-8000-000000000000", "code": "", "state": "s"},
                 {"transaction_id": "0190b7c4-0000-7000-8000-000000000000", "code": "c", "state": "s", "x": 1}):
        r = http.post("/api/v1/auth/vneid/callback", json=body)
        assert r.status_code == 422, body
    unknown = http.post("/api/v1/auth/vneid/callback", json={
        "transaction_id": "0190b7c4-0000-7000-8000-000000000000", "code": "c", "state": "s"})
    assert unknown.status_code == 401
    for body in ({}, {"refresh_token": "short"}, {"refresh_token": 12345678901234567890}):
        assert http.post("/api/v1/auth/refresh", json=body).status_code == 422
    assert _count(database_url, "sessions") == sessions


def test_level_1_login_is_level_1_everywhere(http: httpx.Client) -> None:
    basic = login(http, level=1)
    claims = jwt.decode(basic.access_token, options={"verify_signature": False})
    assert claims["acr"] == "1"
    assert basic.user["level"] == 1
    r = http.get("/api/v1/me/export", headers=basic.headers)
    assert r.status_code == 403
    assert r.json()["code"] == "identity.level_required"


def test_deletion_requested_account_cannot_log_in_again(http: httpx.Client) -> None:
    me = login(http)
    assert http.post("/api/v1/me/deletion-request", headers=me.headers).status_code == 202
    tx, code, state = authorize(http, me.personal_id)
    r = callback(http, tx, code, state)
    assert r.status_code == 403
    assert r.json()["code"] == "identity.deletion_requested"


def _redirect_query(http: httpx.Client, personal_id: str) -> tuple[str, dict[str, str]]:
    start = http.post("/api/v1/auth/vneid/start", json={"level": 2}).json()
    auth = http.get(start["authorization_url"] + f"&login_hint={personal_id}", follow_redirects=False)
    assert auth.status_code in (302, 303), auth.text
    return start["transaction_id"], {k: v[0] for k, v in parse_qs(urlsplit(auth.headers["location"]).query).items()}


def test_callback_accepts_and_checks_the_rfc9207_iss(http: httpx.Client, settings: Settings) -> None:
    personal_id = register_person(http)
    tx, back = _redirect_query(http, personal_id)
    assert back["iss"] == settings.base_url + "/dev/vneid"
    ok = http.post("/api/v1/auth/vneid/callback", json={"transaction_id": tx, "code": back["code"],
                                                        "state": back["state"], "iss": back["iss"]})
    assert ok.status_code == 200, ok.text
    # A response claiming another provider (mix-up attack): refused, and the transaction is burnt.
    tx, back = _redirect_query(http, personal_id)
    mixed = http.post("/api/v1/auth/vneid/callback", json={"transaction_id": tx, "code": back["code"],
                                                           "state": back["state"], "iss": "https://evil.example"})
    assert mixed.status_code == 401
    assert mixed.json()["code"] == "identity.eid_response_issuer_mismatch"
    assert callback(http, tx, back["code"], back["state"]).json()["code"] == "identity.login_transaction_invalid"
    empty = http.post("/api/v1/auth/vneid/callback", json={"transaction_id": tx, "code": "c", "state": "s",
                                                           "iss": ""})
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["field"] == "iss"


def test_cancel_on_the_consent_page_returns_access_denied(http: httpx.Client) -> None:
    start = http.post("/api/v1/auth/vneid/start", json={"level": 2}).json()
    page = http.get(start["authorization_url"])
    assert page.status_code == 200
    assert 'value="cancel"' in page.text
    pending = page.text.split('name="pending" value="')[1].split('"')[0]
    form_url = start["authorization_url"].split("?")[0]
    cancelled = http.post(form_url, data={"pending": pending, "action": "cancel"}, follow_redirects=False)
    assert cancelled.status_code == 303
    location = cancelled.headers["location"]
    back = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert back["error"] == "access_denied"
    assert "code" not in back
    assert back["state"]
    shown = http.get(location)  # the development app-callback page shows the error
    assert "access_denied" in shown.text
    # The app starts over; the cancelled consent cannot be approved afterwards.
    again = http.post(form_url, data={"pending": pending, "personal_id": "001085000101"}, follow_redirects=False)
    assert again.status_code == 400
