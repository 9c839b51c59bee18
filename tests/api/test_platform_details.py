"""Small contract details: one charset per content type, a CSV Excel reads as UTF-8, a 415 that names
multipart, error codes that the status table lists, path ids named when malformed, and the feedback
guide's example landing where the demo staff member works."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from adapters.postgres.identity.seed import DEMO_GRANTS
from tests.support.auth import login, login_city_admin
from tests.support.feedback import R, categories, png, recent_period, submit
from tests.support.open311 import O311

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _one_charset(response: httpx.Response) -> str:
    ctype = response.headers["content-type"]
    assert ctype.lower().count("charset") == 1, ctype
    return ctype


def test_text_types_say_their_charset_once(http: httpx.Client, database_url: str) -> None:
    assert _one_charset(http.get("/metrics")).startswith("text/plain")
    assert _one_charset(http.get(f"{O311}/services.xml")).startswith("text/xml")
    admin = login_city_admin(http, database_url)
    exported = http.get("/api/v1/feedback/stats/export", params=recent_period(), headers=admin.headers)
    assert exported.status_code == 200
    assert _one_charset(exported).startswith("text/csv")
    # The UTF-8 byte order mark: Excel then reads Vietnamese unit names as UTF-8.
    assert exported.content.startswith(b"\xef\xbb\xbf")
    assert exported.content[3:].decode().startswith("unit_")


def test_upload_not_sent_as_multipart_is_415_naming_multipart(http: httpx.Client, clean_db: str) -> None:
    citizen = login(http)
    report = submit(http, citizen)
    r = http.post(f"{R}/{report['id']}/photos", content=png(),
                  headers={**citizen.headers, "Content-Type": "image/jpeg"})
    assert r.status_code == 415
    assert r.json()["code"] == "unsupported_media_type"
    assert "multipart/form-data" in r.json()["detail"]


def _status_table_codes() -> set[str]:
    guide = (DOCS / "api-guide.md").read_text()
    table = guide.split("Statuses used everywhere:")[1].split("\n\n")[1]
    return set(re.findall(r"`([a-z_.]+)`", table))


def test_tampered_cursor_answers_a_code_of_the_status_table(http: httpx.Client) -> None:
    citizen = login(http)
    r = http.get(R, params={"cursor": "bm90LWEtY3Vyc29y"}, headers=citizen.headers)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] in _status_table_codes()
    assert [(e["field"], e["rule"]) for e in body["errors"]] == [("cursor", "cursor")]


def test_malformed_uuid_in_a_path_names_the_parameter(http: httpx.Client) -> None:
    citizen = login(http)
    r = http.get(f"{R}/not-a-uuid", headers=citizen.headers)
    assert r.status_code == 422
    assert r.json()["code"] == "validation_failed"
    assert [(e["field"], e["rule"]) for e in r.json()["errors"]] == [("report_id", "format")]
    # A path no route has stays a 404.
    assert http.get("/api/v1/no-such-thing/not-a-uuid").json()["code"] == "route_not_found"


def test_feedback_guide_example_reaches_the_demo_ward_officer(http: httpx.Client, clean_db: str) -> None:
    guide = (DOCS / "api-guide-feedback.md").read_text().split("### Submit")[1]
    lat, lon, address = re.search(r'"lat": ([\d.]+), "lon": ([\d.]+), "address": "([^"]+)"', guide).groups()
    citizen = login(http)
    body = {"category_id": categories(http)["ROAD_DAMAGE"]["id"], "description": "Ổ gà lớn giữa làn xe máy",
            "lat": float(lat), "lon": float(lon), "address": address, "answers": {"size": "large"}}
    report = http.post(R, json=body, headers=citizen.headers).json()
    unit = http.get(f"/api/v1/units/{report['unit_id']}").json()
    handlers = {code for _, role, code in DEMO_GRANTS if role == "handler"}
    assert unit["code"] in handlers, unit
    assert f"<{unit['name_vi']}>" in guide
