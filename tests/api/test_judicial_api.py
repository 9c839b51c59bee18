"""The judicial API over real HTTP: draft → issued, supplement and reject, proxy (No. 2 by proxy
refused), share codes (wrong date of birth, expired/revoked, brute force → 429), the status list
after revocation, who may see what (second citizen, other authority's staff, proxy), and the draft's
Idempotency-Key (its row stored by the request's insert)."""

from __future__ import annotations

import asyncio
import base64
import gzip
import io
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg
import httpx
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet
from pypdf import PdfReader

from tests.support.auth import Session, login, login_staff

R = "/api/v1/judicial/requests"
S = "/api/v1/staff/judicial"
P = "/api/v1/public/judicial"
POLICE, DOJ = "CA-TP", "S-TP"   # the police issue from 1 July 2026 (the app's clock is today)
DOB = "1990-05-17"              # tests.support.auth registers everyone with 17/05/1990
HANOI = {"text": "Số 5 phố Lý Thái Tổ, phường Hoàn Kiếm, Hà Nội", "province_code": "01"}
PDF = b"%PDF-1.7\n% giay uy quyen\n"


def draft_body(**kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "purpose": "Bổ sung hồ sơ xin việc", "copies": 3,
        "applicant": {"sex": "male", "father": {"full_name": "Nguyễn Văn Bình", "birth_year": 1960},
                      "mother": {"full_name": "Lê Thị Cúc", "birth_year": 1962}},
        "residence_history": [{"from_month": "2004-05", "address": HANOI, "occupation": "Kỹ sư"}]}
    body.update(kw)
    return body


def proxy_body(**kw: Any) -> dict[str, Any]:
    applicant = {"full_name": "Trần Thị Mai", "sex": "female", "date_of_birth": "1992-02-10",
                 "place_of_birth": "Hà Nội", "nationality": "VN", "ethnicity": "Kinh", "permanent_residence": HANOI,
                 "id_document": {"number": "001192000123"}, "father": {"full_name": "Trần Văn An"},
                 "mother": {"full_name": "Phạm Thị Hoa"}}
    return draft_body(proxy_relation="authorised", applicant=applicant,
                      residence_history=[{"from_month": "2006-02", "address": HANOI}], **kw)


