"""The staff console in a real browser (headless Chromium): the walk a ward officer does every day.

Logs in through the VNeID stand-in's own pages, filters the queue, acknowledges, assigns, replies with an
evidence photo; the citizen's REST API then shows the handled report. Every request must stay on the
app's origin (anything else is aborted and recorded), and no Content-Security-Policy violation may show.
The screenshots under docs/staff-guide/ are written by this test (the staff guide shows them).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import pytest

from tests.console.browser import Watched, browser, off_loop
from tests.support.auth import grant, login, register_person
from tests.support.feedback import R, jpeg_with_gps, sql, submit, upload

WARD = "W00058"
OFFICER = "Trần Thị Hoa"

pytestmark = pytest.mark.slow


def _login(w: Watched, personal_id: str) -> None:
    page = w.page
    page.goto(w.origin + "/console/feedback/")
    assert "/console/login" in page.url  # not logged in yet: the login page, remembering where to go
    w.shot("01-login")
    page.click("#login")
    page.check(f"input[name=personal_id][value='{personal_id}']")  # the stand-in's consent page
    page.click("button[value=approve]")
    page.wait_for_url(re.compile(r"/console/feedback/?$"))


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
    .filter(e => e.type !== 'hidden' && e.labels.length === 0 && !e.getAttribute('aria-label'))
    .map(e => e.outerHTML.slice(0, 80))"""


def _accessible(w: Watched) -> None:
    """Every control has a label; the first Tab reaches the skip link, which leads to the main content."""
    assert w.page.evaluate(UNLABELLED) == []
    w.page.keyboard.press("Tab")
    assert w.page.evaluate("document.activeElement.className") == "skip"
    assert w.page.evaluate("document.activeElement.getAttribute('href')") == "#main"


def _no_outside_requests(w: Watched) -> None:
    assert w.requests, "the browser made no request at all"
    assert w.foreign == [], f"requests left the app's origin: {w.foreign}"
    violations = [m for m in w.console if "Content Security Policy" in m or "Refused to" in m]
    assert violations == [], violations


def test_a_ward_officer_handles_a_report_in_the_browser(
    http: httpx.Client, base_url: str, clean_db: str, tmp_path: Path
) -> None:
    citizen = login(http)
    first = submit(http, citizen, description="Ổ gà lớn giữa đường Hàng Khay, xe máy dễ ngã")
    assert upload(http, citizen, f"{R}/{first['id']}/photos", jpeg_with_gps((150, 120, 90))).status_code == 201
    late = submit(http, citizen, description="Đèn chiếu sáng hỏng cả dãy phố từ tuần trước")
    sql(
        clean_db,
        "UPDATE feedback_reports SET ack_due_at = now() - interval '2 hours', "
        "due_at = now() - interval '1 hour' WHERE id = $1",
        uuid.UUID(str(late["id"])),
    )
    officer = register_person(http, name=OFFICER)
    account = login(http, personal_id=officer, name=OFFICER)
    grant(clean_db, account.user_id, WARD, "supervisor")
    grant(clean_db, account.user_id, WARD, "handler")
    evidence = tmp_path / "sau-khi-sua.jpg"
    evidence.write_bytes(jpeg_with_gps((40, 160, 60)))

    with browser(base_url) as w:
        page = w.page
        _login(w, officer)
        assert first["ref"] in page.content()
        assert late["ref"] in page.content()
        # Filter: overdue only (htmx swaps the table and pushes the URL; without JS the button submits).
        page.select_option("#f-overdue", "yes")
        try:
            page.wait_for_function(
                "ref => !document.querySelector('#queue').textContent.includes(ref)", arg=first["ref"], timeout=10000
            )
        except Exception:
            raise AssertionError(w.console) from None
        assert "overdue=yes" in page.url
        assert late["ref"] in page.inner_text("#queue")
        assert page.locator("tr.overdue").count() == 1
        page.select_option("#f-overdue", "")
        page.wait_for_function("ref => document.querySelector('#queue').textContent.includes(ref)", arg=first["ref"])
        w.shot("02-queue")
        _accessible(w)

        page.click(f"text={first['ref']}")
        page.wait_for_url(re.compile(rf"/console/feedback/reports/{first['id']}$"))
        assert "21.028700, 105.854500" in page.content()
        w.shot("03-report")
        _accessible(w)
        with page.expect_navigation():
            page.click("#acknowledge")
        assert page.url.endswith(first["id"]), page.inner_text("main")
        page.select_option("#assignee_id", label=OFFICER)
        with page.expect_navigation():
            page.click("#assign")
        page.fill("#reply", "Đơn vị đã vá ổ gà và hoàn trả mặt đường ngày hôm nay. Ảnh sau khi xử lý kèm theo.")
        page.set_input_files("#evidence-file", str(evidence))
        page.click("#send-reply")
        page.wait_for_selector("text=Phản ánh đã đóng")
        w.shot("04-report-handled")

        page.click("nav >> text=Quá hạn")
        page.wait_for_url(re.compile(r"/console/feedback/overdue$"))
        assert late["ref"] in page.content()
        w.shot("05-overdue")

        page.click("text=English")
        page.wait_for_selector("text=Overdue reports")
        page.click("nav >> text=Feedback")
        page.wait_for_url(re.compile(r"/console/feedback/?$"))
        w.shot("06-queue-en")
        _no_outside_requests(w)

    handled = http.get(f"{R}/{first['id']}", headers=citizen.headers).json()
    assert handled["status"] == "handled"
    assert handled["reply"].startswith("Đơn vị đã vá ổ gà")
    assert len(handled["evidence"]) == 1
    timeline = http.get(f"{R}/{first['id']}/timeline", headers=citizen.headers).json()
    assert [e["kind"] for e in timeline][-1] == "handled"


def test_a_revoked_grant_ends_the_browser_session(http: httpx.Client, base_url: str, clean_db: str) -> None:
    officer = register_person(http, name=OFFICER)
    account = login(http, personal_id=officer, name=OFFICER)
    grant(clean_db, account.user_id, WARD, "handler")
    with browser(base_url) as w:
        _login(w, officer)
        off_loop(sql, clean_db, "DELETE FROM staff_grants WHERE user_id = $1", account.user_id)
        w.page.reload()
        assert "/console/login" in w.page.url
        assert "không (còn) được phân quyền" in w.page.content()
        cookies = [c for c in w.page.context.cookies() if c["name"] == "console_session"]
        assert cookies == [] or cookies[0]["value"] == ""
        _no_outside_requests(w)


def test_the_browser_keeps_the_cookie_httponly_secure_and_samesite(
    http: httpx.Client, base_url: str, clean_db: str
) -> None:
    officer = register_person(http, name=OFFICER)
    grant(clean_db, login(http, personal_id=officer, name=OFFICER).user_id, WARD, "handler")
    with browser(base_url) as w:
        _login(w, officer)
        (cookie,) = [c for c in w.page.context.cookies() if c["name"] == "console_session"]
        assert cookie["httpOnly"] is True
        assert cookie["secure"] is True
        assert cookie["sameSite"] == "Lax"
        assert w.page.evaluate("document.cookie") == ""  # no script can read the session
