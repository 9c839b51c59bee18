"""Feedback end to end over HTTP: the three life cycles of Decision 1207 and "Done means"."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from tests.support.auth import login, login_staff
from tests.support.feedback import R, S, jpeg_with_gps, report_body, sql, submit, upload

WARD = "W00058"  # Phường Lý Thái Tổ, where HOAN_KIEM points


def test_submit_acknowledge_assign_handle_rate(http: httpx.Client, database_url: str) -> None:
    citizen = login(http)
    handler = login_staff(http, database_url, WARD, "handler")
    boss = login_staff(http, database_url, WARD, "supervisor")

    key = {"Idempotency-Key": "create-1"}
    body = report_body(http)
    first = http.post(R, json=body, headers={**citizen.headers, **key})
    assert first.status_code == 201, first.text
    again = http.post(R, json=body, headers={**citizen.headers, **key})
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    report = first.json()
    rid = report["id"]
    assert report["status"] == "pending"
    assert report["ref"].startswith("PA-")
    assert report["overdue"] is False
    assert sql(database_url, "SELECT code FROM units WHERE id = $1", report["unit_id"]) == WARD

    original = jpeg_with_gps()
    assert b"PhoneMaker" in original
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the upload really carries GPS
    photo = upload(http, citizen, f"{R}/{rid}/photos", original)
    assert photo.status_code == 201, photo.text
    retry = upload(http, citizen, f"{R}/{rid}/photos", original)
    assert retry.status_code == 200
    assert retry.json()["id"] == photo.json()["id"]
    stored = http.get(photo.json()["url"], headers=citizen.headers)
    assert stored.status_code == 200
    assert stored.headers["content-type"] == "image/jpeg"
    assert b"PhoneMaker" not in stored.content
    kept = Image.open(io.BytesIO(stored.content))
    assert not kept.getexif().get_ifd(0x8825)
    assert len(kept.getexif()) == 0
    thumb = http.get(photo.json()["thumbnail_url"], headers=citizen.headers)
    assert max(Image.open(io.BytesIO(thumb.content)).size) <= 320

    queue = http.get("/api/v1/staff/feedback/queue", params={"unit_id": report["unit_id"]}, headers=handler.headers)
    assert queue.status_code == 200, queue.text
    assert rid in [i["id"] for i in queue.json()["items"]]

    ack = http.post(f"{S}/{rid}/acknowledge", headers={**handler.headers, "Idempotency-Key": "ack-1"})
    assert ack.status_code == 200, ack.text
    assert ack.json()["status"] == "in_progress"
    # A retried step replays its answer; without a key the repeat is an illegal transition.
    replay = http.post(f"{S}/{rid}/acknowledge", headers={**handler.headers, "Idempotency-Key": "ack-1"})
    assert replay.status_code == 200
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == ack.json()
    assert http.post(f"{S}/{rid}/acknowledge", headers=handler.headers).status_code == 409
    assigned = http.post(f"{S}/{rid}/assign", json={"assignee_id": str(handler.user_id)}, headers=boss.headers)
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["assignee_id"] == str(handler.user_id)
    note = http.post(f"{S}/{rid}/notes", json={"text": "Phối hợp với công an phường"}, headers=handler.headers)
    assert note.status_code == 201

    no_evidence = http.post(f"{S}/{rid}/handle", json={"reply": "Đã xử lý xong vi phạm", "evidence_ids": []},
                            headers=handler.headers)
    assert no_evidence.status_code == 422
    assert no_evidence.json()["errors"][0]["field"] == "evidence_ids"
    evidence = upload(http, handler, f"{S}/{rid}/evidence", b"%PDF-1.4\n% bien ban\n", "bb.pdf", "application/pdf")
    assert evidence.status_code == 201, evidence.text
    handled = http.post(f"{S}/{rid}/handle", json={"reply": "Đã lập biên bản và giải tỏa vỉa hè",
                                                   "evidence_ids": [evidence.json()["id"]]}, headers=handler.headers)
    assert handled.status_code == 200, handled.text
    assert handled.json()["status"] == "handled"

    mine = http.get(f"{R}/{rid}", headers=citizen.headers).json()
    assert mine["status"] == "handled"
    assert mine["is_public"] is True
    assert [e["id"] for e in mine["evidence"]] == [evidence.json()["id"]]
    timeline = http.get(f"{R}/{rid}/timeline", headers=citizen.headers).json()
    kinds = [e["kind"] for e in timeline]
    assert kinds == ["submitted", "acknowledged", "handled"]  # assignment and notes are internal
    staff_timeline = http.get(f"{S}/{rid}/timeline", headers=handler.headers).json()
    assert {"assigned", "note"} <= {e["kind"] for e in staff_timeline}

    public = http.get(f"/api/v1/public/feedback/reports/{rid}")
    assert public.status_code == 200
    assert "reporter_id" not in public.json()
    assert http.get(public.json()["photos"][0]["url"]).status_code == 200

    rated = http.post(f"{R}/{rid}/rating", json={"score": 5, "comment": "Nhanh"}, headers=citizen.headers)
    assert rated.status_code == 201, rated.text
    twice = http.post(f"{R}/{rid}/rating", json={"score": 1}, headers=citizen.headers)
    assert twice.status_code == 409
    assert sql(database_url, "SELECT score FROM feedback_ratings WHERE report_id = $1::uuid", rid) == 5
    # The rated report still opens (its view carried the rating positionally into a keyword-only struct: 500).
    mine = http.get(f"{R}/{rid}", headers=citizen.headers)
    assert mine.status_code == 200, mine.text
    assert mine.json()["rating"] == {"score": 5, "comment": "Nhanh"}

    templates = sql(database_url, "SELECT array_agg(template ORDER BY created_at) FROM notification_inbox "
                                  "WHERE user_id = $1 AND object_id = $2", citizen.user_id, rid)
    assert templates == ["feedback.acknowledged", "feedback.handled"]


def test_transfer_then_reject(http: httpx.Client, database_url: str) -> None:
    citizen = login(http)
    ward_staff = login_staff(http, database_url, WARD, "handler")
    district_staff = login_staff(http, database_url, "D001", "handler")
    report = submit(http, citizen)
    rid = report["id"]
    district = sql(database_url, "SELECT id FROM units WHERE code = 'D001'")

    moved = http.post(f"{S}/{rid}/transfer", json={"unit_id": str(district), "reason": "Thuộc địa bàn Ba Đình"},
                      headers=ward_staff.headers)
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "transferred"
    assert http.post(f"{S}/{rid}/acknowledge", headers=ward_staff.headers).status_code == 404
    bad_template = http.post(f"{S}/{rid}/reject", json={"reason": "Không thuộc thẩm quyền", "template": "nope"},
                             headers=district_staff.headers)
    assert bad_template.status_code == 422
    rejected = http.post(f"{S}/{rid}/reject", json={"reason": "Không thuộc thẩm quyền",
                                                    "template": "not_responsibility"},
                         headers=district_staff.headers)
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    again = http.post(f"{S}/{rid}/acknowledge", headers=district_staff.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "feedback.illegal_transition"
    kinds = [e["kind"] for e in http.get(f"{R}/{rid}/timeline", headers=citizen.headers).json()]
    assert kinds == ["submitted", "transferred", "rejected"]
    assert http.post(f"{R}/{rid}/rating", json={"score": 1}, headers=citizen.headers).status_code == 409


def _handle(http: httpx.Client, staff: object, rid: str) -> None:
    ev = upload(http, staff, f"{S}/{rid}/evidence", jpeg_with_gps())  # type: ignore[arg-type]
    assert ev.status_code == 201, ev.text
    r = http.post(f"{S}/{rid}/handle", json={"reply": "Đã giải tỏa vỉa hè", "evidence_ids": [ev.json()["id"]]},
                  headers=staff.headers)  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text


def test_reopen_within_the_window_only(http: httpx.Client, database_url: str) -> None:
    citizen = login(http)
    staff = login_staff(http, database_url, WARD, "handler")
    rid = submit(http, citizen)["id"]
    assert http.post(f"{R}/{rid}/reopen", json={"reason": "Chưa xử lý"}, headers=citizen.headers).status_code == 409
    assert http.post(f"{S}/{rid}/acknowledge", headers=staff.headers).status_code == 200
    _handle(http, staff, rid)
    reopened = http.post(f"{R}/{rid}/reopen", json={"reason": "Hôm nay xe lại đỗ kín vỉa hè"},
                         headers=citizen.headers)
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["status"] == "in_progress"
    assert reopened.json()["reopen_count"] == 1
    assert http.get(f"/api/v1/public/feedback/reports/{rid}").status_code == 404  # no longer handled
    _handle(http, staff, rid)
    sql(database_url, "UPDATE feedback_reports SET handled_at = handled_at - interval '8 days' WHERE id = $1::uuid",
        rid)
    late = http.post(f"{R}/{rid}/reopen", json={"reason": "Lại tái diễn"}, headers=citizen.headers)
    assert late.status_code == 409
    assert late.json()["code"] == "feedback.reopen_window_closed"


def test_feedback_routes_are_documented(http: httpx.Client) -> None:
    schema = http.get("/schema/openapi.json").json()
    ops = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()
           if "feedback" in path]
    assert len(ops) >= 30
    for path, method, op in ops:
        assert op.get("operationId"), (path, method)
        assert op.get("summary"), (path, method)
        assert any(t.startswith("feedback") for t in op.get("tags", [])), (path, method)
    upload_op = schema["paths"]["/api/v1/feedback/reports/{report_id}/photos"]["post"]
    assert "multipart/form-data" in upload_op["requestBody"]["content"]
