"""The judicial, statistics and admin pages in headless Chromium (tests/console/browser.py).

A citizen submits a request through the REST API; a supervisor of the authority in force logs into the
console through the VNeID stand-in, finds it in the queue, receives, verifies, approves and issues it
with the page's buttons, downloads the signed PDF, and the citizen's API shows it issued. A city admin
opens the statistics and admin pages. Each main page is saved under docs/staff-guide/ for the guide.
No page loads anything from outside the service.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from tests.api.test_feedback_admin_stats import _handled
from tests.api.test_judicial_api import POLICE, submitted
from tests.console.browser import Watched, browser
from tests.console.test_console_browser import UNLABELLED
from tests.support.auth import grant, login, login_staff, register_person
from tests.support.feedback import sql

pytestmark = pytest.mark.slow


def browser_login(w: Watched, personal_id: str) -> None:
    """The console's login as staff do it: the login page, VNeID (the stand-in's consent page), back."""
    page = w.page
    page.goto(f"{w.origin}/console/login")
    page.click("#login")
    page.check(f'input[name="personal_id"][value="{personal_id}"]')
    page.click('button[value="approve"]')
    page.wait_for_url(f"{w.origin}/console/")


def shot(w: Watched, name: str) -> None:
    """Every control of the page has a label; then the screenshot for the staff guide."""
    assert w.page.evaluate(UNLABELLED) == [], name
    w.shot(name)


def _no_outside_requests(w: Watched) -> None:
    assert w.foreign == [], f"requests left the app's origin: {w.foreign}"
    assert [m for m in w.console if "Content Security Policy" in m or "Refused to" in m] == []


def person(http: httpx.Client, database_url: str, unit_code: str | None = None, role: str = "") -> str:
    personal_id = register_person(http)
    account = login(http, personal_id=personal_id)
    if unit_code:
        grant(database_url, account.user_id, unit_code, role)
    else:
        sql(database_url, "UPDATE users SET city_admin = true WHERE id = $1", account.user_id)
    return personal_id


def press(page: Any, label: str) -> None:
    """Submit the step form whose button reads ``label`` and wait for the page it redirects to."""
    with page.expect_navigation():
        page.get_by_role("button", name=label).click()


def test_a_request_is_approved_and_issued_from_the_console(
    http: httpx.Client, base_url: str, database_url: str
) -> None:
    citizen = login(http)
    r = submitted(http, citizen)
    boss = person(http, database_url, POLICE, "supervisor")
    with browser(base_url) as w:
        page = w.page
        browser_login(w, boss)
        page.click("nav >> text=Lý lịch tư pháp")
        page.select_option("#f-type", "1")
        page.click("button:has-text('Lọc')")
        assert page.locator(f"text={r['ref']}").count() == 1
        shot(w, "judicial-queue")
        page.click(f"text={r['ref']}")
        page.wait_for_url(f"{base_url}/console/judicial/{r['id']}")
        assert page.locator("h2", has_text="Quá trình cư trú").count() == 1
        shot(w, "judicial-request")
        press(page, "Tiếp nhận (hồ sơ đầy đủ)")
        page.fill("#f-verify", "Tra cứu CSDL lý lịch tư pháp")
        press(page, "Xác minh (tra cứu công an, tòa án)")
        assert "Không có án tích" in page.inner_text("#cross-check")
        shot(w, "judicial-verified")
        press(page, "Phê duyệt")
        press(page, "Cấp phiếu điện tử")
        assert page.locator("h1 .badge", has_text="Đã cấp phiếu").count() == 1
        shot(w, "judicial-issued")
        with page.expect_download() as download:
            page.click("#certificate a")
        pdf = Path(download.value.path()).read_bytes()
        _no_outside_requests(w)
    assert pdf.startswith(b"%PDF")
    assert "PHIẾU LÝ LỊCH TƯ PHÁP SỐ 1" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    mine = http.get(f"/api/v1/judicial/requests/{r['id']}", headers=citizen.headers).json()
    assert mine["status"] == "issued"
    cert = http.get("/api/v1/judicial/certificates", headers=citizen.headers).json()
    assert [c["number"] for c in cert] == [f"{r['ref']}-1"]


def test_statistics_and_admin_pages_for_a_city_admin(http: httpx.Client, base_url: str, database_url: str) -> None:
    _handled(http, login_staff(http, database_url, "W00058", "supervisor"), login(http))
    admin = person(http, database_url)
    with browser(base_url, lang="vi-VN") as w:
        page = w.page
        browser_login(w, admin)
        page.click("nav >> text=Thống kê")
        assert page.locator("svg.chart").count() == 2
        shot(w, "stats-city")
        page.select_option("#f-unit", label="Phường Lý Thái Tổ")
        page.click("button:has-text('Xem')")
        assert page.locator("svg.chart").count() == 2
        shot(w, "stats-unit")
        with page.expect_download() as download:
            page.click("text=Tải CSV")
        assert Path(download.value.path()).read_bytes().startswith(b"\xef\xbb\xbfunit_id,")
        page.click("nav >> text=Quản trị")
        for link, name in (
            ("Phân quyền cán bộ", "admin-staff"),
            ("Lĩnh vực phản ánh", "admin-categories"),
            ("Khóa Open311 của đối tác", "admin-open311-keys"),
            ("Cơ sở y tế", "admin-facilities"),
            ("Cơ quan cấp phiếu lý lịch tư pháp", "admin-authorities"),
        ):
            page.goto(f"{base_url}/console/admin/")
            page.click(f"main >> text={link}")
            assert page.locator("h1", has_text=link).count() == 1
            if name == "admin-open311-keys":
                page.fill("#f-name", "Công ty Dữ liệu Mở Hà Nội")
                page.click("button:has-text('Cấp khóa mới')")
                assert page.inner_text("#new-key").startswith("o311_")
            shot(w, name)
        _no_outside_requests(w)
