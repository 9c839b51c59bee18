"""Log in over real HTTP through the local VNeID stand-in, for API tests of every context.

``login(http)`` registers a fresh random person at the stand-in and drives the real flow: start →
the provider's authorize URL (auto-approved with ``login_hint``) → callback with code and state.
Grants for staff and admins are written with a separate asyncpg connection, then the session is
refreshed so the new roles are in the access token. ``client_token`` registers a machine client
and authenticates with a ``private_key_jwt`` assertion.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

STANDIN = "/dev/vneid"
TOKEN_PATH = "/api/v1/auth/token"


@dataclass
class Session:
    access_token: str
    refresh_token: str
    user_id: uuid.UUID
    session_id: uuid.UUID | None = None
    personal_id: str = ""
    level: int = 2
    user: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass
class ClientSession:
    access_token: str
    client_id: str
    id: uuid.UUID
    kind: str
    private_key: ec.EllipticCurvePrivateKey

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def random_personal_id() -> str:
    # 001 = Hà Nội province code, then century/sex digit, birth year and a random serial.
    return "001" + "0" + f"{secrets.randbelow(100):02d}" + f"{secrets.randbelow(10**6):06d}"


def register_person(http: httpx.Client, *, level: int = 2, personal_id: str | None = None,
                    name: str | None = None, date_of_birth: str = "17/05/1990") -> str:
    personal_id = personal_id or random_personal_id()
    r = http.post(f"{STANDIN}/people", json={
        "personal_id": personal_id, "full_name": name or f"Nguyễn Văn {secrets.token_hex(3).upper()}",
        "date_of_birth": date_of_birth, "level": level})
    assert r.status_code in (200, 201), r.text
    return personal_id


def authorize(http: httpx.Client, personal_id: str, *, level: int = 2) -> tuple[str, str, str]:
    """start + authorize at the stand-in; returns (transaction_id, code, state) without calling back."""
    start = http.post("/api/v1/auth/vneid/start", json={"level": level})
    assert start.status_code == 200, start.text
    body = start.json()
    url = body["authorization_url"]
    sep = "&" if "?" in url else "?"
    auth = http.get(f"{url}{sep}login_hint={personal_id}", follow_redirects=False)
    assert auth.status_code in (302, 303), auth.text
    query = parse_qs(urlsplit(auth.headers["location"]).query)
    return body["transaction_id"], query["code"][0], query["state"][0]


def callback(http: httpx.Client, transaction_id: str, code: str, state: str) -> httpx.Response:
    return http.post("/api/v1/auth/vneid/callback",
                     json={"transaction_id": transaction_id, "code": code, "state": state})


def _session(body: dict[str, Any], personal_id: str, level: int) -> Session:
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    return Session(access_token=body["access_token"], refresh_token=body["refresh_token"],
                   user_id=uuid.UUID(body["user"]["id"]), session_id=uuid.UUID(claims["sid"]),
                   personal_id=personal_id, level=level, user=body["user"])


def login(http: httpx.Client, *, level: int = 2, personal_id: str | None = None,
          name: str | None = None) -> Session:
    personal_id = register_person(http, level=level, personal_id=personal_id, name=name)
    tx, code, state = authorize(http, personal_id, level=level)
    r = callback(http, tx, code, state)
    assert r.status_code == 200, r.text
    return _session(r.json(), personal_id, level)


def refresh(http: httpx.Client, session: Session) -> Session:
    r = http.post("/api/v1/auth/refresh", json={"refresh_token": session.refresh_token})
    assert r.status_code == 200, r.text
    return _session(r.json(), session.personal_id, session.level)


def _run(database_url: str, sql: str, *args: Any) -> Any:
    async def go() -> Any:
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()
    return asyncio.run(go())


def unit_id(database_url: str, unit_code: str) -> uuid.UUID:
    found = _run(database_url, "SELECT id FROM units WHERE code = $1", unit_code)
    assert found is not None, f"no unit {unit_code}"
    return uuid.UUID(str(found))


def grant(database_url: str, user_id: uuid.UUID, unit_code: str, role: str) -> uuid.UUID:
    unit = unit_id(database_url, unit_code)
    _run(database_url, "INSERT INTO staff_grants (user_id, unit_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
         user_id, unit, role)
    return unit


def login_staff(http: httpx.Client, database_url: str, unit_code: str, role: str = "handler", *,
                level: int = 2) -> Session:
    session = login(http, level=level)
    grant(database_url, session.user_id, unit_code, role)
    return refresh(http, session)


def login_city_admin(http: httpx.Client, database_url: str) -> Session:
    session = login(http)
    _run(database_url, "UPDATE users SET city_admin = true WHERE id = $1", session.user_id)
    return refresh(http, session)


def client_assertion(key: ec.EllipticCurvePrivateKey, client_id: str, audience: str, *, lifetime: int = 120,
                     jti: str | None = None, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": audience, "iat": now, "exp": now + lifetime,
              "jti": jti or secrets.token_urlsafe(16), **overrides}
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": "k1"})


def register_client(database_url: str, kind: str) -> tuple[uuid.UUID, str, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = {**ECAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "k1"}
    client_id = f"{kind}-{secrets.token_hex(6)}"
    row_id = uuid.uuid4()
    _run(database_url,
         "INSERT INTO api_clients (id, client_id, kind, name, public_jwk) VALUES ($1, $2, $3, $4, $5::jsonb)",
         row_id, client_id, kind, f"Test {kind}", json.dumps(jwk))
    return row_id, client_id, key


def client_token(http: httpx.Client, database_url: str, kind: str = "facility") -> ClientSession:
    row_id, client_id, key = register_client(database_url, kind)
    audience = str(http.base_url).rstrip("/") + TOKEN_PATH
    r = http.post(TOKEN_PATH, data={
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion(key, client_id, audience)})
    assert r.status_code == 200, r.text
    return ClientSession(access_token=r.json()["access_token"], client_id=client_id, id=row_id, kind=kind,
                         private_key=key)
