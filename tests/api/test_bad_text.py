"""Text PostgreSQL cannot store (NUL) and bytes that are not UTF-8: a 4xx naming the field, never a 500,
and nothing written (issue 10 #2: asyncpg's CharacterNotInRepertoireError used to surface as 500)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.auth import login
from tests.support.feedback import R, report_body, sql
from tests.support.open311 import issue_key, post_request


def _field(r: httpx.Response) -> str:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return str(r.json()["errors"][0]["field"])


def test_nul_in_a_json_body_names_the_field_and_writes_nothing(http: httpx.Client, database_url: str) -> None:
    citizen = login(http)
    body = report_body(http, description="Ổ gà\u0000 giữa đường")
    assert _field(http.post(R, json=body, headers=citizen.headers)) == "description"
    nested = report_body(http, "FALLEN_TREE", answers={"blocking_road": "y\u0000es"})
    assert _field(http.post(R, json=nested, headers=citizen.headers)) == "answers.blocking_road"
    assert sql(database_url, "SELECT count(*) FROM feedback_reports WHERE reporter_id = $1", citizen.user_id) == 0


@pytest.mark.parametrize(("query", "field"), [("cursor=%00", "cursor"), ("limit=1&cursor=a%00b", "cursor"),
                                              ("cursor=%FF%FE", "cursor")])
def test_nul_or_non_utf8_in_a_query_parameter(http: httpx.Client, query: str, field: str) -> None:
    citizen = login(http)
    assert _field(http.get(f"{R}?{query}", headers=citizen.headers)) == field


def test_nul_in_a_path(http: httpx.Client) -> None:
    assert http.get("/open311/v2/requests/PA%00.json").status_code in (400, 404, 422)
    r = http.get("/open311/v2/services/%00.json")
    assert r.status_code < 500
    assert r.headers["content-type"].startswith("application/json")


def test_nul_in_open311_fields_is_an_open311_error(http: httpx.Client, database_url: str) -> None:
    key = issue_key(http, database_url)
    before = sql(database_url, "SELECT count(*) FROM open311_requests")  # other tests share the database
    r = http.get("/open311/v2/requests.json", params={"service_request_id": "PA\x00"})
    assert r.status_code == 400, r.text
    assert "service_request_id" in r.text
    posted = post_request(http, key, description="vỉa hè\x00")
    assert posted.status_code == 400, posted.text
    assert "description" in posted.text
    assert sql(database_url, "SELECT count(*) FROM open311_requests") == before
