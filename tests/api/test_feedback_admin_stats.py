"""Category administration, public feed visibility, re-routing, duplicates, statistics and CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from tests.support.auth import login, login_city_admin, login_staff
from tests.support.feedback import HOAN_KIEM, R, S, category_body, jpeg_with_gps, recent_period, sql, submit, upload

ADMIN = "/api/v1/admin/feedback/categories"
FEED = "/api/v1/public/feedback/reports"
WARD = "W00058"


def test_city_admin_manages_categories(http: httpx.Client, database_url: str) -> None:
    admin = login_city_admin(http, database_url)
    staff = login_staff(http, database_url, WARD, "unit_admin")
    citizen = login(http)
    body = category_body(department_id=str(sql(database_url, "SELECT id FROM units WHERE code = 'S-GTVT'")),
                     route_to_department=True)
    for who in (citizen, staff):
        assert http.post(ADMIN, json=body, headers=who.headers).status_code == 403
    created = http.post(ADMIN, json=body, headers={**admin.headers, "Idempotency-Key": "cat-1"})
    assert created.status_code == 201, created.text
    assert http.post(ADMIN, json=body, headers={**admin.headers, "Idempotency-Key": "cat-1"}).json() == created.json()
    assert http.post(ADMIN, json=body, headers=admin.headers).status_code == 409  # code taken
    cid = created.json()["id"]
    listed = {c["code"] for c in http.get("/api/v1/public/feedback/categories").json()}
    assert body["code"] in listed

    report = http.post(R, json={"category_id": cid, "description": "Biển báo dừng bị gãy", **HOAN_KIEM,
                                "answers": {"kind": "stop"}}, headers=citizen.headers)
    assert report.status_code == 201, report.text
    assert sql(database_url, "SELECT code FROM units WHERE id = $1::uuid", report.json()["unit_id"]) == "S-GTVT"

    before = sql(database_url, "SELECT count(*) FROM feedback_categories")
    for bad, status in [
        (category_body(questions=[{"code": "k", "datatype": "singlevaluelist", "label_vi": "Loại", "label_en": "K"}]),
         422),
        (category_body(sla={"normal_hours": 16, "complex_hours": 40, "urgent_hours": 8}), 422),
        (category_body(questions=[{"code": "k", "datatype": "colour", "label_vi": "Màu", "label_en": "Co"}]), 422),
        (category_body(extra=1), 422),
        (category_body(route_to_department=True), 422),
        (category_body(department_id=str(sql(database_url, "SELECT id FROM units WHERE code = 'D001'"))), 422),
    ]:
        r = http.post(ADMIN, json=bad, headers=admin.headers)
        assert r.status_code == status, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    assert sql(database_url, "SELECT count(*) FROM feedback_categories") == before

    updated = http.put(f"{ADMIN}/{cid}", json={**body, "active": False}, headers=admin.headers)
    assert updated.status_code == 200, updated.text
    assert body["code"] not in {c["code"] for c in http.get("/api/v1/public/feedback/categories").json()}
    assert body["code"] in {c["code"] for c in http.get(ADMIN, headers=admin.headers).json()}
    assert http.put(f"{ADMIN}/{cid}", json=body, headers=staff.headers).status_code == 403
    missing = http.put(f"{ADMIN}/00000000-0000-7000-8000-000000000000", json=category_body(), headers=admin.headers)
    assert missing.status_code == 404


def _handled(http: httpx.Client, staff: Any, citizen: Any, **kw: Any) -> str:
    rid: str = submit(http, citizen, **kw)["id"]
    assert upload(http, citizen, f"{R}/{rid}/photos", jpeg_with_gps()).status_code == 201
    assert http.post(f"{S}/{rid}/acknowledge", headers=staff.headers).status_code == 200
    ev = upload(http, staff, f"{S}/{rid}/evidence", jpeg_with_gps()).json()
    r = http.post(f"{S}/{rid}/handle", json={"reply": "Đã giải tỏa, trả lại vỉa hè", "evidence_ids": [ev["id"]]},
                  headers=staff.headers)
    assert r.status_code == 200, r.text
    return rid


def test_public_feed_shows_only_public_handled_reports(http: httpx.Client, database_url: str) -> None:
    citizen = login(http)
    staff = login_staff(http, database_url, WARD, "supervisor")
    public = _handled(http, staff, citizen)
    private = _handled(http, staff, citizen, publishable=False)
    pending = submit(http, citizen)["id"]
    near = http.get(FEED, params={**HOAN_KIEM, "radius_m": 300}).json()
    ids = [i["id"] for i in near["items"]]
    assert public in ids
    assert private not in ids
    assert pending not in ids
    item = next(i for i in near["items"] if i["id"] == public)
    assert "reporter_id" not in item
    assert "answers" not in item
    assert http.get(item["photos"][0]["url"]).status_code == 200
    assert http.get(item["evidence"][0]["thumbnail_url"]).status_code == 200
    ward = sql(database_url, "SELECT id FROM units WHERE code = $1", WARD)
    assert public in [i["id"] for i in http.get(FEED, params={"ward_id": str(ward)}).json()["items"]]
    hide = http.post(f"{S}/{public}/visibility", json={"hidden": True, "reason": "Ảnh có biển số xe"},
                     headers=staff.headers)
    assert hide.status_code == 200
    assert http.get(f"{FEED}/{public}").status_code == 404
    assert http.get(item["photos"][0]["url"]).status_code == 404
    # The reporter still reads their own photos through the authorised URL.
    own = http.get(f"{R}/{public}", headers=citizen.headers).json()
    assert http.get(own["photos"][0]["url"], headers=citizen.headers).status_code == 200


def test_change_category_reroutes_and_mark_duplicate(http: httpx.Client, database_url: str) -> None:
    citizen, other = login(http), login(http)
    staff = login_staff(http, database_url, WARD, "handler")
    rid = submit(http, citizen)["id"]
    cats = {c["code"]: c["id"] for c in http.get("/api/v1/public/feedback/categories").json()}
    moved = http.post(f"{S}/{rid}/category", json={"category_id": cats["STREET_LIGHT"], "reason": "Đèn, không phải "
                                                   "vỉa hè"}, headers=staff.headers)
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "transferred"
    assert sql(database_url, "SELECT code FROM units WHERE id = $1::uuid", moved.json()["unit_id"]) == "HAPULICO"
    original = submit(http, other)["id"]
    second = submit(http, citizen)["id"]
    dup = http.post(f"{S}/{second}/duplicate", json={"original_id": original}, headers=staff.headers)
    assert dup.status_code == 200, dup.text
    assert dup.json()["duplicate_of"] == original
    following = http.get("/api/v1/feedback/following", headers=citizen.headers).json()["items"]
    assert original in [i["id"] for i in following]
    templates = http.get("/api/v1/staff/feedback/reply-templates", params={"kind": "reject"}, headers=staff.headers)
    assert {t["kind"] for t in templates.json()} == {"reject"}


def test_statistics_and_csv(http: httpx.Client, database_url: str) -> None:
    citizen = login(http)
    staff = login_staff(http, database_url, WARD, "supervisor")
    outsider = login_staff(http, database_url, "D005", "supervisor")
    admin = login_city_admin(http, database_url)
    rid = _handled(http, staff, citizen)
    assert http.post(f"{R}/{rid}/rating", json={"score": 4}, headers=citizen.headers).status_code == 201
    unit = str(sql(database_url, "SELECT id FROM units WHERE code = $1", WARD))
    period = recent_period()
    mine = http.get("/api/v1/feedback/stats", params={**period, "unit_id": unit}, headers=staff.headers)
    assert mine.status_code == 200, mine.text
    total = mine.json()["total"]
    assert total["received"] >= 1
    assert total["handled"] >= 1
    assert total["on_time_pct"] == 100.0
    assert total["satisfaction_pct"] is not None
    assert total["avg_handling_hours"] is not None
    for who, params in [(outsider, {**period, "unit_id": unit}), (staff, period), (citizen, period)]:
        assert http.get("/api/v1/feedback/stats", params=params, headers=who.headers).status_code == 403
    city = http.get("/api/v1/feedback/stats", params=period, headers=admin.headers).json()
    assert unit in [u["unit_id"] for u in city["units"]]
    exported = http.get("/api/v1/feedback/stats/export", params={**period, "unit_id": unit}, headers=staff.headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows[0]["unit_code"] == WARD
    assert int(rows[-1]["handled"]) >= 1
