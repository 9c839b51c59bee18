"""Judicial pages of the console over HTTP: the authority's queue and filters, a request page with the
pre-filled form and residence history, each step from a form (CSRF required), the issued PDF; another
authority's request is 404 on every page and form; a handler may not approve."""

from __future__ import annotations

import io
from urllib.parse import quote

import httpx
from pypdf import PdfReader

from tests.api.test_judicial_api import DOJ, PDF, POLICE, R, proxy_body, submitted
from tests.support.auth import login
from tests.support.console import Console, console_login

Q = "/console/judicial"


def page(staff: Console, path: str, status: int = 200) -> str:
    r = staff.get(path)
    assert r.status_code == status, r.text
    return r.text


def act(staff: Console, rid: str, step: str, status: int = 303, **form: str) -> httpx.Response:
    r = staff.post(f"{Q}/{rid}/{step}", form)
    assert r.status_code == status, r.text
    if status == 303:
        assert r.headers["location"] == f"{Q}/{rid}?done={step}"
    return r


def test_queue_request_page_steps_and_the_signed_pdf(http: httpx.Client, database_url: str) -> None:
    me = login(http)
    r = submitted(http, me)
    boss = console_login(http, database_url, POLICE, "supervisor")
    queue = page(boss, f"{Q}/")
    assert r["ref"] in queue
    assert f'href="{Q}/{r["id"]}"' in queue
    assert r["ref"] in page(boss, f"{Q}/?certificate_type=1&status=submitted&submitted_from=2020-01-01")
    assert r["ref"] not in page(boss, f"{Q}/?certificate_type=2")
    assert r["ref"] not in page(boss, f"{Q}/?overdue=1")  # due in 10 working days
    assert page(boss, f"{Q}/?submitted_from=31-12-2026", 422).count("yyyy-mm-dd") == 1

    detail = page(boss, f"{Q}/{r['id']}")
    assert "Nguyễn Văn Bình (1960)" in detail  # the father, as the citizen typed him
    assert me.personal_id in detail  # the ID document, pre-filled from VNeID
    assert "2004-05" in detail
    assert "Kỹ sư" in detail
    assert "Mẫu 03" in detail
    assert f'action="{Q}/{r["id"]}/receive"' in detail
    assert f'action="{Q}/{r["id"]}/issue"' not in detail

    # A step without the form's token changes nothing.
    assert boss.post(f"{Q}/{r['id']}/receive", csrf=False).status_code == 403
    assert "Mới nộp" in page(boss, f"{Q}/{r['id']}")
    act(boss, r["id"], "receive")
    act(boss, r["id"], "verify", note="Tra cứu CSDL lý lịch tư pháp")
    detail = page(boss, f"{Q}/{r['id']}?done=verify")
    assert "Không có án tích" in detail  # the cross-check's outcome
    assert "Đã thực hiện: Xác minh" in detail
    act(boss, r["id"], "approve")
    act(boss, r["id"], "issue")
    issued = page(boss, f"{Q}/{r['id']}")
    assert f'href="{Q}/{r["id"]}/certificate.pdf"' in issued
    assert f"{r['ref']}-1" in issued  # the certificate's number
    pdf = boss.get(f"{Q}/{r['id']}/certificate.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert "PHIẾU LÝ LỊCH TƯ PHÁP SỐ 1" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    boss.extra_cookies["console_lang"] = "en"  # the same page in English
    english = page(boss, f"{Q}/{r['id']}")
    assert "Download the certificate (signed PDF)" in english
    assert "Residence history since age 14" in english
    # The citizen's API shows what the console did.
    mine = http.get(f"/api/v1/judicial/requests/{r['id']}", headers=me.headers).json()
    assert mine["status"] == "issued"
    assert [s["to_status"] for s in mine["steps"]][-4:] == ["received", "verifying", "approved", "issued"]


def test_another_authority_sees_nothing_and_a_handler_may_not_approve(http: httpx.Client, database_url: str) -> None:
    me = login(http)
    r = submitted(http, me)
    other = console_login(http, database_url, DOJ, "supervisor")
    assert r["ref"] not in page(other, f"{Q}/")
    page(other, f"{Q}/{r['id']}", 404)
    for step in ("receive", "reject", "issue"):
        assert other.post(f"{Q}/{r['id']}/{step}", {"reason": "x"}).status_code == 404
    assert other.get(f"{Q}/{r['id']}/certificate.pdf").status_code == 404

    handler = console_login(http, database_url, POLICE, "handler")
    assert f'action="{Q}/{r["id"]}/reject"' not in page(handler, f"{Q}/{r['id']}")  # no button for a handler
    act(handler, r["id"], "receive")
    act(handler, r["id"], "verify")
    assert f'action="{Q}/{r["id"]}/approve"' not in page(handler, f"{Q}/{r['id']}")
    refused = act(handler, r["id"], "approve", status=403)
    assert "text/html" in refused.headers["content-type"]
    assert handler.get(f"{Q}/{r['id']}/certificate.pdf").status_code == 404  # nothing issued yet
    assert handler.post(f"{Q}/{r['id']}/unknown").status_code == 422


def test_supplement_and_reject_need_their_text(http: httpx.Client, database_url: str) -> None:
    me = login(http)
    r = submitted(http, me)
    boss = console_login(http, database_url, POLICE, "supervisor")
    empty = act(boss, r["id"], "supplement-request", status=422, note="  ")
    assert "note" in empty.text or "Ghi chú" in empty.text or "bắt buộc" in empty.text
    act(boss, r["id"], "supplement-request", status=422, note="Bổ sung\x00")  # NUL: refused, as in the API
    act(boss, r["id"], "supplement-request", note="Bổ sung thông tin vợ/chồng")
    assert "Bổ sung thông tin vợ/chồng" in page(boss, f"{Q}/{r['id']}")
    act(boss, r["id"], "reject", status=422, reason="")
    act(boss, r["id"], "reject", reason="Thông tin nhân thân không khớp")
    detail = page(boss, f"{Q}/{r['id']}")
    assert "Thông tin nhân thân không khớp" in detail
    assert "Từ chối" in detail
    assert http.get(f"/api/v1/judicial/requests/{r['id']}", headers=me.headers).json()["status"] == "rejected"


def test_the_proxy_authorisation_is_shown_to_the_authority_only(http: httpx.Client, database_url: str) -> None:
    proxy = login(http)
    d = http.post(R, json=proxy_body(), headers=proxy.headers).json()
    doc = http.post(
        f"{R}/{d['id']}/documents?kind=proxy", files={"file": ("uq.pdf", PDF, "application/pdf")}, headers=proxy.headers
    ).json()
    assert http.post(f"{R}/{d['id']}/submit", json={}, headers=proxy.headers).status_code == 200
    handler = console_login(http, database_url, POLICE, "handler")
    detail = page(handler, f"{Q}/{d['id']}")
    assert "Mẫu 04" in detail
    link = f"{Q}/{d['id']}/document?key={quote(doc['key'])}"
    assert f'href="{link}"' in detail
    got = handler.get(link)
    assert got.status_code == 200
    assert got.content == PDF
    other = console_login(http, database_url, DOJ, "handler")
    assert other.get(link).status_code == 404
    assert handler.get(f"{Q}/{d['id']}/document?key=judicial/other").status_code == 404
