"""The stand-in as the real app mounts it (settings wiring), and its absence when stand-ins are off."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlsplit

import httpx

from adapters.dev.vneid_provider import DEMO_PEOPLE
from adapters.vneid import build_vneid_provider
from api.platform.app import create_app
from api.platform.settings import Settings
from tests.support.auth import register_person
from tests.support.live import free_port, serve


async def test_app_mounts_the_standin_and_the_factory_logs_in_through_it(base_url: str, settings: Settings) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        meta = (await http.get(base_url + "/dev/vneid/.well-known/openid-configuration")).json()
        assert meta["issuer"] == settings.base_url + "/dev/vneid"
        schema = (await http.get(base_url + "/schema/openapi.json")).json()
        assert not [p for p in schema["paths"] if p.startswith("/dev/vneid")]  # imitates an external system
        client = build_vneid_provider(settings, http)
        assert client.config.redirect_uri == settings.vneid_redirect_url
        request = await client.begin(redirect_uri=settings.vneid_redirect_url)
        admin = DEMO_PEOPLE[3]
        back = await http.get(request.authorization_url + "&login_hint=" + admin.personal_id)
        location = back.headers["location"]
        assert location.startswith(settings.base_url + "/dev/vneid/app-callback?")
        page = await http.get(location)
        assert page.status_code == 200
        code = parse_qs(urlsplit(location).query)["code"][0]
        assert code in page.text  # the development callback page shows what the app would receive
        identity = await client.finish(code=code, code_verifier=request.code_verifier, nonce=request.nonce,
                                       redirect_uri=settings.vneid_redirect_url)
        assert identity.personal_id == admin.personal_id
        assert identity.level == 2


def test_standin_is_absent_when_standins_are_off(settings: Settings) -> None:
    port = free_port()
    off = dataclasses.replace(settings, standins=False, port=port, vneid_issuer="https://vneid.invalid/realm")
    with serve(create_app(off), port) as url:
        for path in ("/dev/vneid/.well-known/openid-configuration", "/dev/vneid/jwks", "/dev/vneid/authorize"):
            response = httpx.get(url + path, timeout=10)
            assert response.status_code == 404
            assert response.headers["content-type"].startswith("application/problem+json")
        created = httpx.post(url + "/dev/vneid/people", json={"personal_id": "001085999999", "full_name": "X",
                                                              "date_of_birth": "01/01/1990", "level": 2}, timeout=10)
        assert created.status_code in (404, 405)


def test_people_helper_rejects_bad_input_with_a_problem(base_url: str) -> None:
    bad = {"personal_id": "00108500010", "full_name": "Nguyễn Văn Sai", "date_of_birth": "1990-01-01", "level": 3,
           "role": "admin"}
    response = httpx.post(base_url + "/dev/vneid/people", json=bad, timeout=10)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "00108500010" not in response.text  # the personal id is not echoed back
    page = httpx.get(base_url + "/dev/vneid/people", timeout=10)
    assert page.status_code == 405  # nothing lists registered people


def test_login_works_with_public_base_url_set_to_an_emulators_host_address(settings: Settings) -> None:
    # An Android emulator reaches the developer's machine as 10.0.2.2, which the server itself cannot
    # reach: browser-facing URLs use PUBLIC_BASE_URL, server-side calls to the stand-in the local address.
    port = free_port()
    public = "http://10.0.2.2:8000"
    emulator = dataclasses.replace(settings, port=port, public_base_url=public, vneid_http_timeout_seconds=2)
    with serve(create_app(emulator), port) as local, httpx.Client(base_url=local, timeout=10) as http:
        personal_id = register_person(http)
        start = http.post("/api/v1/auth/vneid/start", json={"level": 2})
        assert start.status_code == 200, start.text
        url = start.json()["authorization_url"]
        assert url.startswith(public + "/dev/vneid/authorize?")  # what the emulator's browser opens
        auth = http.get(url.replace(public, local) + f"&login_hint={personal_id}", follow_redirects=False)
        location = auth.headers["location"]
        assert location.startswith(public + "/dev/vneid/app-callback?")
        back = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        assert back["iss"] == public + "/dev/vneid"
        done = http.post("/api/v1/auth/vneid/callback", json={
            "transaction_id": start.json()["transaction_id"], "code": back["code"], "state": back["state"],
            "iss": back["iss"]})
        assert done.status_code == 200, done.text
        assert http.get("/api/v1/me", headers={"Authorization": "Bearer " + done.json()["access_token"]}
                        ).status_code == 200
