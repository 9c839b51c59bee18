"""Object- and function-level authorisation of feedback: other citizens and other units get 404/403."""

from __future__ import annotations

import httpx

from tests.support.auth import login, login_staff
from tests.support.feedback import HOAN_KIEM, R, S, categories, jpeg_with_gps, sql, submit, upload

WARD = "W00058"


def test_another_citizen_cannot_read_or_act(http: httpx.Client, database_url: str) -> None:
    owner, other = login(http), login(http)
    report = submit(http, owner, publishable=False)
    rid = report["id"]
    photo = upload(http, owner, f"{R}/{rid}/photos", jpeg_with_gps()).json()
    for path in (f"{R}/{rid}", f"{R}/{rid}/timeline", photo["url"], photo["thumbnail_url"]):
        r = http.get(path, headers=other.headers)
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("application/problem+json")
    assert upload(http, other, f"{R}/{rid}/photos", jpeg_with_gps()).status_code == 404
    assert http.post(f"{R}/{rid}/reopen", json={"reason": "x"}, headers=other.headers).status_code == 404
    assert http.post(f"{R}/{rid}/rating", json={"score": 1}, headers=other.headers).status_code == 404
    assert rid not in [i["id"] for i in http.get(R, headers=other.headers).json()["items"]]
    # Citizens never reach staff routes.
    assert http.post(f"{S}/{rid}/acknowledge", headers=other.headers).status_code == 403
    assert http.get(f"{S}/{rid}", headers=owner.headers).status_code == 403
    # Nothing is public before it is handled, and never without the reporter's consent.
    assert http.get(f"/api/v1/public/feedback/reports/{rid}").status_code == 404
    assert http.get(photo["url"].replace("/feedback/", "/public/feedback/")).status_code == 404
    assert http.get(R).status_code == 401


def test_staff_of_another_unit_cannot_see_or_act(http: httpx.Client, database_url: str) -> None:
    owner = login(http)
    mine = login_staff(http, database_url, WARD, "supervisor")
    outsider = login_staff(http, database_url, "D005", "supervisor")
    report = submit(http, owner)
    rid = report["id"]
    http.post(f"{S}/{rid}/notes", json={"text": "Ghi chú nội bộ"}, headers=mine.headers)
    for method, path, body in [
        ("GET", f"{S}/{rid}", None), ("GET", f"{S}/{rid}/timeline", None),
        ("POST", f"{S}/{rid}/acknowledge", None),
        ("POST", f"{S}/{rid}/assign", {"assignee_id": str(outsider.user_id)}),
        ("POST", f"{S}/{rid}/notes", {"text": "xem trộm"}),
        ("POST", f"{S}/{rid}/reject", {"reason": "không phải của tôi"}),
        ("POST", f"{S}/{rid}/transfer", {"unit_id": report["unit_id"], "reason": "chiếm lấy"}),
        ("POST", f"{S}/{rid}/visibility", {"hidden": True, "reason": "ẩn đi"}),
    ]:
        r = http.request(method, path, json=body, headers=outsider.headers)
        assert r.status_code == 404, (path, r.text)
    assert upload(http, outsider, f"{S}/{rid}/evidence", jpeg_with_gps()).status_code == 404
    queue = http.get("/api/v1/staff/feedback/queue", params={"unit_id": report["unit_id"]}, headers=outsider.headers)
    assert queue.status_code == 403
    assert sql(database_url, "SELECT count(*) FROM feedback_events WHERE report_id = $1::uuid", rid) == 2
    assert sql(database_url, "SELECT status FROM feedback_reports WHERE id = $1::uuid", rid) == "pending"
    # The reporter's view never contains internal notes.
    assert "note" not in [e["kind"] for e in http.get(f"{R}/{rid}/timeline", headers=owner.headers).json()]