def ok(r: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    return r.json()  # type: ignore[no-any-return]


def start(http: httpx.Client, who: Session, **kw: Any) -> dict[str, Any]:
    return ok(http.post(R, json=draft_body(**kw), headers=who.headers), 201)


def submitted(http: httpx.Client, who: Session, **kw: Any) -> dict[str, Any]:
    d = start(http, who, **kw)
    return ok(http.post(f"{R}/{d['id']}/submit", json={}, headers=who.headers))


def step(http: httpx.Client, who: Session, rid: str, action: str, body: dict[str, Any] | None = None,
         status: int = 200) -> dict[str, Any]:
    return ok(http.post(f"{S}/requests/{rid}/{action}", json=body or {}, headers=who.headers), status)


def issue(http: httpx.Client, citizen: Session, boss: Session) -> dict[str, Any]:
    r = submitted(http, citizen)
    for action in ("receive", "verify", "approve"):
        step(http, boss, r["id"], action)
    issued = step(http, boss, r["id"], "issue")
    certs = ok(http.get("/api/v1/judicial/certificates", headers=citizen.headers))
    return next(c for c in certs if c["id"] == issued["certificate_id"])


def test_draft_to_issued_with_prefill_fee_steps_and_downloads(http: httpx.Client, database_url: str) -> None:
    me = login(http)
    boss = login_staff(http, database_url, POLICE, "supervisor")
    d = start(http, me)
    assert {"full_name", "date_of_birth", "id_document", "permanent_residence"} <= set(d["prefilled"])
    assert d["applicant"]["id_document"]["number"] == me.personal_id
    assert d["status"] == "draft"
    changed = http.put(f"{R}/{d['id']}", json=draft_body(applicant={"date_of_birth": "1980-01-01"}),
                       headers=me.headers)
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["field"] == "applicant.date_of_birth"
    quote = ok(http.get(f"{R}/{d['id']}/quote", headers=me.headers))
    assert (quote["fee"], quote["city_support"], quote["amount_due"]) == (205_000, 205_000, 0)
    r = ok(http.post(f"{R}/{d['id']}/submit", json={"accepted_amount_due": 0}, headers=me.headers))
    assert r["status"] == "submitted"
    assert r["authority_code"] == POLICE
    assert r["fee"]["amount_due"] == 0
    queue = ok(http.get(f"{S}/requests", headers=boss.headers))
    assert r["id"] in [x["id"] for x in queue["items"]]
    for action in ("receive", "verify", "approve"):
        step(http, boss, r["id"], action)
    issued = step(http, boss, r["id"], "issue")
    assert issued["status"] == "issued"
    detail = ok(http.get(f"{R}/{r['id']}", headers=me.headers))
    assert [x["to_status"] for x in detail["steps"]] == ["draft", "submitted", "received", "verifying", "approved",
                                                         "issued"]
    assert all(x["actor_id"] == str(boss.user_id) for x in detail["steps"][2:])
    certs = ok(http.get("/api/v1/judicial/certificates", headers=me.headers))
    cert = next(c for c in certs if c["id"] == issued["certificate_id"])
    assert cert["status"] == "valid"
    jwks = KeySet.import_key_set(ok(http.get(f"{P}/jwks")))
    vc = jose_jwt.decode(cert["vc_jwt"], jwks, algorithms=["ES256"])
    assert vc.header["typ"] == "vc+jwt"
    assert vc.claims["credentialSubject"]["birthDate"] == DOB
    pdf = http.get(cert["pdf_url"], headers=me.headers)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert "PHIẾU LÝ LỊCH TƯ PHÁP SỐ 1" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    inbox = asyncio.run(_count(database_url, "SELECT count(*) FROM notification_inbox WHERE user_id = $1 "
                                             "AND template LIKE 'judicial.%'", me.user_id))
    assert inbox == 5


async def _count(database_url: str, sql: str, *args: Any) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval(sql, *args))
    finally:
        await conn.close()


def test_supplement_then_reject_and_roles(http: httpx.Client, database_url: str) -> None:
    me = login(http)
    handler = login_staff(http, database_url, POLICE, "handler")
    boss = login_staff(http, database_url, POLICE, "supervisor")
    r = submitted(http, me)
    step(http, handler, r["id"], "receive")
    asked = step(http, handler, r["id"], "supplement-request", {"note": "Bổ sung thông tin vợ/chồng"})
    assert asked["status"] == "supplement_requested"
    assert asked["paused_at"]
    assert step(http, handler, r["id"], "supplement-request", {"note": ""}, status=422)["errors"]
    answered = ok(http.post(f"{R}/{r['id']}/supplement", json={
        "note": "Đã bổ sung", "applicant": {"spouse": {"full_name": "Đỗ Thị Lan", "birth_year": 1991}}},
        headers=me.headers))
    assert answered["status"] == "supplemented"
    assert answered["applicant"]["spouse"]["full_name"] == "Đỗ Thị Lan"
    step(http, handler, r["id"], "verify")
    assert step(http, handler, r["id"], "reject", {"reason": "x"}, status=403)["code"] == "judicial.role_required"
    rejected = step(http, boss, r["id"], "reject", {"reason": "Thông tin nhân thân không khớp"})
    assert rejected["status"] == "rejected"
    assert rejected["rejection_reason"] == "Thông tin nhân thân không khớp"
    assert step(http, boss, r["id"], "approve", status=409)["code"] == "judicial.wrong_status"
    steps = ok(http.get(f"{R}/{r['id']}", headers=me.headers))["steps"]
    assert [x["to_status"] for x in steps][-5:] == ["received", "supplement_requested", "supplemented",
                                                    "verifying", "rejected"]


