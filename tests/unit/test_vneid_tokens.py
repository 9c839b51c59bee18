"""ID token and protocol checks of the VNeID adapter against a provider mocked with respx.

The stand-in only issues good tokens; here a fake provider serves hand-crafted bad ones (pyjwt and
our own keys) through the same HTTP calls the adapter makes in production.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives import serialization

from adapters.vneid import VNeIDClient, VNeIDConfig, errors
from adapters.vneid.keys import b64url, new_ec_key, new_rsa_key, public_jwk
from domain.errors import Unauthenticated, Unavailable

ISSUER = "https://vneid.test/realms/vneid"
CLIENT_ID = "thudo-app"
REDIRECT = "https://app.thudo.example/auth/vneid"
NONCE = "n-0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
ACCESS = "opaque-access-token"
PID = "001085000101"


class Rel(NamedTuple):
    """A claim time relative to the moment the token is minted (parameters are built at collection
    time, possibly minutes before the test runs)."""

    offset: int


class FakeProvider:
    def __init__(self, mock: respx.MockRouter) -> None:
        self.key = new_rsa_key()
        self.kid = public_jwk(self.key)["kid"]
        self.meta: dict[str, Any] = {
            "issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/auth", "token_endpoint": f"{ISSUER}/token",
            "userinfo_endpoint": f"{ISSUER}/userinfo", "jwks_uri": f"{ISSUER}/certs",
            "code_challenge_methods_supported": ["S256"]}
        self.id_token = self.token()
        self.userinfo: dict[str, Any] = {"sub": "subject-1", "SoDinhDanh": PID, "HoVaTen": "Nguyễn Văn An",
                                         "NgayThangNamSinh": "12/03/1985", "level": 2}
        self.token_response: httpx.Response | None = None
        mock.get(f"{ISSUER}/.well-known/openid-configuration").mock(side_effect=lambda _: httpx.Response(
            200, json=self.meta))
        self.publish_alg = True  # Keycloak publishes "alg"; other providers leave it out
        self.jwks = mock.get(f"{ISSUER}/certs").mock(side_effect=lambda _: httpx.Response(200, json={"keys": [
            {k: v for k, v in public_jwk(self.key).items() if self.publish_alg or k != "alg"}]}))
        self.token_route = mock.post(f"{ISSUER}/token").mock(side_effect=self._token)
        self.par_route = mock.post(f"{ISSUER}/par").mock(return_value=httpx.Response(
            201, json={"request_uri": "urn:ietf:params:oauth:request_uri:abc", "expires_in": 60}))
        mock.get(f"{ISSUER}/userinfo").mock(side_effect=lambda _: httpx.Response(200, json=self.userinfo))

    def _token(self, _: httpx.Request) -> httpx.Response:
        return self.token_response or httpx.Response(200, json={
            "access_token": ACCESS, "token_type": "Bearer", "expires_in": 300, "id_token": self.id_token})

    def token(self, *, key: Any = None, alg: str = "RS256", headers: dict[str, Any] | None = None,
              **changes: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"iss": ISSUER, "sub": "subject-1", "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                                  "nonce": NONCE, "acr": "2",
                                  "at_hash": b64url(hashlib.sha256(ACCESS.encode()).digest()[:16])}
        claims.update({k: now + v.offset if isinstance(v, Rel) else v for k, v in changes.items()})
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, key or self.key, algorithm=alg, headers={"kid": self.kid, **(headers or {})})


@pytest.fixture
async def provider() -> AsyncIterator[FakeProvider]:
    async with respx.mock(assert_all_called=False) as mock:
        yield FakeProvider(mock)


@pytest.fixture
async def client() -> AsyncIterator[VNeIDClient]:
    config = VNeIDConfig(issuer=ISSUER, client_id=CLIENT_ID, redirect_uri=REDIRECT,
                         client_auth="client_secret_basic", client_secret="top secret&more")
    async with httpx.AsyncClient() as http:
        yield VNeIDClient(config, http)


async def finish(client: VNeIDClient, nonce: str = NONCE) -> Any:
    return await client.finish(code="c0de", code_verifier="v" * 64, nonce=nonce, redirect_uri=REDIRECT)


async def rejected(client: VNeIDClient) -> str:
    with pytest.raises(Unauthenticated) as exc:
        await finish(client)
    return exc.value.code


def unsigned(claims_token: str, header: dict[str, Any], signature: bytes = b"") -> str:
    payload = claims_token.split(".")[1]
    return ".".join([b64url(json.dumps(header).encode()), payload, b64url(signature)])


async def test_a_good_token_gives_the_mapped_identity(provider: FakeProvider, client: VNeIDClient) -> None:
    identity = await finish(client)
    assert (identity.issuer, identity.subject, identity.personal_id, identity.level) == (
        ISSUER, "subject-1", PID, 2)
    assert str(identity.date_of_birth) == "1985-03-12"
    sent = provider.token_route.calls.last.request
    form = parse_qs(sent.content.decode())
    assert form["grant_type"] == ["authorization_code"]
    assert form["code_verifier"] == ["v" * 64]
    basic = base64.b64decode(sent.headers["authorization"].split()[1]).decode()
    assert basic == "thudo-app:top+secret%26more"  # RFC 6749 §2.3.1 form-encoding before base64


async def test_alg_none_is_refused(provider: FakeProvider, client: VNeIDClient) -> None:
    provider.id_token = unsigned(provider.token(), {"alg": "none", "kid": provider.kid})
    assert await rejected(client) == errors.TOKEN_INVALID


async def test_hs256_signed_with_the_public_key_is_refused(provider: FakeProvider, client: VNeIDClient) -> None:
    public_pem = provider.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    good = provider.token()
    signing_input = ".".join([b64url(json.dumps({"alg": "HS256", "kid": provider.kid}).encode()),
                              good.split(".")[1]]).encode()
    mac = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    provider.id_token = signing_input.decode() + "." + b64url(mac)
    assert await rejected(client) == errors.TOKEN_INVALID


async def test_es256_is_refused_when_only_rs256_is_allowed(provider: FakeProvider, client: VNeIDClient) -> None:
    provider.id_token = provider.token(key=new_ec_key(), alg="ES256")
    assert await rejected(client) == errors.TOKEN_INVALID


async def test_ps256_is_accepted_when_configured(provider: FakeProvider) -> None:
    config = VNeIDConfig(issuer=ISSUER, client_id=CLIENT_ID, redirect_uri=REDIRECT, client_auth="client_secret_post",
                         client_secret="s", algorithms=("RS256", "PS256"))
    provider.id_token = provider.token(alg="PS256")
    provider.publish_alg = False
    async with httpx.AsyncClient() as http:
        assert (await finish(VNeIDClient(config, http))).level == 2
    form = parse_qs(provider.token_route.calls.last.request.content.decode())
    assert form["client_id"] == [CLIENT_ID]
    assert form["client_secret"] == ["s"]


async def test_signature_by_another_key_with_a_known_kid_is_refused(provider: FakeProvider,
                                                                   client: VNeIDClient) -> None:
    provider.id_token = provider.token(key=new_rsa_key())
    assert await rejected(client) == errors.TOKEN_INVALID


async def test_unknown_kid_is_refused_after_one_refetch(provider: FakeProvider, client: VNeIDClient) -> None:
    provider.id_token = provider.token(headers={"kid": "nobody"})
    assert await rejected(client) == errors.KEY_UNKNOWN
    assert provider.jwks.call_count == 2
    assert client.jwks.fetches == 2


async def test_jku_x5u_and_jwk_headers_are_ignored(provider: FakeProvider, client: VNeIDClient) -> None:
    attacker = new_rsa_key()
    provider.id_token = provider.token(key=attacker, headers={
        "jku": "https://evil.example/jwks", "x5u": "https://evil.example/cert", "jwk": public_jwk(attacker)})
    # Signed by the attacker's embedded key: refused, and nothing was fetched from evil.example
    # (respx would have raised on an unmocked host).
    assert await rejected(client) == errors.TOKEN_INVALID


@pytest.mark.parametrize(("changes", "code"), [
    ({"iss": ISSUER + "/"}, errors.ISSUER_MISMATCH),
    ({"iss": "https://evil.example"}, errors.ISSUER_MISMATCH),
    ({"aud": "someone-else"}, errors.AUDIENCE_MISMATCH),
    ({"aud": ["someone-else", CLIENT_ID]}, errors.AUDIENCE_MISMATCH),  # several audiences, no azp
    ({"aud": ["someone-else", CLIENT_ID], "azp": "someone-else"}, errors.AUDIENCE_MISMATCH),
    ({"exp": Rel(-61)}, errors.TOKEN_EXPIRED),
    ({"nbf": Rel(120)}, errors.TOKEN_NOT_YET_VALID),
    ({"iat": Rel(120)}, errors.TOKEN_NOT_YET_VALID),
    ({"nonce": "another-login"}, errors.NONCE_MISMATCH),
    ({"nonce": None}, errors.NONCE_MISMATCH),
    ({"exp": None}, errors.TOKEN_INVALID),
    ({"at_hash": b64url(b"0" * 16)}, errors.TOKEN_INVALID),
    ({"exp": "tomorrow"}, errors.TOKEN_INVALID),
])
async def test_claim_checks(provider: FakeProvider, client: VNeIDClient, changes: dict[str, Any],
                            code: str) -> None:
    provider.id_token = provider.token(**changes)
    assert await rejected(client) == code


@pytest.mark.parametrize("changes", [
    {"exp": Rel(-30)},  # inside the 60 s skew allowance
    {"nbf": Rel(30)},
    {"aud": ["someone-else", CLIENT_ID], "azp": CLIENT_ID},
    {"at_hash": None},
])
async def test_tolerated_variations(provider: FakeProvider, client: VNeIDClient, changes: dict[str, Any]) -> None:
    provider.id_token = provider.token(**changes)
    assert (await finish(client)).personal_id == PID


async def test_userinfo_for_another_subject_is_refused(provider: FakeProvider, client: VNeIDClient) -> None:
    provider.userinfo["sub"] = "subject-2"
    assert await rejected(client) == errors.USERINFO_MISMATCH


@pytest.mark.parametrize(("field", "value"), [("SoDinhDanh", "12345"), ("SoDinhDanh", 1085000101),
                                              ("HoVaTen", " "), ("SoDinhDanh", None)])
async def test_unusable_claims_are_refused(provider: FakeProvider, client: VNeIDClient, field: str,
                                           value: Any) -> None:
    provider.userinfo[field] = value
    if value is None:
        del provider.userinfo[field]
    assert await rejected(client) == errors.CLAIMS_INVALID


async def test_level_falls_back_to_the_userinfo_claim(provider: FakeProvider, client: VNeIDClient) -> None:
    provider.id_token = provider.token(acr=None)
    provider.userinfo.update(level="1", NgayThangNamSinh="1985-03-12")
    identity = await finish(client)
    assert identity.level == 1
    assert str(identity.date_of_birth) == "1985-03-12"
    provider.userinfo.pop("level")
    assert await rejected(client) == errors.CLAIMS_INVALID


@pytest.mark.parametrize(("response", "kind", "code"), [
    (httpx.Response(400, json={"error": "invalid_grant"}), Unauthenticated, errors.CODE_REJECTED),
    (httpx.Response(401, json={"error": "invalid_client"}), Unavailable, errors.UNAVAILABLE),
    (httpx.Response(503, text="down"), Unavailable, errors.UNAVAILABLE),
    (httpx.Response(200, json={"access_token": ACCESS}), Unavailable, errors.UNAVAILABLE),
    (httpx.Response(200, json={"access_token": ACCESS, "id_token": "x", "token_type": "DPoP"}), Unavailable,
     errors.UNAVAILABLE),
])
async def test_token_endpoint_failures(provider: FakeProvider, client: VNeIDClient, response: httpx.Response,
                                       kind: type[Exception], code: str) -> None:
    provider.token_response = response
    with pytest.raises(kind) as exc:
        await finish(client)
    assert getattr(exc.value, "code", None) == code


async def test_network_failure_is_unavailable(provider: FakeProvider, client: VNeIDClient) -> None:
    provider.token_route.mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(Unavailable) as exc:
        await finish(client)
    assert exc.value.code == errors.UNAVAILABLE
    assert exc.value.retry_after > 0


async def test_discovery_with_another_issuer_is_refused(provider: FakeProvider, client: VNeIDClient) -> None:
    provider.meta["issuer"] = "https://evil.example"
    with pytest.raises(Unavailable) as exc:
        await client.begin(redirect_uri=REDIRECT)
    assert exc.value.code == errors.DISCOVERY_INVALID


async def test_plain_authorization_request(provider: FakeProvider, client: VNeIDClient) -> None:
    request = await client.begin(redirect_uri=REDIRECT, level=2)
    query = {k: v[0] for k, v in parse_qs(urlsplit(request.authorization_url).query).items()}
    challenge = b64url(hashlib.sha256(request.code_verifier.encode()).digest())
    assert query == {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT,
                     "scope": "openid profile citizen_id", "state": request.state, "nonce": request.nonce,
                     "code_challenge": challenge,
                     "code_challenge_method": "S256", "acr_values": "2"}
    assert len({request.state, request.nonce, (await client.begin(redirect_uri=REDIRECT)).state}) == 3
    assert not provider.par_route.called


async def test_par_with_private_key_jwt(provider: FakeProvider) -> None:
    provider.meta["pushed_authorization_request_endpoint"] = f"{ISSUER}/par"
    key = new_ec_key()
    config = VNeIDConfig(issuer=ISSUER, client_id=CLIENT_ID, redirect_uri=REDIRECT,
                         client_key_file=Path("unused"))  # the key itself is passed in
    async with httpx.AsyncClient() as http:
        request = await VNeIDClient(config, http, client_key=key).begin(redirect_uri=REDIRECT, level=1)
    assert request.authorization_url == (f"{ISSUER}/auth?client_id={CLIENT_ID}"
                                         "&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc")
    form = {k: v[0] for k, v in parse_qs(provider.par_route.calls.last.request.content.decode()).items()}
    assert form["acr_values"] == "1"
    assert form["state"] == request.state
    assert form["code_challenge_method"] == "S256"
    assertion = form["client_assertion"]
    assert jwt.get_unverified_header(assertion) == {"alg": "ES256", "kid": public_jwk(key)["kid"], "typ": "JWT"}
    claims = jwt.decode(assertion, key.public_key(), algorithms=["ES256"], audience=ISSUER)
    assert claims["iss"] == claims["sub"] == CLIENT_ID
    assert 0 < claims["exp"] - claims["iat"] <= 120
    assert len(claims["jti"]) >= 32


async def test_rejections_never_log_token_contents(provider: FakeProvider, client: VNeIDClient,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    provider.id_token = provider.token(aud="someone-else")
    with caplog.at_level(logging.DEBUG, logger="thudo.vneid"), pytest.raises(Unauthenticated) as exc:
        await finish(client)
    text = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "e-ID login rejected" in text
    assert errors.AUDIENCE_MISMATCH in text
    for secret in (provider.id_token, provider.id_token.split(".")[1], NONCE, ACCESS, "subject-1"):
        assert secret not in text
    assert str(exc.value) == errors.AUDIENCE_MISMATCH


async def test_authorization_response_iss_is_compared_before_the_code_is_sent(
        provider: FakeProvider, client: VNeIDClient) -> None:
    # RFC 9207 mix-up defence: a response from another provider must not have its code redeemed at ours.
    with pytest.raises(Unauthenticated) as exc:
        await client.finish(code="c0de", code_verifier="v" * 64, nonce=NONCE, redirect_uri=REDIRECT,
                            issuer="https://attacker.example")
    assert exc.value.code == errors.RESPONSE_ISSUER_MISMATCH
    assert not provider.token_route.called
    identity = await client.finish(code="c0de", code_verifier="v" * 64, nonce=NONCE, redirect_uri=REDIRECT,
                                   issuer=ISSUER)
    assert identity.personal_id == PID


@pytest.mark.parametrize("error", ["invalid_request", "invalid_grant", "unauthorized_client"])
async def test_a_refused_pushed_request_is_our_configuration_fault(
        provider: FakeProvider, client: VNeIDClient, caplog: pytest.LogCaptureFixture, error: str) -> None:
    provider.meta["pushed_authorization_request_endpoint"] = f"{ISSUER}/par"
    provider.par_route.mock(return_value=httpx.Response(400, json={
        "error": error, "error_description": "Invalid parameter: redirect_uri"}))
    with caplog.at_level(logging.ERROR, logger="thudo.vneid"), pytest.raises(Unavailable) as exc:
        await client.begin(redirect_uri=REDIRECT)
    assert exc.value.code == errors.UNAVAILABLE  # 503 for the app, not "log in again"
    logged = " ".join(str(r.__dict__.get("reason", "")) for r in caplog.records)
    assert f"HTTP 400 {error}" in logged  # the operator learns what the provider said
    assert "top secret" not in logged


async def test_start_check_warns_about_what_the_provider_does_not_publish(
        provider: FakeProvider, client: VNeIDClient, caplog: pytest.LogCaptureFixture) -> None:
    provider.meta.update(acr_values_supported=["urn:vneid:loa:1", "urn:vneid:loa:2"],
                         scopes_supported=["openid", "profile", "citizen_id"],
                         claims_supported=["sub", "SoDinhDanh", "HoVaTen", "NgayThangNamSinh", "level"])
    with caplog.at_level(logging.WARNING, logger="thudo.vneid"):
        problems = await client.check_provider()
    assert len(problems) == 2
    assert all("acr value" in p for p in problems)
    assert "'2' is not in the provider's acr_values_supported" in caplog.text
    provider.meta["acr_values_supported"] = ["1", "2"]
    client.discovery = type(client.discovery)(client._http, ISSUER, ttl=0, timeout=5)
    assert await client.check_provider() == []


async def test_backchannel_calls_go_to_the_local_address(provider: FakeProvider) -> None:
    # The browser-facing issuer (PUBLIC_BASE_URL, e.g. an emulator's 10.0.2.2) is not reachable from the
    # server: discovery, token, JWKS and userinfo go to the local address; the authorization URL does not.
    public = "http://10.0.2.2:8000/dev/vneid"
    provider.meta = {k: v.replace(ISSUER, public) if isinstance(v, str) else v for k, v in provider.meta.items()}
    provider.id_token = provider.token(iss=public)
    config = VNeIDConfig(issuer=public, client_id=CLIENT_ID, redirect_uri=REDIRECT, client_auth="client_secret_post",
                         client_secret="s", backchannel_issuer=ISSUER)
    assert config.backchannel(public + "x") == public + "x"
    async with httpx.AsyncClient() as http:  # respx refuses any call to 10.0.2.2
        client = VNeIDClient(config, http)
        request = await client.begin(redirect_uri=REDIRECT)
        assert request.authorization_url.startswith(public + "/auth?")
        identity = await client.finish(code="c0de", code_verifier="v" * 64, nonce=NONCE, redirect_uri=REDIRECT,
                                       issuer=public)
    assert identity.issuer == public
    assert provider.token_route.called
