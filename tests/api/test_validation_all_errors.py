"""Validation errors list every problem at once (issue 10 #16): msgspec stops at the first, the body's
second pass (``api.platform.body.every_problem``) names them all, and nothing is written."""

from __future__ import annotations

import httpx

from tests.support.auth import login
from tests.support.feedback import R, report_body, sql


def test_four_bad_fields_give_four_errors(http: httpx.Client, database_url: str) -> None:
    citizen = login(http)
    body = {**report_body(http), "description": "ngắn", "lat": 91, "lon": "105.8", "colour": "red"}
    r = http.post(R, json=body, headers=citizen.headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    errors = {(e["field"], e["rule"]) for e in r.json()["errors"]}
    assert errors == {("description", "min_length"), ("lat", "maximum"), ("lon", "type"),
                      ("colour", "unknown_field")}, r.text
    assert all(e["message"] for e in r.json()["errors"])
    assert sql(database_url, "SELECT count(*) FROM feedback_reports WHERE reporter_id = $1", citizen.user_id) == 0


def test_missing_and_nested_problems_are_listed_with_their_paths(http: httpx.Client) -> None:
    citizen = login(http)
    body = {k: v for k, v in report_body(http).items() if k != "category_id"}
    body["answers"] = {"x" * 65: "y"}
    body["ward_id"] = "not-a-uuid"
    r = http.post(R, json=body, headers=citizen.headers)
    assert r.status_code == 422, r.text
    fields = {(e["field"], e["rule"]) for e in r.json()["errors"]}
    assert ("category_id", "required") in fields
    assert ("ward_id", "format") in fields
    assert any(f.startswith("answers") and rule == "max_length" for f, rule in fields), fields
    assert len(fields) == 3


def test_one_bad_field_is_still_one_error(http: httpx.Client) -> None:
    citizen = login(http)
    r = http.post(R, json={**report_body(http), "lat": "21"}, headers=citizen.headers)
    assert r.status_code == 422
    assert [(e["field"], e["rule"]) for e in r.json()["errors"]] == [("lat", "type")]