def test_proxy_needs_the_authorisation_and_no2_by_proxy_is_refused(http: httpx.Client,
                                                                   database_url: str) -> None:
    proxy = login(http)
    refused = http.post(R, json=proxy_body(certificate_type="2"), headers=proxy.headers)
    assert refused.status_code == 403
    assert refused.json()["code"] == "judicial.no2_by_proxy"
    d = ok(http.post(R, json=proxy_body(), headers=proxy.headers), 201)
    assert d["prefilled"] == []
    assert d["by_proxy"]
    no_doc = http.post(f"{R}/{d['id']}/submit", json={}, headers=proxy.headers)
    assert no_doc.status_code == 422
    assert no_doc.json()["errors"][0]["field"] == "proxy.document"
    bad = http.post(f"{R}/{d['id']}/documents?kind=proxy", files={"file": ("a.pdf", b"MZ..", "application/pdf")},
                    headers=proxy.headers)
    assert bad.status_code == 422
    doc = ok(http.post(f"{R}/{d['id']}/documents?kind=proxy", files={"file": ("uq.pdf", PDF, "application/pdf")},
                       headers=proxy.headers), 201)
    r = ok(http.post(f"{R}/{d['id']}/submit", json={}, headers=proxy.headers))
    assert r["status"] == "submitted"
    assert r["proxy"]["document"]["sha256"] == doc["sha256"]
    boss = login_staff(http, database_url, POLICE, "handler")
    got = http.get(f"{R}/{r['id']}/documents/{doc['key']}", headers=boss.headers)
    assert got.status_code == 200
    assert got.content == PDF
    # The person the certificate is about, logged in, does not see the proxy's request.
    other = login(http)
    assert http.get(f"{R}/{r['id']}", headers=other.headers).status_code == 404
    assert http.get(f"{R}/{r['id']}/documents/{doc['key']}", headers=other.headers).status_code == 404


