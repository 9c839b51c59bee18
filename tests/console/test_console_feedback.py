"""Feedback pages over HTTP: the queue with the API's filters, a report's page and every handling step."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from tests.support.auth import Session, login
from tests.support.console import Console, console_login
from tests.support.feedback import R, categories, jpeg_with_gps, png, submit, upload

WARD = "W00058"  # Phường Lý Thái Tổ, where tests.support.feedback.HOAN_KIEM points
OTHER_WARD = "W00001"
Q = "/console/feedback"


@pytest.fixture
def citizen(http: httpx.Client, clean_db: str) -> Session:
    return login(http)


def _report(http: httpx.Client, citizen: Session, **kw: object) -> dict[str, object]:
    report = submit(http, citizen, **kw)
    assert upload(http, citizen, f"{R}/{report['id']}/photos", jpeg_with_gps()).status_code == 201
    return report


def test_queue_lists_the_units_open_reports_with_counts_and_filters(
    http: httpx.Client, clean_db: str, citizen: Session
) -> None:
    staff = console_login(http, clean_db, WARD, "supervisor")
    first = _report(http, citizen)
    second = _report(http, citizen, category_id=categories(http)["SIDEWALK"]["id"])
    page = staff.get(f"{Q}/")
    assert page.status_code == 200, page.text
    assert first["ref"] in page.text
    assert second["ref"] in page.text
    assert "Đang mở: 2" in page.text
    assert "Chờ xử lý: 2" in page.text
    # Each filter of the API: status, level, category, assignee, overdue.
    assert first["ref"] not in staff.get(f"{Q}/?status=in_progress").text
    assert first["ref"] in staff.get(f"{Q}/?status=pending").text
    # The form as a browser submits it: every unset filter is an empty value.
    assert first["ref"] in staff.get(f"{Q}/?unit=&status=&level=&category=&assignee=&overdue=").text
    assert first["ref"] not in staff.get(f"{Q}/?level=urgent").text
    assert first["ref"] in staff.get(f"{Q}/?category={categories(http)['SIDEWALK']['id']}").text
    assert first["ref"] not in staff.get(f"{Q}/?assignee=me").text
    assert first["ref"] not in staff.get(f"{Q}/?overdue=yes").text
    assert first["ref"] in staff.get(f"{Q}/?overdue=no").text


def test_bad_filters_are_refused_with_a_page(http: httpx.Client, clean_db: str) -> None:
    staff = console_login(http, clean_db, WARD)
    bad = staff.get(f"{Q}/?status=nonsense")
    assert bad.status_code == 422
    assert "text/html" in bad.headers["content-type"]
    assert staff.get(f"{Q}/?unit=not-a-uuid").status_code == 422
    # A unit the staff member has no role in: the API's 403.
    other = staff.get(f"{Q}/?unit={uuid.uuid4()}")
    assert other.status_code == 403


def test_overdue_reports_are_highlighted(http: httpx.Client, clean_db: str, citizen: Session) -> None:
    staff = console_login(http, clean_db, WARD, "supervisor")
    report = _report(http, citizen)
    from tests.support.feedback import sql

    sql(
        clean_db,
        "UPDATE feedback_reports SET ack_due_at = now() - interval '1 hour', "
        "due_at = now() - interval '1 hour' WHERE id = $1",
        uuid.UUID(str(report["id"])),
    )
    page = staff.get(f"{Q}/?overdue=yes")
    assert report["ref"] in page.text
    assert 'class="overdue"' in page.text
    assert "QUÁ HẠN" in page.text
    assert "Quá hạn: 1" in page.text
    view = staff.get(f"{Q}/overdue")
    assert view.status_code == 200
    assert report["ref"] in view.text


def test_a_report_page_shows_photos_place_and_timeline(http: httpx.Client, clean_db: str, citizen: Session) -> None:
    staff = console_login(http, clean_db, WARD)
    report = _report(http, citizen)
    page = staff.get(f"{Q}/reports/{report['id']}")
    assert page.status_code == 200, page.text
    assert "21.028700, 105.854500" in page.text
    assert "openstreetmap.org/?mlat=21.028700" in page.text
    assert '<svg class="map"' not in page.text  # no tile server configured: no map, nothing loaded from outside
    photo = re.search(rf'src="({Q}/reports/{report["id"]}/files/[0-9a-f-]+)', page.text)
    assert photo is not None
    img = staff.get(photo.group(1).replace("&amp;", "&"))
    assert img.status_code == 200
    assert img.headers["content-type"].startswith("image/")
    assert http.get(photo.group(1)).status_code == 303  # no cookie: login first


def test_another_units_report_is_404_by_url(http: httpx.Client, clean_db: str, citizen: Session) -> None:
    report = _report(http, citizen)
    outsider = console_login(http, clean_db, OTHER_WARD, "supervisor")
    for path in ("", "/files/" + str(uuid.uuid4())):
        assert outsider.get(f"{Q}/reports/{report['id']}{path}").status_code == 404
    # Valid forms (a garbage form is refused by its schema first, like a JSON body in the API).
    valid = {
        "text": "x" * 12,
        "reason": "x" * 12,
        "assignee_id": "me",
        "template": "insufficient_info",
        "category_id": categories(http)["SIDEWALK"]["id"],
        "unit_id": str(uuid.uuid4()),
        "original": str(uuid.uuid4()),
        "reply": "Đã xử lý xong theo quy định.",
        "evidence_id": str(uuid.uuid4()),
    }
    for step in ("acknowledge", "assign", "notes", "category", "transfer", "reject", "duplicate", "handle"):
        r = outsider.post(f"{Q}/reports/{report['id']}/{step}", valid)
        assert r.status_code == 404, (step, r.text[-300:])
    assert outsider.get(f"{Q}/reports/{uuid.uuid4()}").status_code == 404


def _walk(staff: Console, http: httpx.Client, citizen: Session, report: dict[str, object]) -> None:
    url = f"{Q}/reports/{report['id']}"
    assert staff.post(f"{url}/acknowledge").status_code == 303
    assert staff.post(f"{url}/assign", {"assignee_id": "me"}).status_code == 303
    assert staff.post(f"{url}/notes", {"text": "Đã cử tổ công tác"}).status_code == 303
    done = staff.post(
        f"{url}/handle",
        {"reply": "Đơn vị đã khắc phục xong, ảnh hiện trường kèm theo."},
        files={"file": ("after.png", png(), "image/png")},
    )
    assert done.status_code == 303, done.text
    mine = http.get(f"{R}/{report['id']}", headers=citizen.headers).json()
    assert mine["status"] == "handled"
    assert mine["reply"].startswith("Đơn vị đã khắc phục")
    assert len(mine["evidence"]) == 1


def test_acknowledge_assign_note_and_reply_with_evidence(http: httpx.Client, clean_db: str, citizen: Session) -> None:
    staff = console_login(http, clean_db, WARD)
    report = _report(http, citizen)
    _walk(staff, http, citizen, report)
    page = staff.get(f"{Q}/reports/{report['id']}").text
    assert "Đã cử tổ công tác" in page
    assert "nội bộ" in page
    assert "Phản ánh đã đóng" in page


def test_a_reply_without_evidence_is_refused_and_nothing_changes(
    http: httpx.Client, clean_db: str, citizen: Session
) -> None:
    staff = console_login(http, clean_db, WARD)
    report = _report(http, citizen)
    url = f"{Q}/reports/{report['id']}"
    assert staff.post(f"{url}/acknowledge").status_code == 303
    refused = staff.post(f"{url}/handle", {"reply": "Đã xử lý xong theo quy định hiện hành."})
    assert refused.status_code == 422
    assert "minh chứng" in refused.text
    short = staff.post(f"{url}/handle", {"reply": "ngắn"}, files={"file": ("a.png", png(), "image/png")})
    assert short.status_code == 422
    mine = http.get(f"{R}/{report['id']}", headers=citizen.headers).json()
    assert mine["status"] == "in_progress"
    assert mine["evidence"] == []


def test_reject_with_a_template_and_mark_duplicate(http: httpx.Client, clean_db: str, citizen: Session) -> None:
    staff = console_login(http, clean_db, WARD, "supervisor")
    first, second = _report(http, citizen), _report(http, citizen)
    assert staff.post(f"{Q}/reports/{first['id']}/reject", {"template": "insufficient_info"}).status_code == 303
    mine = http.get(f"{R}/{first['id']}", headers=citizen.headers).json()
    assert mine["status"] == "rejected"
    third = _report(http, citizen)
    link = f"http://x/console/feedback/reports/{second['id']}"
    assert staff.post(f"{Q}/reports/{third['id']}/duplicate", {"original": link}).status_code == 303
    assert http.get(f"{R}/{third['id']}", headers=citizen.headers).json()["status"] == "duplicate"
    assert staff.post(f"{Q}/reports/{second['id']}/duplicate", {"original": "no id"}).status_code == 422


def test_change_category_and_transfer(http: httpx.Client, clean_db: str, citizen: Session) -> None:
    staff = console_login(http, clean_db, WARD, "supervisor")
    report = _report(http, citizen)
    cats = categories(http)
    other = next(c for code, c in cats.items() if code != "SIDEWALK" and not c.get("department_id"))
    moved = staff.post(
        f"{Q}/reports/{report['id']}/category", {"category_id": other["id"], "level": "", "reason": "Sai lĩnh vực"}
    )
    assert moved.status_code == 303, moved.text
    from tests.support.auth import unit_id

    target = unit_id(clean_db, OTHER_WARD)
    gone = staff.post(f"{Q}/reports/{report['id']}/transfer", {"unit_id": str(target), "reason": "Không thuộc địa bàn"})
    assert gone.status_code == 303
    assert gone.headers["location"].startswith(f"{Q}/?transferred=")
    assert staff.get(f"{Q}/reports/{report['id']}").status_code == 404  # now the other ward's
    assert staff.post(f"{Q}/reports/{report['id']}/transfer", {"unit_id": "x", "reason": "?"}).status_code in (404, 422)


def test_handling_forms_need_their_csrf_token(http: httpx.Client, clean_db: str, citizen: Session) -> None:
    staff = console_login(http, clean_db, WARD)
    report = _report(http, citizen)
    assert staff.post(f"{Q}/reports/{report['id']}/acknowledge", csrf=False).status_code == 403
    assert http.get(f"{R}/{report['id']}", headers=citizen.headers).json()["status"] == "pending"


def test_hostile_form_values_are_refused_without_a_trace(http: httpx.Client, clean_db: str, citizen: Session) -> None:
    staff = console_login(http, clean_db, WARD)
    report = _report(http, citizen)
    url = f"{Q}/reports/{report['id']}"
    assert staff.post(f"{url}/notes", {"text": "có ký tự \x00 NUL"}).status_code == 422
    assert staff.post(f"{url}/notes", {"text": "x" * 4001}).status_code == 422
    assert staff.post(f"{url}/assign", {"assignee_id": "not-a-uuid"}).status_code == 422
    from tests.support.feedback import sql

    kinds = sql(
        clean_db,
        "SELECT array_agg(kind ORDER BY id) FROM feedback_events WHERE report_id = $1",
        uuid.UUID(str(report["id"])),
    )
    assert kinds == ["submitted"]


HOSTILE = {
    "nul": "a\x00b",
    "long": "x" * 100_000,
    "deep": "[" * 1000,
    "big_number": "1" + "0" * 400,
    "unicode": "\ud7ff\ufffd🙂" * 50,
    "sql": "'; DROP TABLE feedback_reports; --",
}
STEP_FIELDS = {
    "assign": ("assignee_id",),
    "notes": ("text",),
    "category": ("category_id", "level", "reason"),
    "transfer": ("unit_id", "reason"),
    "handle": ("reply", "evidence_id"),
    "reject": ("template", "reason"),
    "duplicate": ("original",),
}


def test_no_console_step_answers_5xx_to_hostile_form_values(
    http: httpx.Client, clean_db: str, citizen: Session
) -> None:
    staff = console_login(http, clean_db, WARD, "supervisor")
    report = _report(http, citizen)
    url = f"{Q}/reports/{report['id']}"
    failures = []
    for step, names in STEP_FIELDS.items():
        for field in names:
            for label, value in HOSTILE.items():
                r = staff.post(f"{url}/{step}", {field: value})
                if r.status_code >= 500:
                    failures.append(f"{step} {field}={label}: {r.status_code}")
    for query in ("status", "level", "category", "assignee", "overdue", "unit", "cursor"):
        for label, value in HOSTILE.items():
            r = staff.get(f"{Q}/", params={query: value[:6000]})  # a URL longer than that is refused by clients
            if r.status_code >= 500:
                failures.append(f"queue {query}={label}: {r.status_code}")
    assert failures == []
