"""The public units directory: filters, names, ETag revalidation, and refusals of bad input."""

from __future__ import annotations

import httpx

from tests.support.auth import login


def test_lists_districts_wards_and_departments_with_names_and_centroids(http: httpx.Client) -> None:
    r = http.get("/api/v1/units")
    assert r.status_code == 200
    units = r.json()
    kinds = {u["kind"] for u in units}
    assert {"district", "ward", "department"} <= kinds
    ward = next(u for u in units if u["kind"] == "ward")
    assert ward["name_vi"]
    assert ward["name_en"]
    assert ward["code"]
    assert ward["parent_id"]
    assert set(ward["centroid"]) == {"lat", "lon"}
    department = next(u for u in units if u["kind"] == "department")
    assert department["centroid"] is None


def test_filters_by_kind_and_parent(http: httpx.Client) -> None:
    districts = http.get("/api/v1/units", params={"kind": "district"}).json()
    assert districts
    assert {d["kind"] for d in districts} == {"district"}
    district = districts[0]
    wards = http.get("/api/v1/units", params={"kind": "ward", "parent_id": district["id"]}).json()
    assert wards
    assert {w["parent_id"] for w in wards} == {district["id"]}
    one = http.get(f"/api/v1/units/{wards[0]['id']}")
    assert one.status_code == 200
    assert one.json() == wards[0]


def test_etag_revalidates_to_304_and_is_public(http: httpx.Client) -> None:
    first = http.get("/api/v1/units", params={"kind": "district"})
    etag = first.headers["etag"]
    assert "public" in first.headers["cache-control"]
    assert "no-store" not in first.headers["cache-control"]
    again = http.get("/api/v1/units", params={"kind": "district"}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    # Another selection is other bytes: another tag, so the old one does not validate it.
    wards = http.get("/api/v1/units", params={"kind": "ward"}, headers={"If-None-Match": etag})
    assert wards.status_code == 200
    assert wards.headers["etag"] != etag


def test_same_answer_for_anonymous_and_any_citizen(http: httpx.Client) -> None:
    anonymous = http.get("/api/v1/units", params={"kind": "district"})
    a, b = login(http), login(http)
    assert http.get("/api/v1/units", params={"kind": "district"}, headers=a.headers).json() == anonymous.json()
    assert http.get("/api/v1/units", params={"kind": "district"}, headers=b.headers).json() == anonymous.json()


def test_bad_input(http: httpx.Client) -> None:
    for params, field in (({"kind": "province"}, "kind"), ({"parent_id": "not-a-uuid"}, "parent_id")):
        r = http.get("/api/v1/units", params=params)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in r.json()["errors"]] == [field]
    assert http.get("/api/v1/units/not-a-uuid").json()["errors"][0]["field"] == "unit_id"
    missing = http.get("/api/v1/units/0192f7a0-0000-7000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["code"] == "units.unit_not_found"