def test_share_code_verification_wrong_dob_revoked_expired_and_brute_force(http: httpx.Client,
                                                                          database_url: str) -> None:
    me = login(http)
    boss = login_staff(http, database_url, POLICE, "supervisor")
    cert = issue(http, me, boss)
    share = ok(http.post(f"/api/v1/judicial/certificates/{cert['id']}/shares",
                         json={"purpose": "Tuyển dụng kế toán", "days": 30}, headers=me.headers), 201)
    code = share["code"]
    assert len(code.replace("-", "")) == 9
    shown = ok(http.post(f"{P}/verifications", json={"code": code, "date_of_birth": DOB, "verifier": "Công ty A"}))
    assert shown["status"] == "valid"
    assert shown["vc_jwt"] == cert["vc_jwt"]
    assert shown["purpose"] == "Tuyển dụng kế toán"
    wrong = http.post(f"{P}/verifications", json={"code": code, "date_of_birth": "1990-05-18"})
    assert wrong.status_code == 404
    assert wrong.json()["code"] == "judicial.share_code_not_found"
    log = ok(http.get("/api/v1/judicial/verifications", headers=me.headers))
    assert [v["outcome"] for v in log][:2] == ["wrong_date_of_birth", "shown"]

    # Revocation: the status list says revoked, and so does the verify endpoint.
    ok(http.post(f"{S}/certificates/{cert['id']}/status", json={"action": "revoke", "reason": "Cấp sai"},
                 headers=boss.headers))
    vc = jose_jwt.decode(cert["vc_jwt"], KeySet.import_key_set(ok(http.get(f"{P}/jwks"))))
    entry = next(e for e in vc.claims["credentialStatus"] if e["statusPurpose"] == "revocation")
    listed = http.get("/api/v1" + entry["statusListCredential"].split("/api/v1", 1)[1])
    assert listed.status_code == 200
    assert listed.headers["content-type"].startswith("application/vc+jwt")
    subject = jose_jwt.decode(listed.text, KeySet.import_key_set(ok(http.get(f"{P}/jwks")))).claims[
        "credentialSubject"]
    raw = subject["encodedList"][1:]
    bits = gzip.decompress(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    index = int(entry["statusListIndex"])
    assert bits[index // 8] & (0x80 >> (index % 8))
    assert ok(http.post(f"{P}/verifications", json={"code": code, "date_of_birth": DOB}))["status"] == "revoked"

    # A revoked code and an expired one (expiry moved into the past) are refused with 410.
    cert2 = issue(http, me, boss)
    s2 = ok(http.post(f"/api/v1/judicial/certificates/{cert2['id']}/shares", json={"purpose": "Du học"},
                      headers=me.headers), 201)
    assert http.delete(f"/api/v1/judicial/shares/{s2['id']}", headers=me.headers).status_code == 204
    revoked = http.post(f"{P}/verifications", json={"code": s2["code"], "date_of_birth": DOB})
    assert revoked.status_code == 410
    assert revoked.json()["code"] == "judicial.share_code_revoked"
    s3 = ok(http.post(f"/api/v1/judicial/certificates/{cert2['id']}/shares", json={"purpose": "Visa", "days": 1},
                      headers=me.headers), 201)
    asyncio.run(_count(database_url, "UPDATE judicial_share_codes SET created_at = created_at - interval '2 days',"
                                     " expires_at = expires_at - interval '2 days' WHERE id = $1 RETURNING 1",
                       uuid.UUID(s3["id"])))
    expired = http.post(f"{P}/verifications", json={"code": s3["code"], "date_of_birth": DOB})
    assert expired.status_code == 410
    assert expired.json()["code"] == "judicial.share_code_expired"

    # Brute force on the date of birth: five wrong dates lock the code (429 + Retry-After), even for the
    # right date afterwards.
    s4 = ok(http.post(f"/api/v1/judicial/certificates/{cert2['id']}/shares", json={"purpose": "Ngân hàng"},
                      headers=me.headers), 201)
    for day in range(1, 6):
        r = http.post(f"{P}/verifications", json={"code": s4["code"], "date_of_birth": f"1990-06-{day:02d}"})
        assert r.status_code == 404
    locked = http.post(f"{P}/verifications", json={"code": s4["code"], "date_of_birth": DOB})
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0


def test_no2_is_never_shared_and_others_see_nothing(http: httpx.Client, database_url: str) -> None:
    me = login(http)
    boss = login_staff(http, database_url, POLICE, "supervisor")
    r = submitted(http, me, certificate_type="2")
    for action in ("receive", "verify", "approve"):
        step(http, boss, r["id"], action)
    cert_id = step(http, boss, r["id"], "issue")["certificate_id"]
    no = http.post(f"/api/v1/judicial/certificates/{cert_id}/shares", json={"purpose": "Xin việc"},
                   headers=me.headers)
    assert no.status_code == 403
    assert no.json()["code"] == "judicial.no2_not_shareable"
    other, doj = login(http), login_staff(http, database_url, DOJ, "supervisor")
    pending = submitted(http, me)
    for path in (f"{R}/{pending['id']}", f"/api/v1/judicial/certificates/{cert_id}/pdf", f"{R}/{pending['id']}/quote"):
        assert http.get(path, headers=other.headers).status_code == 404, path
    assert http.post(f"{R}/{pending['id']}/withdraw", json={}, headers=other.headers).status_code == 404
    assert http.get(f"{S}/requests/{pending['id']}", headers=doj.headers).status_code == 404
    assert step(http, doj, pending["id"], "receive", status=404)["code"] == "judicial.request_not_found"
    assert pending["id"] not in [x["id"] for x in ok(http.get(f"{S}/requests", headers=doj.headers))["items"]]
    assert http.get(f"{S}/requests", headers=other.headers).status_code == 403
    assert http.post(f"{S}/certificates/{cert_id}/status", json={"action": "revoke", "reason": "x"},
                     headers=doj.headers).status_code == 404
    level1 = login(http, level=1)
    assert http.post(R, json=draft_body(), headers=level1.headers).status_code == 403
    bad = http.post(R, json={**draft_body(), "status": "issued"}, headers=me.headers)
    assert bad.status_code == 422
    assert ok(http.post(f"{R}/{pending['id']}/withdraw", json={"reason": "Không cần"},
                        headers=me.headers))["status"] == "withdrawn"


def test_postage_owed_is_paid_through_the_vietqr_and_a_withdrawal_cancels_it(http: httpx.Client,
                                                                             database_url: str) -> None:
    me, other = login(http), login(http)
    rid = start(http, me, delivery="post", postal_address=HANOI)["id"]
    r = ok(http.post(f"{R}/{rid}/submit", json={}, headers=me.headers))
    owed = r["fee"]["amount_due"]
    assert owed > 0
    assert r["fee_payment"]["status"] == "pending"
    assert r["fee_payment"]["amount"] == owed
    intent = ok(http.get(f"/api/v1/payments/intents/{r['fee_payment']['intent_id']}", headers=me.headers))
    assert intent["purpose"] == "judicial.fee"
    assert intent["amount"] == owed
    assert intent["checkout"]["qr_payload"].startswith("000201")
    assert http.get(f"/api/v1/payments/intents/{intent['id']}", headers=other.headers).status_code == 404
    assert http.get(f"{R}/{rid}", headers=other.headers).status_code == 404
    # The citizen pays with their banking app; the bank's notification marks the fee paid.
    assert http.post("/dev/payments/simulate", json={"qr_payload": intent["checkout"]["qr_payload"]}).status_code == 200
    deadline = time.monotonic() + 10
    while ok(http.get(f"{R}/{rid}", headers=me.headers))["fee_payment"]["status"] != "paid":
        assert time.monotonic() < deadline, "the payment notification did not arrive"
        time.sleep(0.05)
    # Another request withdrawn before paying: its intent is canceled and the fee lapses.
    rid2 = start(http, me, delivery="post", postal_address=HANOI)["id"]
    pending = ok(http.post(f"{R}/{rid2}/submit", json={}, headers=me.headers))["fee_payment"]
    ok(http.post(f"{R}/{rid2}/withdraw", json={"reason": "Không cần nữa"}, headers=me.headers))
    assert ok(http.get(f"{R}/{rid2}", headers=me.headers))["fee_payment"]["status"] == "lapsed"
    boss = login_staff(http, database_url, POLICE, "handler")
    assert ok(http.get(f"{S}/requests/{rid2}", headers=boss.headers))["fee_payment"]["status"] == "lapsed"
    assert ok(http.get(f"{S}/requests/{rid}", headers=boss.headers))["fee_payment"]["status"] == "paid"
    canceled = ok(http.get(f"/api/v1/payments/intents/{pending['intent_id']}", headers=me.headers))
    assert canceled["status"] == "canceled"
    assert canceled["checkout"] is None


def test_the_certificate_waits_for_the_postage_to_be_paid(http: httpx.Client, database_url: str) -> None:
    me = login(http)
    boss = login_staff(http, database_url, POLICE, "supervisor")
    rid = start(http, me, delivery="post", postal_address=HANOI)["id"]
    intent_id = ok(http.post(f"{R}/{rid}/submit", json={}, headers=me.headers))["fee_payment"]["intent_id"]
    for action in ("receive", "verify", "approve"):
        step(http, boss, rid, action)
    unpaid = http.post(f"{S}/requests/{rid}/issue", json={}, headers=boss.headers)
    assert unpaid.status_code == 409
    assert unpaid.json()["code"] == "judicial.fee_unpaid"
    intent = ok(http.get(f"/api/v1/payments/intents/{intent_id}", headers=me.headers))
    assert http.post("/dev/payments/simulate", json={"qr_payload": intent["checkout"]["qr_payload"]}).status_code == 200
    deadline = time.monotonic() + 10
    while ok(http.get(f"{S}/requests/{rid}", headers=boss.headers))["fee_payment"]["status"] != "paid":
        assert time.monotonic() < deadline, "the payment notification did not arrive"
        time.sleep(0.05)
    assert step(http, boss, rid, "issue")["status"] == "issued"


async def _stored(database_url: str, principal: str, key: str) -> tuple[int, bytes, str] | None:
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow("SELECT status, body, headers::text AS h FROM idempotency_keys"
                                  " WHERE principal = $1 AND key = $2", principal, key)
        return None if row is None else (row["status"], bytes(row["body"]), row["h"])
    finally:
        await conn.close()


def test_a_draft_stores_its_key_in_its_insert_and_replays_like_any_creating_post(http: httpx.Client,
                                                                                 database_url: str) -> None:
    """The draft's idempotency row rides in the request's insert (api.platform.idempotency.idempotent_folded),
    its reference filled in SQL from the sequence the insert draws. The answers must be those of
    ``idempotent``: the stored row is the response byte for byte (reference and national ID number
    included, no blank left), a retry replays it, another body with the key is a 422 and keeps nothing,
    and concurrent retries make one request."""
    me = login(http)
    key = str(uuid.uuid4())
    headers = {**me.headers, "Idempotency-Key": key}
    body = proxy_body()  # the applicant's national ID number is in the answer, hence in the row
    first = http.post(R, json=body, headers=headers)
    assert first.status_code == 201, first.text
    draft = first.json()
    assert re.fullmatch(r"LLTP-\d{4}-\d{6}", draft["ref"]), draft["ref"]
    assert draft["applicant"]["id_document"]["number"] == "001192000123"
    assert first.headers["Location"] == f"{R}/{draft['id']}"
    assert b"blank-" not in first.content
    assert "Idempotent-Replayed" not in first.headers
    stored = asyncio.run(_stored(database_url, f"user:{me.user_id}", key))
    assert stored is not None
    assert stored[:2] == (201, first.content)
    assert f"{R}/{draft['id']}" in stored[2]

    retry = http.post(R, json=body, headers=headers)
    assert (retry.status_code, retry.headers.get("Idempotent-Replayed")) == (201, "true")
    assert retry.content == first.content
    assert retry.headers["Location"] == first.headers["Location"]
    reused = http.post(R, json=proxy_body(purpose="Khác"), headers=headers)
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency.key_reused"
    mine = "SELECT count(*) FROM judicial_requests WHERE requester_id = $1"
    assert asyncio.run(_count(database_url, mine, me.user_id)) == 1  # neither the retry nor the 422 kept one

    # Four at once with a new key: the others wait on the key's row, then replay the one answer.
    both = {**me.headers, "Idempotency-Key": str(uuid.uuid4())}
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: http.post(R, json=draft_body(), headers=both), range(4)))
    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.content for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 3
    assert asyncio.run(_count(database_url, mine, me.user_id)) == 2

    # Without a key: no row, a reference of its own.
    plain = ok(http.post(R, json=draft_body(), headers=me.headers), 201)
    assert plain["ref"] != draft["ref"]
    assert re.fullmatch(r"LLTP-\d{4}-\d{6}", plain["ref"])


