"""Our access tokens are checked strictly: typ, algorithm allow-list, kid, iss, aud, exp, nbf, session."""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from api.platform.settings import Settings
from tests.support.auth import Session, login


def _our_key(settings: Settings) -> tuple[str, Any]:
    keys = sorted((Path(settings.data_dir) / "keys" / "tokens").glob("*.pem"))
    return keys[-1].stem, serialization.load_pem_private_key(keys[-1].read_bytes(), password=None)


def _claims(session: Session, settings: Settings, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": settings.base_url, "aud": "thudo-api", "sub": str(session.user_id), "sid": str(session.session_id),
            "iat": now, "nbf": now, "exp": now + 300, "jti": uuid.uuid4().hex, "kind": "user",
            "roles": ["citizen"], "acr": "2"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def _forge(settings: Settings, claims: dict[str, Any], *, typ: str = "at+jwt", kid: str | None = None) -> str:
    our_kid, key = _our_key(settings)
    return jwt.encode(claims, key, algorithm="ES256", headers={"typ": typ, "kid": kid or our_kid})


def _me(http: httpx.Client, token: str) -> httpx.Response:
    return http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def session(http: httpx.Client) -> Session:
    return login(http)


def test_a_correctly_forged_token_is_accepted(http: httpx.Client, settings: Settings, session: Session) -> None:
    # Control for the rejections below: the same construction with nothing wrong passes.
    assert _me(http, _forge(settings, _claims(session, settings))).status_code == 200


@pytest.mark.parametrize(("overrides", "label"), [
    ({"iss": "https://evil.example"}, "wrong iss"),
    ({"aud": "someone-else"}, "wrong aud"),
    ({"exp": int(time.time()) - 120, "iat": int(time.time()) - 600, "nbf": int(time.time()) - 600}, "expired"),
    ({"nbf": int(time.time()) + 600}, "future nbf"),
    ({"exp": None}, "no exp"),
    # Issue 10 #8: a token signed with our key but living longer than TOKEN_TTL_SECONDS (600 here).
    ({"iat": int(time.time()), "exp": int(time.time()) + 86_400}, "lifetime over the configured one"),
    ({"iat": int(time.time()) - 3_600, "nbf": int(time.time()) - 3_600, "exp": int(time.time()) + 600},
     "issued long before, still valid"),
])
def test_claim_checks(http: httpx.Client, settings: Settings, session: Session, overrides: dict[str, Any],
                      label: str) -> None:
    r = _me(http, _forge(settings, _claims(session, settings, **overrides)))
    assert r.status_code == 401, label
    assert r.json()["code"] == "identity.token_invalid"


def test_id_token_shaped_jwt_is_not_an_access_token(http: httpx.Client, settings: Settings, session: Session) -> None:
    # Same key and valid claims, but typ JWT (as ID tokens carry): never accepted as an access token.
    r = _me(http, _forge(settings, _claims(session, settings, nonce="n"), typ="JWT"))
    assert r.status_code == 401


def test_real_id_token_from_the_standin_is_refused(http: httpx.Client, settings: Settings, session: Session) -> None:
    key = serialization.load_pem_private_key(
        (Path(settings.data_dir) / "keys" / "vneid-standin-signing.pem").read_bytes(), password=None)
    now = int(time.time())
    id_token = jwt.encode({"iss": settings.base_url + "/dev/vneid", "aud": settings.vneid_client_id,
                           "sub": str(session.user_id), "iat": now, "exp": now + 300, "nonce": "n", "acr": "2"},
                          key, algorithm="RS256", headers={"kid": "standin"})
    assert _me(http, id_token).status_code == 401


def test_alg_none_is_refused(http: httpx.Client, settings: Settings, session: Session) -> None:
    def b64(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    kid, _ = _our_key(settings)
    token = b64({"alg": "none", "typ": "at+jwt", "kid": kid}) + "." + b64(_claims(session, settings)) + "."
    assert _me(http, token).status_code == 401


def test_hs256_signed_with_the_public_key_is_refused(http: httpx.Client, settings: Settings,
                                                     session: Session) -> None:
    kid, key = _our_key(settings)
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": kid}).encode()).rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(_claims(session, settings)).encode()).rstrip(b"=")
    import hashlib
    import hmac
    signing_input = header + b"." + payload
    sig = base64.urlsafe_b64encode(hmac.new(public_pem, signing_input, hashlib.sha256).digest()).rstrip(b"=")
    assert _me(http, (signing_input + b"." + sig).decode()).status_code == 401


def test_unknown_kid_and_foreign_key_are_refused(http: httpx.Client, settings: Settings, session: Session) -> None:
    assert _me(http, _forge(settings, _claims(session, settings), kid="no-such-kid")).status_code == 401
    foreign = ec.generate_private_key(ec.SECP256R1())
    kid, _ = _our_key(settings)
    token = jwt.encode(_claims(session, settings), foreign, algorithm="ES256", headers={"typ": "at+jwt", "kid": kid})
    assert _me(http, token).status_code == 401


@pytest.mark.parametrize("header", ["", "Bearer", "Basic abc", "Bearer not.a.jwt", "bearer a.b.c"])
def test_missing_or_malformed_authorization(http: httpx.Client, header: str) -> None:
    r = http.get("/api/v1/me", headers={"Authorization": header} if header else {})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] in ("identity.token_missing", "identity.token_invalid")
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_logout_revokes_the_access_token_at_once(http: httpx.Client, session: Session) -> None:
    assert http.post("/api/v1/auth/logout", headers=session.headers).status_code == 204
    r = http.get("/api/v1/me", headers=session.headers)
    assert r.status_code == 401
    assert r.json()["code"] == "identity.session_revoked"
    assert http.post("/api/v1/auth/refresh", json={"refresh_token": session.refresh_token}).status_code == 401


def test_logout_all_ends_every_session(http: httpx.Client) -> None:
    first = login(http)
    from tests.support.auth import authorize, callback
    tx, code, state = authorize(http, first.personal_id)
    second_tokens = callback(http, tx, code, state).json()
    second = {"Authorization": f"Bearer {second_tokens['access_token']}"}
    other = login(http)
    assert http.post("/api/v1/auth/logout-all", headers=second).status_code == 204
    assert http.get("/api/v1/me", headers=first.headers).status_code == 401
    assert http.get("/api/v1/me", headers=second).status_code == 401
    assert http.get("/api/v1/me", headers=other.headers).status_code == 200  # another citizen is untouched


def test_jwks_publishes_public_keys_only(http: httpx.Client) -> None:
    r = http.get("/.well-known/jwks.json")
    assert r.status_code == 200
    keys = r.json()["keys"]
    assert keys
    assert all(k["kty"] == "EC" and k["alg"] == "ES256" and "d" not in k for k in keys)


def test_refused_requests_never_open_a_transaction(http: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    # Authentication runs as a guard, before the unit of work is opened: a 401 flood must not leave
    # pooled connections to be reset mid-transaction (that exhausted the pool under fuzzing).
    import logging

    caplog.set_level(logging.ERROR, logger="asyncio")
    for _ in range(15):
        assert http.get("/api/v1/me/devices", headers={"Authorization": "Bearer bad"}).status_code == 401
    assert http.get("/health/ready").status_code == 200
    assert not [r for r in caplog.records if "active transaction" in r.getMessage()]
