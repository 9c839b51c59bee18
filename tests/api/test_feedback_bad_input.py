"""Bad input per feedback endpoint: problem+json 4xx naming the field, and nothing written."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.support.auth import login, login_city_admin, login_staff
from tests.support.feedback import R, S, jpeg_with_gps, png, report_body, sql, submit, upload


def _count(database_url: str, table: str) -> int:
    return int(sql(database_url, f"SELECT count(*) FROM {table}"))


def _problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(("change", "field", "rule"), [
    ({"lat": 10.776, "lon": 106.700}, "lat", "outside_hanoi"),           # Ho Chi Minh City
    ({"lon": 106.5}, "lon", "outside_hanoi"),
    ({"lat": 91}, "lat", "maximum"),
    ({"description": "ngắn"}, "description", "min_length"),
    ({"colour": "red"}, "colour", "unknown_field"),
    ({"answers": {"x": 1}}, "answers.x", "unknown_field"),
    ({"category_id": "00000000-0000-7000-8000-000000000000"}, "category_id", "unknown_category"),
    ({"ward_id": "00000000-0000-7000-8000-000000000000"}, "ward_id", "unknown_ward"),
    ({"publishable": "yes"}, "publishable", "type"),
])
def test_create_report_rejects(http: httpx.Client, database_url: str, change: dict[str, Any], field: str,
                               rule: str) -> None:
    citizen = login(http)
    before = _count(database_url, "feedback_reports")
    body = _problem(http.post(R, json={**report_body(http), **change}, headers=citizen.headers), 422)
    assert (body["errors"][0]["field"], body["errors"][0]["rule"]) == (field, rule)
    assert _count(database_url, "feedback_reports") == before


def test_category_questions_are_enforced(http: httpx.Client, database_url: str) -> None:
    citizen = login(http)
    before = _count(database_url, "feedback_reports")
    missing = _problem(http.post(R, json=report_body(http, "ROAD_DAMAGE"), headers=citizen.headers), 422)
    assert missing["errors"][0] == {**missing["errors"][0], "field": "answers.size", "rule": "required"}
    wrong = _problem(http.post(R, json=report_body(http, "ROAD_DAMAGE", answers={"size": "huge"}),
                               headers=citizen.headers), 422)
    assert wrong["errors"][0]["rule"] == "enum"
    assert _count(database_url, "feedback_reports") == before
    ok = http.post(R, json=report_body(http, "ROAD_DAMAGE", answers={"size": "large"}), headers=citizen.headers)
    assert ok.status_code == 201
    assert ok.json()["answers"] == {"size": "large"}


def test_malformed_and_wrong_media_type(http: httpx.Client) -> None:
    citizen = login(http)
    _problem(http.post(R, content=b"{not json", headers={**citizen.headers, "Content-Type": "application/json"}), 400)
    _problem(http.post(R, content=b"a=b", headers={**citizen.headers,
                                                   "Content-Type": "application/x-www-form-urlencoded"}), 415)


def test_photo_uploads_reject_sixth_non_image_and_oversized(http: httpx.Client, database_url: str) -> None:
    citizen = login(http)
    rid = submit(http, citizen)["id"]
    url = f"{R}/{rid}/photos"
    photos = "SELECT count(*) FROM feedback_attachments WHERE report_id = $1::uuid"
    not_image = _problem(upload(http, citizen, url, b"GIF89a" + b"\0" * 100, "x.jpg"), 422)
    assert not_image["errors"][0] == {**not_image["errors"][0], "field": "file", "rule": "image_type"}
    _problem(upload(http, citizen, url, b"\xff\xd8\xff\xe0 truncated jpeg", "x.jpg"), 422)
    _problem(upload(http, citizen, url, b"%PDF-1.4 not a photo", "x.pdf", "application/pdf"), 422)
    _problem(upload(http, citizen, url, b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024), "big.jpg"), 413)
    _problem(http.post(url, files={"other": ("a.jpg", jpeg_with_gps(), "image/jpeg")}, headers=citizen.headers),
             422)
    assert sql(database_url, photos, rid) == 0
    for i in range(4):
        assert upload(http, citizen, url, jpeg_with_gps((i * 40, 10, 10))).status_code == 201
    assert upload(http, citizen, url, png()).status_code == 201  # PNG with alpha is accepted (flattened)
    sixth = _problem(upload(http, citizen, url, jpeg_with_gps((250, 250, 250))), 409)
    assert sixth["code"] == "feedback.too_many_photos"
    assert sql(database_url, photos, rid) == 5


def test_heic_and_webp_are_accepted_and_reencoded(http: httpx.Client) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    citizen = login(http)
    rid = submit(http, citizen)["id"]
    for fmt in ("HEIF", "WEBP"):
        buf = io.BytesIO()
        Image.new("RGB", (200, 100), (10, 200, 30)).save(buf, fmt)
        r = upload(http, citizen, f"{R}/{rid}/photos", buf.getvalue(), "p.bin", "application/octet-stream")
        assert r.status_code == 201, (fmt, r.text)
        assert r.json()["content_type"] == "image/jpeg"


def test_staff_steps_reject_bad_input(http: httpx.Client, database_url: str) -> None:
    citizen = login(http)
    staff = login_staff(http, database_url, "W00058", "supervisor")
    rid = submit(http, citizen)["id"]
    events = "SELECT count(*) FROM feedback_events WHERE report_id = $1::uuid"
    before = sql(database_url, events, rid)
    cases = [
        ("transfer", {"unit_id": "00000000-0000-7000-8000-000000000000", "reason": "sai"}, 422),
        ("transfer", {"unit_id": "not-a-uuid", "reason": "sai địa bàn"}, 422),
        ("category", {"category_id": "00000000-0000-7000-8000-000000000000", "reason": "sai lĩnh vực"}, 422),
        ("notes", {"text": ""}, 422),
        ("notes", {"text": "ok", "public": True}, 422),
        ("duplicate", {"original_id": rid}, 422),
        ("reject", {"reason": "x"}, 422),
        ("handle", {"reply": "Đã xử lý xong", "evidence_ids": []}, 409),  # not acknowledged yet
        ("assign", {"assignee_id": str(citizen.user_id)}, 422),
        ("visibility", {"hidden": "yes", "reason": "ẩn ảnh"}, 422),
    ]
    for step, body, status in cases:
        _problem(http.post(f"{S}/{rid}/{step}", json=body, headers=staff.headers), status)
    _problem(upload(http, staff, f"{S}/{rid}/evidence", b"plain text", "a.txt", "text/plain"), 409)
    assert sql(database_url, events, rid) == before
    assert sql(database_url, "SELECT status FROM feedback_reports WHERE id = $1::uuid", rid) == "pending"
    assert http.post(f"{S}/{rid}/acknowledge", headers=staff.headers).status_code == 200
    not_file = _problem(upload(http, staff, f"{S}/{rid}/evidence", b"plain text", "a.txt", "text/plain"), 422)
    assert not_file["errors"][0]["field"] == "file"
    foreign = _problem(http.post(f"{S}/{rid}/handle", json={
        "reply": "Đã xử lý xong", "evidence_ids": ["00000000-0000-7000-8000-000000000000"]}, headers=staff.headers),
        422)
    assert foreign["errors"][0]["rule"] == "unknown_evidence"


def test_queue_public_feed_and_stats_reject_bad_queries(http: httpx.Client, database_url: str) -> None:
    staff = login_staff(http, database_url, "W00058", "handler")
    admin = login_city_admin(http, database_url)
    unit = str(sql(database_url, "SELECT id FROM units WHERE code = 'W00058'"))
    queue = "/api/v1/staff/feedback/queue"
    _problem(http.get(queue, params={"unit_id": unit, "status": "lost"}, headers=staff.headers), 422)
    _problem(http.get(queue, params={"unit_id": unit, "limit": 0}, headers=staff.headers), 422)
    _problem(http.get(queue, headers=staff.headers), 422)
    feed = "/api/v1/public/feedback/reports"
    _problem(http.get(feed), 422)
    _problem(http.get(feed, params={"lat": 10.7, "lon": 106.7}), 422)
    _problem(http.get(feed, params={"lat": 21.03, "lon": 105.85, "radius_m": 100000}), 422)
    stats = "/api/v1/feedback/stats"
    _problem(http.get(stats, params={"from": "2026-02-01", "to": "2026-01-01"}, headers=admin.headers), 422)
    _problem(http.get(stats, params={"from": "2024-01-01", "to": "2026-01-01"}, headers=admin.headers), 422)
    _problem(http.get(stats, params={"from": "yesterday", "to": "2026-01-01"}, headers=admin.headers), 422)
    _problem(http.get(stats, params={"from": "0001-01-01", "to": "0001-01-02"}, headers=admin.headers), 422)
    _problem(http.get(stats, params={"from": "9999-12-30", "to": "9999-12-31"}, headers=admin.headers), 422)