# The queue's JSON, pinned: ``QueueItem`` (the read model the store decodes rows into) must encode byte for
# byte as the entity's view ``request_out`` did — the fields of the request in its order, ``version`` left
# out, then ``overdue`` and ``by_proxy``.
QUEUE_ITEM_KEYS = [
    "id", "ref", "requester_id", "certificate_type", "purpose", "copies", "delivery", "postal_address",
    "fee_category", "fee_documents", "applicant", "prefilled", "residence_history", "proxy", "status", "online",
    "requester_level", "authority_unit_id", "authority_code", "fee", "deadline_kind", "deadline_reasons", "due_at",
    "paused_at", "cross_check", "rejection_reason", "supplement_note", "created_at", "updated_at", "submitted_at",
    "closed_at", "overdue", "by_proxy"]


def test_the_queue_page_is_byte_for_byte_the_requests_view(http: httpx.Client, database_url: str) -> None:
    import msgspec

    me, proxy = login(http), login(http)
    boss = login_staff(http, database_url, POLICE, "supervisor")
    mine = submitted(http, me, delivery="post", postal_address=HANOI)
    d = ok(http.post(R, json=proxy_body(), headers=proxy.headers), 201)
    ok(http.post(f"{R}/{d['id']}/documents?kind=proxy", files={"file": ("uq.pdf", PDF, "application/pdf")},
                 headers=proxy.headers), 201)
    by_proxy = ok(http.post(f"{R}/{d['id']}/submit", json={}, headers=proxy.headers))
    step(http, boss, mine["id"], "receive")
    step(http, boss, mine["id"], "verify")  # a cross-check result in the row
    step(http, boss, by_proxy["id"], "supplement-request", {"note": "Bản gốc giấy ủy quyền"})  # paused
    raw = http.get(f"{S}/requests?limit=100", headers=boss.headers)
    assert raw.status_code == 200, raw.text
    page = msgspec.json.decode(raw.content)
    assert {mine["id"], by_proxy["id"]} <= {x["id"] for x in page["items"]}
    assert all(list(x) == QUEUE_ITEM_KEYS for x in page["items"])
    # Each item is the staff view of that request (the entity through ``request_out``) without the parts only
    # that view has; key order, values and encoding the same, so the bytes of the page are.
    views = []
    for x in page["items"]:
        one = msgspec.json.decode(http.get(f"{S}/requests/{x['id']}", headers=boss.headers).content)
        views.append({k: v for k, v in one.items() if k not in ("steps", "fee_payment")})
    assert raw.content == msgspec.json.encode({"items": views, "next_cursor": page["next_cursor"]})
    item = next(x for x in page["items"] if x["id"] == by_proxy["id"])
    assert item["by_proxy"]
    assert item["proxy"]["relation"] == "authorised"
    assert item["applicant"]["id_document"]["number"] == "001192000123"  # decrypted for the authority's staff
    assert item["status"] == "supplement_requested"
    assert item["paused_at"]
    assert item["overdue"] is False
    verified = next(x for x in page["items"] if x["id"] == mine["id"])
    assert verified["cross_check"]["outcome"]
    assert verified["postal_address"] == {**HANOI, "country": "VN"}


