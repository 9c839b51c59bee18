"""Statistics and administration pages of the console over HTTP: the unit's and the city's figures with
SVG charts and the CSV file; admin pages refused to plain staff; a city admin's grants, categories,
Open311 keys, facilities and issuing authorities; a unit admin limited to their unit; CSRF on every form."""

from __future__ import annotations

import csv
import io
import secrets

import httpx

from tests.api.test_feedback_admin_stats import _handled
from tests.support.auth import login, login_staff, register_person
from tests.support.console import Console, console_session
from tests.support.console import console_login as console_staff
from tests.support.feedback import recent_period, sql

WARD = "W00058"
ADMIN = "/console/admin"


def console_city_admin(http: httpx.Client, database_url: str) -> Console:
    personal_id = register_person(http)
    first = login(http, personal_id=personal_id)
    sql(database_url, "UPDATE users SET city_admin = true WHERE id = $1", first.user_id)
    return Console(http=http, cookie=console_session(http, personal_id), user_id=first.user_id, personal_id=personal_id)


def ok(r: httpx.Response, status: int = 200) -> str:
    assert r.status_code == status, r.text
    return r.text


def test_unit_statistics_with_charts_and_csv(http: httpx.Client, database_url: str) -> None:
    api_staff = login_staff(http, database_url, WARD, "supervisor")
    _handled(http, api_staff, login(http))
    staff = console_staff(http, database_url, WARD, "handler")
    period = recent_period()
    unit = str(sql(database_url, "SELECT id FROM units WHERE code = $1", WARD))
    query = f"unit={unit}&from={period['from']}&to={period['to']}"
    text = ok(staff.get(f"/console/stats/?{query}"))
    assert text.count("<svg") == 2
    assert 'role="img"' in text
    assert "Tiếp nhận" in text
    assert f'href="/console/stats/export.csv?{query.replace("&", "&amp;")}"' in text
    # The default: the staff member's own unit, the last 30 days.
    assert f'value="{unit}" selected' in ok(staff.get("/console/stats/"))
    got = staff.get(f"/console/stats/export.csv?{query}")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    assert got.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs (the API's own CSV writer)
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[0]["unit_code"] == WARD
    assert int(rows[0]["handled"]) >= 1
    # The whole city and another unit are for city admins only.
    assert staff.get(f"/console/stats/?unit=city&from={period['from']}&to={period['to']}").status_code == 403
    other = str(sql(database_url, "SELECT id FROM units WHERE code = 'W00001'"))
    assert staff.get(f"/console/stats/export.csv?unit={other}").status_code == 403
    assert staff.get("/console/stats/?from=2026-13-01").status_code == 422
    admin = console_city_admin(http, database_url)
    city = ok(admin.get(f"/console/stats/?unit=city&from={period['from']}&to={period['to']}"))
    assert "Toàn thành phố" in city
    assert city.count("<svg") == 2


def test_admin_pages_are_refused_to_plain_staff(http: httpx.Client, database_url: str) -> None:
    staff = console_staff(http, database_url, WARD, "supervisor")
    for path in ("/", "/staff", "/categories", "/open311-keys", "/facilities", "/authorities"):
        r = staff.get(f"{ADMIN}{path}")
        assert r.status_code == 403, (path, r.status_code)
        assert "text/html" in r.headers["content-type"]
    assert staff.post(f"{ADMIN}/open311-keys", {"name": "Đối tác"}).status_code == 403
    assert 'href="/console/admin/"' not in ok(staff.get("/console/"))  # no menu entry either


def test_city_admin_keys_categories_facilities_and_authorities(http: httpx.Client, database_url: str) -> None:
    admin = console_city_admin(http, database_url)
    ok(admin.get(f"{ADMIN}/"))
    name = f"Đối tác {secrets.token_hex(3)}"
    assert admin.post(f"{ADMIN}/open311-keys", {"name": name}, csrf=False).status_code == 403
    issued = ok(admin.post(f"{ADMIN}/open311-keys", {"name": name}))
    key = issued.split('<code id="new-key">')[1].split("<")[0]
    assert key.startswith("o311_")
    assert key not in ok(admin.get(f"{ADMIN}/open311-keys"))  # shown once
    key_id = str(sql(database_url, "SELECT id FROM open311_keys WHERE name = $1", name))
    assert admin.post(f"{ADMIN}/open311-keys/{key_id}/revoke").status_code == 303
    assert sql(database_url, "SELECT revoked_at IS NOT NULL FROM open311_keys WHERE id = $1::uuid", key_id)

    cat_id = str(sql(database_url, "SELECT id FROM feedback_categories WHERE code = 'SIDEWALK'"))
    assert "SIDEWALK" in ok(admin.get(f"{ADMIN}/categories"))
    try:
        assert admin.post(f"{ADMIN}/categories/{cat_id}/active", {"active": "0"}).status_code == 303
        assert sql(database_url, "SELECT active FROM feedback_categories WHERE id = $1::uuid", cat_id) is False
    finally:
        assert admin.post(f"{ADMIN}/categories/{cat_id}/active", {"active": "1"}).status_code == 303
    assert sql(database_url, "SELECT active FROM feedback_categories WHERE id = $1::uuid", cat_id) is True
    assert (
        admin.post(f"{ADMIN}/categories/00000000-0000-7000-8000-000000000000/active", {"active": "1"}).status_code
        == 404
    )

    code = "T" + secrets.token_hex(3).upper()
    assert (
        admin.post(f"{ADMIN}/facilities", {"code": code, "name": "Trạm y tế thử", "level": "commune"}).status_code
        == 303
    )
    assert code in ok(admin.get(f"{ADMIN}/facilities"))
    assert admin.post(f"{ADMIN}/facilities", {"code": "x", "name": "Sai mã", "level": "commune"}).status_code == 422
    fid = str(sql(database_url, "SELECT id FROM health_facilities WHERE code = $1", code))
    assert admin.post(f"{ADMIN}/facilities/{fid}/active", {"active": "0"}).status_code == 303
    assert sql(database_url, "SELECT active FROM health_facilities WHERE id = $1::uuid", fid) is False

    authorities = ok(admin.get(f"{ADMIN}/authorities"))
    assert "S-TP" in authorities
    assert "CA-TP" in authorities
    assert "01/07/2026" in authorities


def test_staff_grants_by_city_admin_and_unit_admin(http: httpx.Client, database_url: str) -> None:
    admin = console_city_admin(http, database_url)
    unit = str(sql(database_url, "SELECT id FROM units WHERE code = $1", WARD))
    newcomer = login(http)
    granted = admin.post(
        f"{ADMIN}/staff/grant", {"unit_id": unit, "role": "handler", "personal_id": newcomer.personal_id}
    )
    assert granted.status_code == 303
    assert granted.headers["location"] == f"{ADMIN}/staff?unit={unit}&done=granted"
    listing = ok(admin.get(granted.headers["location"]))
    assert newcomer.user["full_name"] in listing
    assert "Đã cấp quyền" in listing
    assert (
        admin.post(f"{ADMIN}/staff/grant", {"unit_id": unit, "role": "handler", "personal_id": "12345"}).status_code
        == 422
    )

    boss = console_staff(http, database_url, WARD, "unit_admin")
    ok(boss.get(f"{ADMIN}/staff"))
    other = str(sql(database_url, "SELECT id FROM units WHERE code = 'W00001'"))
    assert boss.get(f"{ADMIN}/staff?unit={other}").status_code == 403
    assert (
        boss.post(
            f"{ADMIN}/staff/grant", {"unit_id": other, "role": "handler", "personal_id": newcomer.personal_id}
        ).status_code
        == 403
    )
    assert boss.get(f"{ADMIN}/open311-keys").status_code == 403  # city admins only
    withdrawn = boss.post(
        f"{ADMIN}/staff/withdraw", {"unit_id": unit, "role": "handler", "user_id": str(newcomer.user_id)}
    )
    assert withdrawn.status_code == 303
    assert sql(database_url, "SELECT count(*) FROM staff_grants WHERE user_id = $1", newcomer.user_id) == 0


def test_city_admin_creates_and_edits_a_category_through_the_api_schema(http: httpx.Client, database_url: str) -> None:
    admin = console_city_admin(http, database_url)
    code = "CAT_" + secrets.token_hex(3).upper()
    form = {"code": code, "name_vi": "Cây xanh gãy đổ", "name_en": "Fallen trees", "group": "Môi trường",
            "keywords": "cây, gãy , đổ", "default_level": "normal", "normal_hours": "16", "complex_hours": "40",
            "urgent_hours": "4", "department_id": ""}
    assert "Thêm lĩnh vực" in ok(admin.get(f"{ADMIN}/categories/new"))
    assert admin.post(f"{ADMIN}/categories", form, csrf=False).status_code == 403
    made = admin.post(f"{ADMIN}/categories", form)
    assert made.status_code == 303, made.text
    assert f"Đã lưu lĩnh vực {code}." in ok(admin.get(made.headers["location"]))
    # The citizen's catalogue (the public API) shows it at once, with the SLA and keywords as typed.
    listed = {c["code"]: c for c in http.get("/api/v1/public/feedback/categories").json()}
    assert listed[code]["name_en"] == "Fallen trees"
    cat_id = str(sql(database_url, "SELECT id FROM feedback_categories WHERE code = $1", code))
    stored = sql(database_url, "SELECT sla_normal_hours || ' ' || array_to_string(keywords, '|') "
                 "FROM feedback_categories WHERE id = $1::uuid", cat_id)
    assert stored == "16 cây|gãy|đổ"
    # Edit: the form comes back filled in; a department route needs a department (the use case's rule).
    assert 'value="Fallen trees"' in ok(admin.get(f"{ADMIN}/categories/{cat_id}"))
    refused = admin.post(f"{ADMIN}/categories/{cat_id}", {**form, "route_to_department": "1"})
    assert refused.status_code == 422
    assert admin.post(f"{ADMIN}/categories/{cat_id}", {**form, "name_en": "Fallen or leaning trees"}).status_code == 303
    assert sql(database_url, "SELECT name_en FROM feedback_categories WHERE id = $1::uuid", cat_id) == \
        "Fallen or leaning trees"
    # The API's schema holds the form to the same limits: an urgent deadline over 4 hours, a taken code.
    assert admin.post(f"{ADMIN}/categories", {**form, "code": code + "X", "urgent_hours": "9"}).status_code == 422
    assert admin.post(f"{ADMIN}/categories", form).status_code == 409
    assert sql(database_url, "SELECT count(*) FROM feedback_categories WHERE code LIKE $1", code + "%") == 1
    # Plain staff cannot open the form.
    staff = console_staff(http, database_url, WARD, "supervisor")
    assert staff.get(f"{ADMIN}/categories/new").status_code == 403
    assert staff.post(f"{ADMIN}/categories", form).status_code == 403
