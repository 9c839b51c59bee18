"""Machine clients: private_key_jwt client credentials, and they never reach citizen routes."""

from __future__ import annotations

import httpx
import jwt
import pytest

from tests.support.auth import TOKEN_PATH, client_assertion, client_token, login_city_admin, register_client

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _token(http: httpx.Client, assertion: str, **extra: str) -> httpx.Response:
    return http.post(TOKEN_PATH, data={"grant_type": "client_credentials", "client_assertion_type": JWT_BEARER,
                                       "client_assertion": assertion, **extra})


def _aud(http: httpx.Client) -> str:
    return str(http.base_url).rstrip("/") + TOKEN_PATH


@pytest.mark.parametrize("kind", ["facility", "validator"])
def test_client_gets_a_short_token_of_its_kind(http: httpx.Client, database_url: str, kind: str) -> None:
    client = client_token(http, database_url, kind)
    claims = jwt.decode(client.access_token, options={"verify_signature": False})
    assert claims["kind"] == "client"
    assert claims["roles"] == [kind]
    assert "sid" not in claims
    assert claims["exp"] - claims["iat"] <= 900


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/me/devices", "/api/v1/me/sessions", "/api/v1/me/export"])
def test_facility_cannot_call_citizen_routes(http: httpx.Client, database_url: str, path: str) -> None:
    client = client_token(http, database_url, "facility")
    r = http.get(path, headers=client.headers)
    assert r.status_code == 403
    assert r.json()["code"] == "identity.user_required"


def test_assertion_jti_is_single_use(http: httpx.Client, database_url: str) -> None:
    _, client_id, key = register_client(database_url, "facility")
    assertion = client_assertion(key, client_id, _aud(http))
    assert _token(http, assertion).status_code == 200
    replay = _token(http, assertion)
    assert replay.status_code == 401
    assert replay.json()["code"] == "identity.client_assertion_replayed"


@pytest.mark.parametrize(("case", "kwargs"), [
    ("wrong audience", {"audience": "https://elsewhere.example/token"}),
    ("lifetime over 5 minutes", {"lifetime": 900}),
    ("already expired", {"lifetime": -120}),
    ("sub differs from iss", {"sub": "someone-else"}),
])
def test_bad_assertions_are_refused(http: httpx.Client, database_url: str, case: str, kwargs: dict) -> None:
    _, client_id, key = register_client(database_url, "validator")
    audience = kwargs.pop("audience", _aud(http))
    r = _token(http, client_assertion(key, client_id, audience, **kwargs))
    assert r.status_code == 401, case
    assert r.headers["content-type"].startswith("application/problem+json")


def test_hs256_assertion_and_unknown_client_are_refused(http: httpx.Client, database_url: str) -> None:
    _, client_id, key = register_client(database_url, "facility")
    hs = jwt.encode({"iss": client_id, "sub": client_id, "aud": _aud(http), "exp": 9999999999, "jti": "x"},
                    "secret", algorithm="HS256")
    assert _token(http, hs).status_code == 401
    assert _token(http, client_assertion(key, "no-such-client", _aud(http))).status_code == 401


def test_bad_grant_type_and_missing_assertion(http: httpx.Client) -> None:
    r = http.post(TOKEN_PATH, data={"grant_type": "password", "client_assertion_type": JWT_BEARER,
                                    "client_assertion": "x"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "grant_type"
    r = http.post(TOKEN_PATH, data={"grant_type": "client_credentials", "client_assertion_type": JWT_BEARER})
    assert r.status_code == 422


def test_admin_registers_client_that_then_authenticates(http: httpx.Client, database_url: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    admin = login_city_admin(http, database_url)
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    r = http.post("/api/v1/admin/clients", headers=admin.headers,
                  json={"name": "Bệnh viện Bạch Mai", "kind": "facility", "public_jwk": jwk})
    assert r.status_code == 201, r.text
    client_id = r.json()["client_id"]
    assert _token(http, client_assertion(key, client_id, _aud(http))).status_code == 200
    listed = http.get("/api/v1/admin/clients", headers=admin.headers).json()["items"]
    assert client_id in [c["client_id"] for c in listed]
    assert http.delete(f"/api/v1/admin/clients/{r.json()['id']}", headers=admin.headers).status_code == 204
    assert _token(http, client_assertion(key, client_id, _aud(http))).status_code == 401


def test_client_registration_rejects_private_keys_and_non_admins(http: httpx.Client, database_url: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    from tests.support.auth import login

    admin = login_city_admin(http, database_url)
    key = ec.generate_private_key(ec.SECP256R1())
    private = ECAlgorithm.to_jwk(key, as_dict=True)
    r = http.post("/api/v1/admin/clients", headers=admin.headers,
                  json={"name": "X", "kind": "facility", "public_jwk": private})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "public_jwk"
    r = http.post("/api/v1/admin/clients", headers=admin.headers,
                  json={"name": "X", "kind": "hospital", "public_jwk": {"kty": "EC"}})
    assert r.status_code == 422
    citizen = login(http)
    public = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    r = http.post("/api/v1/admin/clients", headers=citizen.headers,
                  json={"name": "X", "kind": "facility", "public_jwk": public})
    assert r.status_code == 403
    assert http.get("/api/v1/admin/clients", headers=citizen.headers).status_code == 403
    names = [c["name"] for c in http.get("/api/v1/admin/clients", headers=admin.headers).json()["items"]]
    assert "X" not in names
