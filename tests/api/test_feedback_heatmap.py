"""Heat-map data: reports per square grid cell for a period, scoped like the statistics."""

from __future__ import annotations

import uuid

import httpx

from domain.feedback.geo import grid_steps
from tests.support.auth import login, login_city_admin, login_staff
from tests.support.feedback import HOAN_KIEM, category_body, recent_period, sql, submit

HEATMAP = "/api/v1/feedback/stats/heatmap"
WARD = "W00058"  # where HOAN_KIEM routes
NEAR = {"lat": HOAN_KIEM["lat"] + 0.0002, "lon": HOAN_KIEM["lon"] - 0.0002}  # ~30 m away, same 500 m cell
FAR = {"lat": 21.0500, "lon": 105.8000}  # Ba Đình, ~6 km away


def test_heatmap_counts_reports_per_cell_for_admin_and_unit_staff(http: httpx.Client, database_url: str) -> None:
    period = recent_period()
    admin = login_city_admin(http, database_url)
    citizen = login(http)
    created = http.post("/api/v1/admin/feedback/categories", json=category_body(questions=[]), headers=admin.headers)
    assert created.status_code == 201, created.text
    category = created.json()["id"]
    for place in (HOAN_KIEM, NEAR, FAR):
        submit(http, citizen, category_id=category, **place)

    city = http.get(HEATMAP, params={**period, "category_id": category}, headers=admin.headers)
    assert city.status_code == 200, city.text
    body = city.json()
    assert body["cell_m"] == 500
    assert body["truncated"] is False
    assert [(c["reports"], c["open"]) for c in body["cells"]] == [(2, 2), (1, 1)]  # busiest first
    dlat, dlon = grid_steps(500)
    busiest = body["cells"][0]
    for point in (HOAN_KIEM, NEAR):  # the cell is given by its centre: both points lie inside it
        assert abs(point["lat"] - busiest["lat"]) <= dlat / 2
        assert abs(point["lon"] - busiest["lon"]) <= dlon / 2
    assert set(busiest) == {"lat", "lon", "reports", "open"}  # counts only: no report, reporter or text

    # Larger cells merge what smaller ones keep apart.
    coarse = http.get(HEATMAP, params={**period, "category_id": category, "cell_m": 5000}, headers=admin.headers)
    assert sum(c["reports"] for c in coarse.json()["cells"]) == 3
    assert len(coarse.json()["cells"]) <= 2

    unit = str(sql(database_url, "SELECT id FROM units WHERE code = $1", WARD))
    staff = login_staff(http, database_url, WARD, "handler")
    mine = http.get(HEATMAP, params={**period, "category_id": category, "unit_id": unit}, headers=staff.headers)
    assert mine.status_code == 200, mine.text
    assert [c["reports"] for c in mine.json()["cells"]] == [2]  # the far report went to another unit

    other_category = http.get(HEATMAP, params={**period, "category_id": str(uuid.uuid4())}, headers=admin.headers)
    assert other_category.json()["cells"] == []


def test_heatmap_is_for_the_unit_staff_and_city_admins_only(http: httpx.Client, database_url: str) -> None:
    period = recent_period()
    unit = str(sql(database_url, "SELECT id FROM units WHERE code = $1", WARD))
    citizen, other_citizen = login(http), login(http)
    outsider = login_staff(http, database_url, "D005", "supervisor")
    staff = login_staff(http, database_url, WARD, "handler")
    for who, params in [(citizen, {"unit_id": unit}), (other_citizen, {}), (outsider, {"unit_id": unit}),
                        (staff, {})]:  # a unit's staff never sees the whole city
        r = http.get(HEATMAP, params={**period, **params}, headers=who.headers)
        assert r.status_code == 403, (who, params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert http.get(HEATMAP, params=period).status_code == 401


def test_heatmap_bad_input_is_a_problem(http: httpx.Client, database_url: str) -> None:
    admin = login_city_admin(http, database_url)
    period = recent_period()
    for params, field in [({**period, "cell_m": "50"}, "cell_m"), ({**period, "cell_m": "big"}, "cell_m"),
                          ({"from": period["to"], "to": period["from"]}, "to"),
                          ({"from": "2020-01-01", "to": "2026-01-01"}, "to"),
                          ({**period, "unit_id": "not-a-uuid"}, "unit_id"), ({"to": period["to"]}, "from")]:
        r = http.get(HEATMAP, params=params, headers={**admin.headers, "Accept-Language": "en"})
        assert r.status_code in (400, 422), (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in r.text, (params, r.text)
