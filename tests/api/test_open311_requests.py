"""Open311 service requests end to end: partners submit through the feedback use case (routing,
deadlines), staff handle them, and partners read public-safe requests, tokens and updates."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema_rs
import pytest

from tests.support.auth import login, login_staff
from tests.support.feedback import R, S, sql, submit, upload
from tests.support.open311 import (
    FORM,
    O311,
    PartnerKey,
    created_id,
    issue_key,
    open311_errors,
    post_request,
    revoke_key,
    xml,
    xml_as_documented,
)

WARD = "W00058"  # Phường Lý Thái Tổ, where LAT/LONG point
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$")
PERSONAL = {"email": "nguoidan@example.com", "first_name": "Lan", "last_name": "Trần Thị", "phone": "0912345678",
            "device_id": "device-7781"}


def _count(database_url: str) -> tuple[int, int]:
    return (sql(database_url, "SELECT count(*) FROM feedback_reports"),
            sql(database_url, "SELECT count(*) FROM open311_requests"))


def _one(http: httpx.Client, ref: str, key: PartnerKey | None = None, **params: Any) -> dict[str, Any]:
    if key is not None:
        params["api_key"] = key.api_key
    r = http.get(f"{O311}/requests/{ref}.json", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body, list)
    assert len(body) == 1
    return body[0]  # type: ignore[no-any-return]


def test_partner_request_is_routed_and_reaches_the_unit_queue(http: httpx.Client, database_url: str) -> None:
    key = issue_key(http, database_url)
    handler = login_staff(http, database_url, WARD, "handler")
    r = post_request(http, key, account_id="acct-42", address_string="Phố Hàng Khay", **PERSONAL)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    (created,) = r.json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"}  # no token unless asked
    ref = created["service_request_id"]
    assert isinstance(ref, str)
    assert ref.startswith("PA-")
    assert created["account_id"] == "acct-42"
    assert "Lý Thái Tổ" in created["service_notice"]

    report_id = sql(database_url, "SELECT id FROM feedback_reports WHERE ref = $1", ref)
    assert sql(database_url, "SELECT u.code FROM feedback_reports r JOIN units u ON u.id = r.unit_id "
                             "WHERE r.ref = $1", ref) == WARD
    # Deadlines from the same use case as the citizen app (8 working hours to acknowledge).
    assert sql(database_url, "SELECT ack_due_at > created_at FROM feedback_reports WHERE ref = $1", ref)
    # The partner's reporter account stands in for the person; their details are stored encrypted.
    assert sql(database_url, "SELECT u.eid_issuer FROM feedback_reports r JOIN users u ON u.id = r.reporter_id "
                             "WHERE r.ref = $1", ref) == "urn:thudo:open311"
    stored = sql(database_url, "SELECT contact_enc FROM open311_requests WHERE report_id = $1", report_id)
    assert stored
    assert b"example.com" not in stored
    assert b"0912345678" not in stored

    queue = http.get("/api/v1/staff/feedback/queue",
                     params={"unit_id": str(sql(database_url, "SELECT unit_id FROM feedback_reports WHERE ref = $1",
                                                ref))}, headers=handler.headers)
    assert queue.status_code == 200, queue.text
    assert ref in [i["ref"] for i in queue.json()["items"]]

    mine = _one(http, ref, key)
    assert set(mine) == REQUEST_FIELDS
    assert mine["status"] == "open"
    assert mine["service_code"] == "SIDEWALK"
    assert mine["description"] == "Xe máy đỗ kín vỉa hè phố Hàng Khay"
    assert mine["address"] == "Phố Hàng Khay"
    assert mine["address_id"] == WARD
    assert isinstance(mine["lat"], float)
    assert isinstance(mine["long"], float)
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert ISO.match(mine[field]), mine[field]
    assert mine["agency_responsible"] == "Phường Lý Thái Tổ"

    # Anyone else sees that it exists, where and what state, not the reporter's words.
    public = _one(http, ref)
    assert public["description"] is None
    assert public["address"] is None
    assert public["status"] == "open"
    listing = http.get(f"{O311}/requests.json").text + http.get(f"{O311}/requests.xml").text
    for value in PERSONAL.values():
        assert value not in listing
        assert value not in http.get(f"{O311}/requests/{ref}.json",
                                                               params={"api_key": key.api_key}).text


def test_post_in_xml_with_typed_attributes(http: httpx.Client, database_url: str) -> None:
    key = issue_key(http, database_url)
    r = post_request(http, key, "xml", service_code="ROAD_DAMAGE", **{"attribute[size]": "large"})
    assert r.status_code == 200, r.text
    root = xml(r)
    assert root.tag == "service_requests"
    ref = root.findtext("request/service_request_id")
    assert ref
    assert ref.startswith("PA-")
    assert {c.tag for c in root.find("request")} == {"service_request_id", "service_notice", "account_id"}
    assert sql(database_url, "SELECT answers->>'size' FROM feedback_reports WHERE ref = $1", ref) == "large"

    multi = http.post(f"{O311}/requests.json", headers=FORM, content=(
        f"api_key={key.api_key}&service_code=NOISE&lat=21.0287&long=105.8545&description=On+ao"
        "&attribute[sources][]=karaoke&attribute[sources][]=traffic"
        "&attribute[observed_at]=2026-11-20T22:30:00%2B07:00").encode())
    assert multi.status_code == 200, multi.text
    ref = multi.json()[0]["service_request_id"]
    assert sql(database_url, "SELECT answers->'sources' FROM feedback_reports WHERE ref = $1",
               ref) == '["karaoke", "traffic"]'
    flood = post_request(http, key, service_code="FLOODING", **{"attribute[depth_cm]": "35"})
    assert flood.status_code == 200, flood.text
    assert sql(database_url, "SELECT answers->>'depth_cm' FROM feedback_reports WHERE ref = $1",
               flood.json()[0]["service_request_id"]) == "35"


BAD_POSTS: list[tuple[str, dict[str, Any], str]] = [
    ("missing service_code", {"service_code": None}, "service_code"),
    ("unknown service_code", {"service_code": "NOPE"}, "service_code"),
    ("no location", {"lat": None, "long": None}, "lat"),
    ("lat without long", {"long": None}, "long"),
    ("outside Hanoi", {"lat": "10.77", "long": "106.70"}, "lat"),
    ("lat not a number", {"lat": "north"}, "lat"),
    ("unknown address_id", {"lat": None, "long": None, "address_id": "W99999"}, "address_id"),
    ("address not locatable", {"lat": None, "long": None, "address_string": "somewhere"}, "address_string"),
    ("description too long", {"description": "x" * 4001}, "description"),
    ("media_url not http", {"media_url": "file:///etc/passwd"}, "media_url"),
    ("bad email", {"email": "not-an-email"}, "email"),
    ("unknown field", {"colour": "red"}, "colour"),
    ("missing required attribute", {"service_code": "ROAD_DAMAGE"}, "attribute[size]"),
    ("value not in list", {"service_code": "ROAD_DAMAGE", "attribute[size]": "huge"}, "attribute[size]"),
    ("unknown attribute", {"attribute[colour]": "red"}, "attribute[colour]"),
    ("number expected", {"service_code": "FLOODING", "attribute[depth_cm]": "deep"}, "attribute[depth_cm]"),
    ("two values for a single list", {"service_code": "ROAD_DAMAGE", "attribute[size][]": ["small", "large"]},
     "attribute[size]"),
    ("wrong jurisdiction", {"jurisdiction_id": "example.org"}, ""),
]


@pytest.mark.parametrize(("case", "fields", "names"), BAD_POSTS, ids=[c[0] for c in BAD_POSTS])
def test_bad_posts_are_400_and_write_nothing(http: httpx.Client, database_url: str, case: str,
                                             fields: dict[str, Any], names: str) -> None:
    key = issue_key(http, database_url)
    before = _count(database_url)
    for fmt in ("json", "xml"):
        r = post_request(http, key, fmt, **fields)
        status = 404 if case == "wrong jurisdiction" else 400
        errors = open311_errors(r, status)
        assert names in " ".join(e["description"] for e in errors)
    assert _count(database_url) == before


def test_bad_bodies_and_keys(http: httpx.Client, database_url: str) -> None:
    key = issue_key(http, database_url)
    before = _count(database_url)
    open311_errors(post_request(http, None), 403)
    open311_errors(post_request(http, None, "xml", api_key="o311_unknown"), 403)
    body = {"api_key": key.api_key, "service_code": "SIDEWALK", "lat": 21.0287, "long": 105.8545}
    open311_errors(http.post(f"{O311}/requests.json", json=body), 400)  # JSON instead of a form
    open311_errors(http.post(f"{O311}/requests.json", headers=FORM, content=b"api_key=a&api_key=b"), 400)
    open311_errors(http.post(f"{O311}/requests.json", headers=FORM, content=b"service_code=\xff\xfe"), 400)
    big = http.post(f"{O311}/requests.xml", headers=FORM, content=b"description=" + b"x" * (2 * 1024 * 1024))
    open311_errors(big, 413)
    required = open311_errors(post_request(http, key, service_code="ROAD_DAMAGE"), 400)
    assert "attribute[size]" in required[0]["description"]
    assert "(open311.bad_attribute)" in required[0]["description"]
    revoke_key(http, database_url, key)
    errors = open311_errors(post_request(http, key), 403)
    assert key.api_key not in str(errors)
    assert _count(database_url) == before


def test_locations_by_ward_code_or_address(http: httpx.Client, database_url: str) -> None:
    key = issue_key(http, database_url)
    by_code = created_id(http, key, lat=None, long=None, address_id=WARD)
    by_text = created_id(http, key, lat=None, long=None, address_string="12 Tràng Tiền, phường Lý Thái Tổ")
    for ref in (by_code, by_text):
        assert sql(database_url, "SELECT u.code FROM feedback_reports r JOIN units u ON u.id = r.unit_id "
                                 "WHERE r.ref = $1", ref) == WARD
        assert _one(http, ref)["address_id"] == WARD


def test_idempotency_key_returns_the_first_response(http: httpx.Client, database_url: str) -> None:
    key = issue_key(http, database_url)
    headers = {"Idempotency-Key": "partner-retry-1"}
    first = post_request(http, key, headers=headers)
    again = post_request(http, key, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    ref = first.json()[0]["service_request_id"]
    assert sql(database_url, "SELECT count(*) FROM feedback_reports WHERE ref = $1", ref) == 1
    # The same key from another partner is another request.
    other = post_request(http, issue_key(http, database_url, "Other"), headers=headers)
    assert other.json()[0]["service_request_id"] != ref


def test_tokens_resolve_to_the_request(http: httpx.Client, database_url: str) -> None:
    key = issue_key(http, database_url)
    r = post_request(http, key, extensions="true")
    created = r.json()[0]
    token = created["token"]
    assert isinstance(token, str)
    assert len(token) >= 20
    assert http.get(f"{O311}/tokens/{token}.json").json() == [
        {"service_request_id": created["service_request_id"], "token": token}]
    root = xml(http.get(f"{O311}/tokens/{token}.xml"))
    assert root.findtext("request/service_request_id") == created["service_request_id"]
    assert root.findtext("request/token") == token
    open311_errors(http.get(f"{O311}/tokens/{token}x.json"), 404)


def test_listing_shows_only_public_safe_requests(http: httpx.Client, database_url: str) -> None:
    partner_a, partner_b = issue_key(http, database_url, "A"), issue_key(http, database_url, "B")
    citizen = login(http)
    own_a = created_id(http, partner_a, description="Của đối tác A")
    private = submit(http, citizen, publishable=False, description="Không muốn công khai nội dung này")
    hidden = submit(http, citizen, description="Sẽ bị ẩn bởi cán bộ phường")
    handler = login_staff(http, database_url, WARD, "handler")
    assert http.post(f"{S}/{hidden['id']}/visibility", json={"hidden": True, "reason": "Có thông tin cá nhân"},
                     headers=handler.headers).status_code == 200

    listed = {r["service_request_id"]: r for r in http.get(f"{O311}/requests.json").json()}
    assert own_a in listed
    assert private["ref"] not in listed
    assert hidden["ref"] not in listed
    assert all(set(r) == REQUEST_FIELDS for r in listed.values())
    open311_errors(http.get(f"{O311}/requests/{private['ref']}.json"), 404)
    open311_errors(http.get(f"{O311}/requests/{hidden['ref']}.xml", params={"api_key": partner_b.api_key}), 404)
    # Partner B sees A's request without A's words; A sees them.
    assert _one(http, own_a, partner_b)["description"] is None
    assert _one(http, own_a, partner_a)["description"] == "Của đối tác A"
    # service_request_id overrides the other filters (a closed status would exclude it).
    both = http.get(f"{O311}/requests.json", params={"service_request_id": f"{own_a},{private['ref']}",
                                                  "status": "closed"}).json()
    assert [r["service_request_id"] for r in both] == [own_a]


def test_filters_windows_and_paging(http: httpx.Client, database_url: str) -> None:
    key = issue_key(http, database_url)
    road = created_id(http, key, service_code="ROAD_DAMAGE", **{"attribute[size]": "small"})
    walk = created_id(http, key)
    only_road = http.get(f"{O311}/requests.json", params={"service_code": "ROAD_DAMAGE"}).json()
    assert road in [r["service_request_id"] for r in only_road]
    assert walk not in [r["service_request_id"] for r in only_road]
    assert all(r["status"] == "open" for r in http.get(f"{O311}/requests.json", params={"status": "open"}).json())
    assert walk not in [r["service_request_id"]
                        for r in http.get(f"{O311}/requests.json", params={"status": "closed"}).json()]
    old = http.get(f"{O311}/requests.json", params={"start_date": "2020-01-01T00:00:00Z",
                                                 "end_date": "2020-03-01T00:00:00+07:00"})
    assert old.status_code == 200
    assert old.json() == []
    page = http.get(f"{O311}/requests.json", params={"page_size": "1", "page": "1"}).json()
    second = http.get(f"{O311}/requests.json", params={"page_size": "1", "page": "2"}).json()
    assert len(page) == len(second) == 1
    assert page != second
    root = xml(http.get(f"{O311}/requests.xml", params={"service_request_id": walk}))
    (request,) = root.findall("request")
    assert {c.tag for c in request} == REQUEST_FIELDS
    assert request.findtext("status") == "open"
    assert request.find("zipcode") is not None

    for params in ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},  # > 90 days
                   {"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"},  # end first
                   {"start_date": "yesterday"}, {"end_date": "2026-03-01T10:00:00"},  # no zone
                   {"status": "pending"}, {"service_code": "NOPE"}, {"page": "0"}, {"page_size": "1001"}):
        for fmt in ("json", "xml"):
            open311_errors(http.get(f"{O311}/requests.{fmt}", params=params), 400)
        if "start_date" in params or "end_date" in params:
            open311_errors(http.get(f"{O311}/servicerequestupdates.json", params=params), 400)


def test_lifecycle_appears_in_requests_and_updates(http: httpx.Client, database_url: str) -> None:
    key = issue_key(http, database_url)
    handler = login_staff(http, database_url, WARD, "handler")
    boss = login_staff(http, database_url, WARD, "supervisor")
    ref = created_id(http, key, media_url="https://partner.example/photos/1.jpg")
    report_id = str(sql(database_url, "SELECT id FROM feedback_reports WHERE ref = $1", ref))
    assert http.post(f"{S}/{report_id}/acknowledge", headers=handler.headers).status_code == 200
    assert http.post(f"{S}/{report_id}/assign", json={"assignee_id": str(handler.user_id)},
                     headers=boss.headers).status_code == 200
    secret_note = "Ghi chú nội bộ: chủ hộ số 5 là người quen"
    assert http.post(f"{S}/{report_id}/notes", json={"text": secret_note}, headers=handler.headers).status_code == 201
    evidence = upload(http, handler, f"{S}/{report_id}/evidence", b"%PDF-1.4\n% bien ban\n", "bb.pdf",
                      "application/pdf")
    reply = "Đã giải tỏa vỉa hè và lập biên bản"
    assert http.post(f"{S}/{report_id}/handle", json={"reply": reply, "evidence_ids": [evidence.json()["id"]]},
                     headers=handler.headers).status_code == 200

    done = _one(http, ref, extensions="true")
    assert done["status"] == "closed"
    assert done["status_notes"] == reply
    assert done["expected_datetime"] is None
    assert done["media_url"] == "https://partner.example/photos/1.jpg"
    assert done["detailed_status"] == "fixed"
    assert [n["status"] for n in done["notes"]] == ["open", "in_progress", "fixed"]

    feed = http.get(f"{O311}/servicerequestupdates.json").json()
    mine = [u for u in feed if u["service_request_id"] == ref]
    assert [u["external_status_code"] for u in mine] == ["open", "in_progress", "fixed"]
    assert [u["status"] for u in mine] == ["open", "open", "closed"]
    for u in mine:
        assert set(u) == {"update_id", "service_request_id", "status", "external_status_code", "description",
                          "updated_datetime", "media_url"}
        assert ISO.match(u["updated_datetime"])
        assert isinstance(u["update_id"], str)
    assert mine[-1]["description"] == reply
    assert mine[-1]["media_url"].endswith(f"/api/v1/public/feedback/reports/{report_id}/files/{evidence.json()['id']}")
    assert http.get(urlsplit(mine[-1]["media_url"]).path).status_code == 200  # served publicly
    everything = http.get(f"{O311}/servicerequestupdates.xml").text + http.get(f"{O311}/requests.json",
                                                                            params={"extensions": "true"}).text
    assert secret_note not in everything
    root = xml(http.get(f"{O311}/servicerequestupdates.xml", params={"max_requests": "1000"}))
    assert root.tag == "service_request_updates"
    assert ref in [u.findtext("service_request_id") for u in root.findall("request_update")]


def test_rejection_maps_to_fixmystreet_statuses(http: httpx.Client, database_url: str) -> None:
    key = issue_key(http, database_url)
    handler = login_staff(http, database_url, WARD, "handler")
    outcomes = {}
    for template in ("not_responsibility", "insufficient_info"):
        ref = created_id(http, key)
        report_id = str(sql(database_url, "SELECT id FROM feedback_reports WHERE ref = $1", ref))
        r = http.post(f"{S}/{report_id}/reject", json={"reason": "Không thuộc thẩm quyền của phường",
                                                        "template": template}, headers=handler.headers)
        assert r.status_code == 200, r.text
        outcomes[template] = ref
    feed = http.get(f"{O311}/servicerequestupdates.json", params={"api_key": key.api_key}).json()
    last = {u["service_request_id"]: u for u in feed}
    assert last[outcomes["not_responsibility"]]["external_status_code"] == "not_councils_responsibility"
    assert last[outcomes["insufficient_info"]]["external_status_code"] == "no_further_action"
    assert last[outcomes["insufficient_info"]]["status"] == "closed"
    assert _one(http, outcomes["insufficient_info"], key)["status_notes"] == "Không thuộc thẩm quyền của phường"


def test_citizen_photos_only_for_public_reports(http: httpx.Client, database_url: str) -> None:
    from tests.support.feedback import jpeg_with_gps

    citizen = login(http)
    handler = login_staff(http, database_url, WARD, "handler")
    report = submit(http, citizen)
    assert upload(http, citizen, f"{R}/{report['id']}/photos", jpeg_with_gps()).status_code == 201
    assert _one(http, report["ref"])["media_url"] is None  # open: not public yet
    http.post(f"{S}/{report['id']}/acknowledge", headers=handler.headers)
    evidence = upload(http, handler, f"{S}/{report['id']}/evidence", jpeg_with_gps())
    http.post(f"{S}/{report['id']}/handle", json={"reply": "Đã xử lý xong vi phạm",
                                                   "evidence_ids": [evidence.json()["id"]]}, headers=handler.headers)
    public = _one(http, report["ref"])
    assert public["media_url"]
    assert "/api/v1/public/feedback/reports/" in public["media_url"]
    assert public["description"] == report["description"]


def test_only_staff_of_the_unit_read_the_partner_contact(http: httpx.Client, database_url: str) -> None:
    key = issue_key(http, database_url, "Báo Hà Nội Mới")
    ref = created_id(http, key, account_id="acct-9", **PERSONAL)
    report_id = str(sql(database_url, "SELECT id FROM feedback_reports WHERE ref = $1", ref))
    url = f"{S}/{report_id}/partner-contact"
    handler = login_staff(http, database_url, WARD, "handler")
    r = http.get(url, headers=handler.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"partner": "Báo Hà Nội Mới", "account_id": "acct-9", **PERSONAL}
    assert r.headers["cache-control"] == "no-store"
    other_unit = login_staff(http, database_url, "W00001", "handler")
    assert http.get(url, headers=other_unit.headers).status_code == 404
    assert http.get(url, headers=login(http).headers).status_code == 403
    assert http.get(url).status_code == 401
    citizens = submit(http, login(http))
    assert http.get(f"{S}/{citizens['id']}/partner-contact", headers=handler.headers).status_code == 404
    assert http.get(f"{S}/not-a-uuid/partner-contact", headers=handler.headers).status_code in (400, 404, 422)


def test_answers_match_the_served_openapi(http: httpx.Client, database_url: str) -> None:
    """Schemathesis rarely reaches a handled, public request; here each Open311 answer carrying one (both
    formats, with extensions, plus errors) is validated against the operation's documented schema."""
    doc = http.get("/schema/openapi.json").json()
    components = doc["components"]["schemas"]
    key = issue_key(http, database_url)
    handler = login_staff(http, database_url, WARD, "handler")
    r = post_request(http, key, extensions="true", media_url="https://partner.example/photos/9.jpg")
    ref = r.json()[0]["service_request_id"]
    report_id = str(sql(database_url, "SELECT id FROM feedback_reports WHERE ref = $1", ref))
    assert http.post(f"{S}/{report_id}/acknowledge", headers=handler.headers).status_code == 200
    evidence = upload(http, handler, f"{S}/{report_id}/evidence", b"%PDF-1.4\n% bien ban\n", "bb.pdf",
                      "application/pdf")
    assert http.post(f"{S}/{report_id}/handle", json={"reply": "Đã sửa mặt đường, xem biên bản",
                                                      "evidence_ids": [evidence.json()["id"]]},
                     headers=handler.headers).status_code == 200

    def check(path: str, method: str, response: httpx.Response) -> Any:
        fmt = "json" if response.url.path.endswith(".json") else "xml"
        media = "application/json" if fmt == "json" else "text/xml"
        assert response.headers["content-type"].split(";")[0] == media
        schema = doc["paths"][path][method]["responses"][str(response.status_code)]["content"][media]["schema"]
        data = response.json() if fmt == "json" else xml_as_documented(response.content, schema, components)
        errors = list(jsonschema_rs.validator_for({**schema, "components": doc["components"]}).iter_errors(data))
        assert not errors, (path, [str(e) for e in errors])
        return data

    for fmt in ("json", "xml"):
        created = check(f"{O311}/requests.{fmt}", "post", post_request(http, key, fmt, extensions="true"))
        assert set(created[0]) == {"service_request_id", "service_notice", "account_id", "token"}
        one = check(f"{O311}/requests/{{service_request_id}}.{fmt}", "get",
                    http.get(f"{O311}/requests/{ref}.{fmt}", params={"extensions": "true", "api_key": key.api_key}))
        assert one[0]["service_request_id"] == ref
        assert one[0]["notes"]
        listed = check(f"{O311}/requests.{fmt}", "get",
                       http.get(f"{O311}/requests.{fmt}", params={"extensions": "true", "api_key": key.api_key}))
        assert ref in [item["service_request_id"] for item in listed]
        updates = check(f"{O311}/servicerequestupdates.{fmt}", "get",
                        http.get(f"{O311}/servicerequestupdates.{fmt}", params={"api_key": key.api_key}))
        assert ref in [u["service_request_id"] for u in updates]
        token = created[0]["token"]
        check(f"{O311}/tokens/{{token}}.{fmt}", "get", http.get(f"{O311}/tokens/{token}.{fmt}"))
        check(f"{O311}/services/{{service_code}}.{fmt}", "get", http.get(f"{O311}/services/ROAD_DAMAGE.{fmt}"))
        check(f"{O311}/discovery.{fmt}", "get", http.get(f"{O311}/discovery.{fmt}"))
        bad = check(f"{O311}/requests.{fmt}", "post", post_request(http, key, fmt, service_code="NO_SUCH"))
        assert bad[0]["code"] == "400"
        assert check(f"{O311}/requests.{fmt}", "get",
                     http.get(f"{O311}/requests.{fmt}", params={"api_key": "o311_wrong"}))[0]["code"] == "403"