def test_the_status_list_has_a_strong_etag_and_answers_304_until_a_bit_flips(http: httpx.Client,
                                                                              database_url: str) -> None:
    me = login(http)
    boss = login_staff(http, database_url, POLICE, "supervisor")
    cert = issue(http, me, boss)
    vc = jose_jwt.decode(cert["vc_jwt"], KeySet.import_key_set(ok(http.get(f"{P}/jwks"))))
    entry = next(e for e in vc.claims["credentialStatus"] if e["statusPurpose"] == "suspension")
    url = "/api/v1" + entry["statusListCredential"].split("/api/v1", 1)[1]
    first = http.get(url)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)  # strong: a hash of the exact credential
    cache = first.headers["cache-control"]
    assert re.fullmatch(r"public, max-age=\d+, must-revalidate", cache)
    assert 0 < int(cache.split("max-age=")[1].split(",")[0]) <= 240  # re-signed a minute before validUntil
    # Polled again with the ETag: a body-less 304 with the same validators (also a weak or listed match, or *).
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = http.get(url, headers={"If-None-Match": sent})
        assert again.status_code == 304, sent
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"].startswith("public, max-age=")
    assert http.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert http.get(url, headers={"If-None-Match": etag}).status_code == 304
    # A suspension flips the certificate's bit: the same If-None-Match now gets the new list, new ETag.
    ok(http.post(f"{S}/certificates/{cert['id']}/status", json={"action": "suspend", "reason": "Kiểm tra lại"},
                 headers=boss.headers))
    changed = http.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    subject = jose_jwt.decode(changed.text, KeySet.import_key_set(ok(http.get(f"{P}/jwks")))).claims[
        "credentialSubject"]
    raw = subject["encodedList"][1:]
    bits = gzip.decompress(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    index = int(entry["statusListIndex"])
    assert bits[index // 8] & (0x80 >> (index % 8))
    assert http.get(url, headers={"If-None-Match": changed.headers["etag"]}).status_code == 304