def test_assign_only_to_handlers_of_the_unit(http: httpx.Client, database_url: str) -> None:
    owner = login(http)
    boss = login_staff(http, database_url, WARD, "supervisor")
    handler = login_staff(http, database_url, WARD, "handler")
    elsewhere = login_staff(http, database_url, "D005", "handler")
    rid = submit(http, owner)["id"]
    r = http.post(f"{S}/{rid}/assign", json={"assignee_id": str(elsewhere.user_id)}, headers=boss.headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "assignee_id"
    peer = login_staff(http, database_url, WARD, "handler")
    assert http.post(f"{S}/{rid}/assign", json={"assignee_id": str(peer.user_id)},
                     headers=handler.headers).status_code == 403
    assert sql(database_url, "SELECT assignee_id FROM feedback_reports WHERE id = $1::uuid", rid) is None


def test_duplicates_follow_and_follower_notifications(http: httpx.Client, database_url: str) -> None:
    owner, neighbour = login(http), login(http)
    staff = login_staff(http, database_url, WARD, "handler")
    report = submit(http, owner)
    rid = report["id"]
    cat = categories(http)["SIDEWALK"]["id"]
    near = http.get("/api/v1/feedback/duplicates", params={"category_id": cat, "lat": HOAN_KIEM["lat"] + 0.0003,
                                                          "lon": HOAN_KIEM["lon"]}, headers=neighbour.headers)
    assert near.status_code == 200, near.text
    match = next(d for d in near.json() if d["id"] == rid)
    assert match["distance_m"] < 100
    assert "reporter_id" not in match
    far = http.get("/api/v1/feedback/duplicates", params={"category_id": cat, "lat": HOAN_KIEM["lat"] + 0.01,
                                                         "lon": HOAN_KIEM["lon"]}, headers=neighbour.headers)
    assert rid not in [d["id"] for d in far.json()]
    assert http.post(f"{R}/{rid}/follow", headers=owner.headers).status_code == 409
    assert http.post(f"{R}/{rid}/follow", headers=neighbour.headers).status_code == 200
    assert http.post(f"{R}/{rid}/follow", headers=neighbour.headers).status_code == 200  # retry is harmless
    following = http.get("/api/v1/feedback/following", headers=neighbour.headers).json()["items"]
    assert [i["id"] for i in following] == [rid]
    assert http.get(f"{R}/{rid}", headers=neighbour.headers).status_code == 404  # following is not reading
    http.post(f"{S}/{rid}/acknowledge", headers=staff.headers)
    got = sql(database_url, "SELECT count(*) FROM notification_inbox WHERE user_id = $1 AND object_id = $2",
              neighbour.user_id, rid)
    assert got == 1
    assert http.delete(f"{R}/{rid}/follow", headers=neighbour.headers).status_code == 204
    assert http.delete(f"{R}/{rid}/follow", headers=neighbour.headers).status_code == 404


def test_my_reports_are_cursor_paged(http: httpx.Client, database_url: str) -> None:
    owner = login(http)
    ids = [submit(http, owner)["id"] for _ in range(3)]
    first = http.get(R, params={"limit": 2}, headers=owner.headers).json()
    assert [i["id"] for i in first["items"]] == ids[::-1][:2]
    second = http.get(R, params={"limit": 2, "cursor": first["next_cursor"]}, headers=owner.headers).json()
    assert [i["id"] for i in second["items"]] == [ids[0]]
    assert second["next_cursor"] is None
    bad = http.get(R, params={"cursor": "!!!"}, headers=owner.headers)
    assert bad.status_code == 422
    assert http.get(R, params={"limit": 101}, headers=owner.headers).status_code in (400, 422)


def test_my_export_contains_my_feedback_only(http: httpx.Client, database_url: str) -> None:
    owner, other = login(http), login(http)
    mine = submit(http, owner)
    theirs = submit(http, other)
    assert http.post(f"{R}/{theirs['id']}/follow", headers=owner.headers).status_code == 200
    export = http.get("/api/v1/me/export", headers=owner.headers)
    assert export.status_code == 200, export.text
    part = export.json()["feedback"]
    assert [r["ref"] for r in part["reports"]] == [mine["ref"]]
    assert [f["ref"] for f in part["following"]] == [theirs["ref"]]


def test_a_private_report_cannot_be_followed_found_or_leaked(http: httpx.Client, database_url: str) -> None:
    """Issue 10 #1: "me too" obeys the reporter's consent; the following list shows no more than the viewer may read."""
    owner, neighbour = login(http), login(http)
    staff = login_staff(http, database_url, WARD, "supervisor")
    private = submit(http, owner, publishable=False, description="Nhà tôi số 12 ngõ 5, gọi 0912345678",
                     address="Số 12 ngõ 5 Hàng Khay")
    cat = private["category_id"]
    near = http.get("/api/v1/feedback/duplicates", headers=neighbour.headers,
                    params={"category_id": cat, "lat": HOAN_KIEM["lat"], "lon": HOAN_KIEM["lon"]}).json()
    assert private["id"] not in [d["id"] for d in near]
    r = http.post(f"{R}/{private['id']}/follow", headers=neighbour.headers)
    assert r.status_code == 404
    assert sql(database_url, "SELECT count(*) FROM feedback_followers WHERE report_id = $1::uuid", private["id"]) == 0

    # A public-minded report is followed; once staff hide it, the follower keeps only its status.
    shared = submit(http, owner, description="Vỉa hè bị chiếm, số nhà 12", address="Số 12 ngõ 5 Hàng Khay")
    assert http.post(f"{R}/{shared['id']}/follow", headers=neighbour.headers).status_code == 200
    listed = http.get("/api/v1/feedback/following", headers=neighbour.headers).json()["items"]
    assert [i["description"] for i in listed] == ["Vỉa hè bị chiếm, số nhà 12"]
    hide = http.post(f"{S}/{shared['id']}/visibility", json={"hidden": True, "reason": "Lộ thông tin cá nhân"},
                     headers=staff.headers)
    assert hide.status_code == 200, hide.text
    listed = http.get("/api/v1/feedback/following", headers=neighbour.headers).json()["items"]
    assert [i["id"] for i in listed] == [shared["id"]]
    assert listed[0]["description"] == ""
    assert listed[0]["address"] == ""
    assert "số nhà 12" not in str(listed)
    assert "ngõ 5" not in str(listed)


def test_staff_mark_duplicates_only_of_reports_they_handle(http: httpx.Client, database_url: str) -> None:
    owner, other = login(http), login(http)
    staff = login_staff(http, database_url, WARD, "supervisor")
    elsewhere = submit(http, other, lat=21.0379, lon=105.7830)  # routed to another district
    assert elsewhere["unit_id"] != submit(http, owner)["unit_id"]
    mine = submit(http, owner)
    r = http.post(f"{S}/{mine['id']}/duplicate", json={"original_id": elsewhere["id"]}, headers=staff.headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "original_id"
    assert sql(database_url, "SELECT count(*) FROM feedback_followers WHERE report_id = $1::uuid", elsewhere["id"]) == 0
    assert sql(database_url, "SELECT status FROM feedback_reports WHERE id = $1::uuid", mine["id"]) == "pending"
