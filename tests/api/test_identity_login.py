"""The mobile login flow over real HTTP through the VNeID stand-in, and what it must refuse."""

from __future__ import annotations

import httpx
import jwt

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
