"""The stand-in as the real app mounts it (settings wiring), and its absence when stand-ins are off."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlsplit

import httpx

from adapters.dev.vneid_provider import DEMO_PEOPLE
from adapters.vneid import build_vneid_provider
from api.platform.app import create_app
from api.platform.settings import Settings
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
