"""The VNeID adapter against the local stand-in over real HTTP (a live uvicorn thread)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from litestar import Litestar

from adapters.dev.vneid_provider import DEMO_PEOPLE, StandInProvider, vneid_standin_router
from adapters.dev.vneid_release import parse_release
from adapters.vneid import VNeIDClient, build_vneid_provider, config_from_settings, errors
from adapters.vneid.keys import new_ec_key, new_rsa_key
from adapters.vneid.tokens import validate_id_token
from api.platform.settings import Settings, load_settings
from domain.errors import Unauthenticated, Unavailable
from tests.support.live import free_port, serve

SECRET = "s3cret-for-tests"
LEVEL2, LEVEL1 = DEMO_PEOPLE[0], DEMO_PEOPLE[1]


@dataclasses.dataclass
class StandIn:
    settings: Settings
    provider: StandInProvider
    base: str

    @property
    def issuer(self) -> str:
        return self.base + "/dev/vneid"


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIn]:
    port = free_port()
    settings = load_settings({}, port=port, data_dir=Path(tmp_path_factory.mktemp("vneid")), standins=True,
                             database_url="postgresql://unused", vneid_client_secret=SECRET,
                             vneid_jwks_cooldown_seconds=60, log_level="WARNING")
    router = vneid_standin_router(settings)
    with serve(Litestar(route_handlers=[router]), port) as base:
        yield StandIn(settings, router.opt["vneid_standin"], base)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


def client_for(standin: StandIn, http: httpx.AsyncClient, **changes: Any) -> VNeIDClient:
    settings = dataclasses.replace(standin.settings, **changes)
    return build_vneid_provider(settings, http)


async def authorize(http: httpx.AsyncClient, url: str, personal_id: str) -> dict[str, str]:
    response = await http.get(url + "&login_hint=" + personal_id, follow_redirects=False)
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


async def login(client: VNeIDClient, http: httpx.AsyncClient, personal_id: str = LEVEL2.personal_id,
                **finish: str) -> Any:
    redirect = client.config.redirect_uri
    request = await client.begin(redirect_uri=redirect)
    back = await authorize(http, request.authorization_url, personal_id)
    assert back["state"] == request.state
    args = {"code": back["code"], "code_verifier": request.code_verifier, "nonce": request.nonce,
            "redirect_uri": redirect, **finish}
    return await client.finish(**args)


async def test_full_login_with_par_returns_the_identity(standin: StandIn, http: httpx.AsyncClient) -> None:
    client = client_for(standin, http)
    request = await client.begin(redirect_uri=client.config.redirect_uri)
    query = parse_qs(urlsplit(request.authorization_url).query)
    assert set(query) == {"client_id", "request_uri"}  # PAR: nothing else travels through the browser
    assert request.authorization_url.startswith(standin.issuer + "/authorize?")
    assert len(request.state) >= 43
    assert len(request.nonce) >= 43
    assert request.state != request.nonce
    back = await authorize(http, request.authorization_url, LEVEL2.personal_id)
    assert back["iss"] == standin.issuer
    identity = await client.finish(code=back["code"], code_verifier=request.code_verifier, nonce=request.nonce,
                                   redirect_uri=client.config.redirect_uri)
    assert identity.issuer == standin.issuer
    assert identity.personal_id == LEVEL2.personal_id
    assert identity.full_name == LEVEL2.full_name
    assert str(identity.date_of_birth) == "1985-03-12"
    assert identity.level == 2
    assert identity.subject == standin.provider.subject(LEVEL2.personal_id)


async def test_plain_authorization_request_when_par_is_not_advertised(standin: StandIn,
                                                                      http: httpx.AsyncClient) -> None:
    standin.provider.advertise_par = False
    try:
        client = client_for(standin, http)
        request = await client.begin(redirect_uri=client.config.redirect_uri, level=1)
        query = parse_qs(urlsplit(request.authorization_url).query)
        assert query["code_challenge_method"] == ["S256"]
        assert query["acr_values"] == ["1"]
        assert "code_verifier" not in query
        assert query["nonce"] == [request.nonce]
        back = await authorize(http, request.authorization_url, LEVEL1.personal_id)
        identity = await client.finish(code=back["code"], code_verifier=request.code_verifier,
                                       nonce=request.nonce, redirect_uri=client.config.redirect_uri)
        assert identity.level == 1
    finally:
        standin.provider.advertise_par = True


async def test_person_picked_on_the_consent_page(standin: StandIn, http: httpx.AsyncClient) -> None:
    client = client_for(standin, http)
    request = await client.begin(redirect_uri=client.config.redirect_uri)
    page = await http.get(request.authorization_url)
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert all(p.full_name in page.text for p in DEMO_PEOPLE)
    pending = page.text.split('name="pending" value="')[1].split('"')[0]
    staff = DEMO_PEOPLE[2]
    approved = await http.post(request.authorization_url.split("?")[0],
                               data={"pending": pending, "personal_id": staff.personal_id})
    assert approved.status_code == 303
    back = {k: v[0] for k, v in parse_qs(urlsplit(approved.headers["location"]).query).items()}
    identity = await client.finish(code=back["code"], code_verifier=request.code_verifier, nonce=request.nonce,
                                   redirect_uri=client.config.redirect_uri)
    assert identity.personal_id == staff.personal_id
    replay = await http.post(request.authorization_url.split("?")[0],
                             data={"pending": pending, "personal_id": staff.personal_id})
    assert replay.status_code == 400  # the consent page is single use too


async def test_ad_hoc_person_registered_through_the_helper(standin: StandIn, http: httpx.AsyncClient) -> None:
    pid = "0012" + "".join(secrets.choice("0123456789") for _ in range(8))
    created = await http.post(standin.issuer + "/people", json={
        "personal_id": pid, "full_name": "Đỗ  Thị Hoa", "date_of_birth": "01/02/2003", "level": 1})
    assert created.status_code == 201
    identity = await login(client_for(standin, http), http, pid)
    assert (identity.personal_id, identity.full_name, identity.level) == (pid, "Đỗ Thị Hoa", 1)
    bad = await http.post(standin.issuer + "/people", json={"personal_id": "123", "full_name": "x",
                                                           "date_of_birth": "01/02/2003", "level": 3})
    assert bad.status_code == 400  # a bare Litestar app answers validation errors with 400
    assert "123" not in standin.provider.people


@pytest.mark.parametrize("verifier", ["", "w" * 60])
async def test_missing_or_wrong_code_verifier_is_refused(standin: StandIn, http: httpx.AsyncClient,
                                                         verifier: str) -> None:
    with pytest.raises(Unauthenticated) as exc:
        await login(client_for(standin, http), http, code_verifier=verifier)
    assert exc.value.code == errors.CODE_REJECTED


async def test_reused_code_is_refused(standin: StandIn, http: httpx.AsyncClient) -> None:
    client = client_for(standin, http)
    request = await client.begin(redirect_uri=client.config.redirect_uri)
    back = await authorize(http, request.authorization_url, LEVEL2.personal_id)
    args = {"code": back["code"], "code_verifier": request.code_verifier, "nonce": request.nonce,
            "redirect_uri": client.config.redirect_uri}
    assert (await client.finish(**args)).personal_id == LEVEL2.personal_id
    with pytest.raises(Unauthenticated) as exc:
        await client.finish(**args)
    assert exc.value.code == errors.CODE_REJECTED


async def test_redirect_uri_must_match_the_authorization_request(standin: StandIn, http: httpx.AsyncClient) -> None:
    with pytest.raises(Unauthenticated) as exc:
        await login(client_for(standin, http), http, redirect_uri="https://evil.example/cb")
    assert exc.value.code == errors.CODE_REJECTED


async def test_nonce_mismatch_is_refused(standin: StandIn, http: httpx.AsyncClient) -> None:
    with pytest.raises(Unauthenticated) as exc:
        await login(client_for(standin, http), http, nonce=secrets.token_urlsafe(32))
    assert exc.value.code == errors.NONCE_MISMATCH


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_client_secret_fallbacks(standin: StandIn, http: httpx.AsyncClient, method: str) -> None:
    identity = await login(client_for(standin, http, vneid_client_auth=method), http)
    assert identity.level == 2
    with pytest.raises(Unavailable) as exc:
        await login(client_for(standin, http, vneid_client_auth=method, vneid_client_secret="wrong"), http)
    assert exc.value.code == errors.UNAVAILABLE


async def test_unregistered_client_key_is_refused(standin: StandIn, http: httpx.AsyncClient) -> None:
    config = config_from_settings(standin.settings)
    client = VNeIDClient(config, http, client_key=new_ec_key())
    with pytest.raises(Unavailable) as exc:
        await client.begin(redirect_uri=config.redirect_uri)  # PAR needs client authentication
    assert exc.value.code == errors.UNAVAILABLE


async def test_discovery_naming_another_issuer_is_refused(standin: StandIn, http: httpx.AsyncClient) -> None:
    # Same document, but our configuration says ".../dev/vneid/": the exact comparison must fail.
    client = client_for(standin, http, vneid_issuer=standin.issuer + "/")
    with pytest.raises(Unavailable) as exc:
        await client.begin(redirect_uri=client.config.redirect_uri)
    assert exc.value.code == errors.DISCOVERY_INVALID


async def test_key_rotation_at_the_provider_costs_one_refetch(standin: StandIn, http: httpx.AsyncClient) -> None:
    client = client_for(standin, http)
    await login(client, http)
    assert client.jwks.fetches == 1
    before = standin.provider.jwks_requests
    rotated = await http.post(standin.issuer + "/rotate-keys", json={"keep_old": False})
    assert rotated.status_code == 200
    assert len(rotated.json()["kids"]) == 1
    assert (await login(client, http)).level == 2
    assert client.jwks.fetches == 2
    assert standin.provider.jwks_requests == before + 1
    await login(client, http)
    assert client.jwks.fetches == 2  # the new key is cached now


def _bogus_token(issuer: str, client_id: str, key: Any) -> str:
    now = int(time.time())
    return jwt.encode({"iss": issuer, "sub": "x", "aud": client_id, "iat": now, "exp": now + 60, "nonce": "n"},
                      key, algorithm="RS256", headers={"kid": secrets.token_urlsafe(8)})


async def test_flood_of_unknown_kids_fetches_once_per_cooldown(standin: StandIn, http: httpx.AsyncClient) -> None:
    client = client_for(standin, http, vneid_jwks_cooldown_seconds=1)
    await login(client, http)
    key = new_rsa_key()
    tokens = [_bogus_token(standin.issuer, client.config.client_id, key) for _ in range(50)]

    async def attempt(token: str) -> str:
        try:
            await validate_id_token(token, config=client.config, jwks=client.jwks, nonce="n", access_token=None)
        except Unauthenticated as exc:
            return exc.code
        return "accepted"

    before = standin.provider.jwks_requests
    codes = await asyncio.gather(*(attempt(t) for t in tokens))
    assert set(codes) == {errors.KEY_UNKNOWN}
    assert standin.provider.jwks_requests - before == 1
    codes = await asyncio.gather(*(attempt(t) for t in tokens))  # still inside the cool-down
    assert standin.provider.jwks_requests - before == 1
    await asyncio.sleep(1.05)
    await asyncio.gather(*(attempt(t) for t in tokens))
    assert standin.provider.jwks_requests - before == 2
    assert (await login(client, http)).level == 2  # real tokens are unaffected by the flood


async def test_token_endpoint_rejects_a_replayed_client_assertion(standin: StandIn, http: httpx.AsyncClient) -> None:
    client = client_for(standin, http)
    meta = await client.discovery.get()
    assertion = client.client_assertion(meta)
    claims = jwt.decode(assertion, options={"verify_signature": False})
    assert claims["iss"] == claims["sub"] == standin.settings.vneid_client_id
    assert claims["aud"] == standin.issuer
    assert 0 < claims["exp"] - claims["iat"] <= 120
    form = {"grant_type": "authorization_code", "code": "x", "redirect_uri": "https://a.example/cb",
            "code_verifier": "v" * 43, "client_id": standin.settings.vneid_client_id,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion}
    first = await http.post(meta.token_endpoint, data=form)
    assert first.status_code == 400
    assert first.json() == {"error": "invalid_grant"}
    second = await http.post(meta.token_endpoint, data=form)
    assert second.status_code == 401
    assert second.json() == {"error": "invalid_client"}


async def test_userinfo_requires_a_valid_access_token(standin: StandIn, http: httpx.AsyncClient) -> None:
    response = await http.get(standin.issuer + "/userinfo", headers={"Authorization": "Bearer forged"})
    assert response.status_code == 401
    assert "invalid_token" in response.headers["www-authenticate"]


async def test_unknown_client_gets_an_error_page_not_a_redirect(standin: StandIn, http: httpx.AsyncClient) -> None:
    response = await http.get(standin.issuer + "/authorize", params={
        "client_id": "intruder", "redirect_uri": "https://evil.example/cb", "response_type": "code"})
    assert response.status_code == 400
    assert "location" not in response.headers


async def test_openid_alone_releases_no_profile_claims(standin: StandIn, http: httpx.AsyncClient) -> None:
    # OIDC Core 5.4, as a standard provider does it: the old default VNEID_SCOPES=openid cannot log in.
    meta = (await http.get(standin.issuer + "/.well-known/openid-configuration")).json()
    assert meta["scopes_supported"] == ["openid", "profile", "citizen_id"]
    assert {"SoDinhDanh", "HoVaTen", "NgayThangNamSinh"} <= set(meta["claims_supported"])
    assert meta["acr_values_supported"] == ["1", "2"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    with pytest.raises(Unauthenticated) as exc:
        await login(client_for(standin, http, vneid_scopes=("openid",)), http)
    assert exc.value.code == errors.CLAIMS_INVALID
    with pytest.raises(Unauthenticated) as exc:  # the name without the personal id is not enough either
        await login(client_for(standin, http, vneid_scopes=("openid", "profile")), http)
    assert exc.value.code == errors.CLAIMS_INVALID
    identity = await login(client_for(standin, http), http)  # the defaults ask for what carries the claims
    assert identity.personal_id == LEVEL2.personal_id


async def test_claim_names_and_acr_values_follow_the_published_release(tmp_path: Path,
                                                                       http: httpx.AsyncClient) -> None:
    release = parse_release(json.dumps({
        "scopes": {"profile": {"full_name": "name", "date_of_birth": "birthdate"},
                   "vneid": {"personal_id": "personal_identification_number"}},
        "acr": {"1": "urn:vneid:loa:basic", "2": "urn:vneid:loa:full"}}))
    port = free_port()
    settings = load_settings({}, port=port, data_dir=tmp_path, standins=True, database_url="postgresql://unused",
                             log_level="WARNING", vneid_scopes=("openid", "profile", "vneid"),
                             vneid_claims={"personal_id": "personal_identification_number", "full_name": "name",
                                           "date_of_birth": "birthdate", "level": "level"},
                             vneid_acr_levels={"urn:vneid:loa:basic": 1, "urn:vneid:loa:full": 2})
    settings.extra["vneid_standin_release"] = release
    with serve(Litestar(route_handlers=[vneid_standin_router(settings)]), port):
        client = build_vneid_provider(settings, http)
        meta = await client.discovery.get()
        assert meta.acr_values_supported == ["urn:vneid:loa:basic", "urn:vneid:loa:full"]
        assert await client.check_provider() == []
        identity = await login(client, http, LEVEL1.personal_id)
        assert (identity.personal_id, identity.full_name, identity.level) == (LEVEL1.personal_id,
                                                                              LEVEL1.full_name, 1)
        assert str(identity.date_of_birth) == "1992-07-25"
        mismatched = build_vneid_provider(dataclasses.replace(settings, vneid_acr_levels={"1": 1, "2": 2}), http)
        problems = await mismatched.check_provider()  # the operator is warned at start
        assert sum("acr value" in p for p in problems) == 2
        assert any("claim 'level'" in p for p in problems)  # then the level would come from a missing claim


async def test_unregistered_redirect_uri_at_par_is_our_configuration_fault(standin: StandIn,
                                                                           http: httpx.AsyncClient) -> None:
    client = client_for(standin, http)
    with pytest.raises(Unavailable) as exc:  # 503, not "log in again": no user can fix this
        await client.begin(redirect_uri="https://unregistered.example/cb")
    assert exc.value.code == errors.UNAVAILABLE


async def test_cancel_redirects_with_access_denied(standin: StandIn, http: httpx.AsyncClient) -> None:
    client = client_for(standin, http)
    request = await client.begin(redirect_uri=client.config.redirect_uri)
    page = await http.get(request.authorization_url)
    pending = page.text.split('name="pending" value="')[1].split('"')[0]
    cancelled = await http.post(request.authorization_url.split("?")[0], data={"pending": pending, "action": "cancel"})
    assert cancelled.status_code == 303
    back = {k: v[0] for k, v in parse_qs(urlsplit(cancelled.headers["location"]).query).items()}
    assert back == {"error": "access_denied", "state": request.state, "iss": standin.issuer}
