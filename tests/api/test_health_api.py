"""Health over HTTP: facility ingestion, the citizen's JSON record, the FHIR R4 API (parsed with
fhir.resources), shares (scope, expiry, revocation, QR), the access log, and everyone who must get nothing."""

from __future__ import annotations

import copy
import dataclasses
import uuid
from typing import Any

import httpx
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient

from adapters.dev.health_bundles import DEMO_FACILITIES, Facility, typical_bundle
from api.platform.app import create_app
from api.platform.settings import Settings
from tests.support.auth import ClientSession, Session, _run, client_token, login, login_city_admin
from tests.support.live import free_port, serve

FHIR = "application/fhir+json"


def facility(http: httpx.Client, database_url: str, admin: Session, f: Facility) -> ClientSession:
    client = client_token(http, database_url, "facility")
    code = f"{f.code}{uuid.uuid4().hex[:4].upper()}"
    r = http.post("/api/v1/health-facilities", headers=admin.headers,
                  json={"code": code, "name": f.name, "level": f.level, "client_id": str(client.id)})
    assert r.status_code == 201, r.text
    client.client_id = code  # the facility code its bundles must carry
    return client


def bundle_for(client: ClientSession, personal_id: str, visit: str, **kw: Any) -> dict[str, Any]:
    b = typical_bundle(personal_id=personal_id, visit_code=visit, **kw)
    b["entry"][1]["resource"]["serviceProvider"]["identifier"]["value"] = client.client_id
    return b


def post_bundle(http: httpx.Client, client: ClientSession, bundle: Any, path: str = "/api/v1/health-ingest/bundles"
                ) -> httpx.Response:
    return http.post(path, headers={**client.headers, "Content-Type": FHIR}, json=bundle)


def world(http: httpx.Client, database_url: str) -> dict[str, Any]:
    admin = login_city_admin(http, database_url)
    an = login(http)
    a = facility(http, database_url, admin, DEMO_FACILITIES[0])
    b = facility(http, database_url, admin, DEMO_FACILITIES[1])
    r = post_bundle(http, a, bundle_for(a, an.personal_id, f"V-{uuid.uuid4().hex[:8]}"))
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].startswith(FHIR)
    OperationOutcome.model_validate_json(r.content)
    tx = bundle_for(a, an.personal_id, f"V-{uuid.uuid4().hex[:8]}", bundle_type="transaction", seed=5)
    r = post_bundle(http, a, tx, "/fhir/r4")
    assert r.status_code == 201, r.text
    response = Bundle.model_validate_json(r.content)
    assert response.type == "transaction-response"
    me = http.get("/api/v1/health-record", headers=an.headers).json()
    return {"admin": admin, "an": an, "a": a, "b": b, "patient": me["patient_id"], "first": tx}


def test_ingest_then_read_back_through_both_apis(http: httpx.Client, database_url: str, clean_db: str) -> None:
    w = world(http, database_url)
    an, a, patient = w["an"], w["a"], w["patient"]
    # The same bundle again: 200, nothing duplicated.
    r = post_bundle(http, a, w["first"], "/fhir/r4")
    assert r.status_code == 200
    timeline = http.get("/api/v1/health-record/timeline", headers=an.headers).json()
    assert len(timeline["items"]) == 2
    assert timeline["items"][0]["facility_name"] == DEMO_FACILITIES[0].name
    labs = http.get("/api/v1/health-record/items/labs?limit=100", headers=an.headers).json()["items"]
    glucose = [i for i in labs if i.get("code") == "2345-7"]
    assert len(glucose) == 2
    assert (glucose[0]["range_low"], glucose[0]["range_high"]) == (3.9, 6.4)
    visit = http.get(f"/api/v1/health-record/visits/{timeline['items'][0]['id']}", headers=an.headers).json()
    assert len(visit["entries"]) == 20
    for cat in ("medications", "immunizations", "referrals", "appointments", "allergies", "documents"):
        assert http.get(f"/api/v1/health-record/items/{cat}", headers=an.headers).json()["items"], cat

    meta = http.get("/fhir/r4/metadata")
    assert meta.headers["content-type"].startswith(FHIR)
    CapabilityStatement.model_validate_json(meta.content)
    Patient.model_validate_json(http.get(f"/fhir/r4/Patient/{patient}", headers=an.headers).content)
    # Paging by ``next`` links: the total on every page (health.md), unless asked for none.
    for total, totals in (("", [10, 10, 10]), ("&_total=accurate", [10, 10, 10]), ("&_total=none", [None] * 3)):
        url = f"/fhir/r4/Observation?patient={patient}&category=laboratory&_count=4{total}"
        seen, got = [], []
        while url:
            page = Bundle.model_validate_json(http.get(url, headers=an.headers).content)
            assert page.type == "searchset"
            got.append(page.total)
            seen += [e.resource.id for e in page.entry or []]  # type: ignore[union-attr]
            nxt = [link.url for link in page.link if link.relation == "next"]
            assert total in (nxt[0] if nxt else total)  # the next page is asked the same way
            url = nxt[0].replace(str(http.base_url).rstrip("/"), "") if nxt else ""
        assert (len(seen), len(set(seen)), got) == (10, 10, totals), total
    counted = Bundle.model_validate_json(http.get(
        f"/fhir/r4/Observation?patient={patient}&category=laboratory&_count=0", headers=an.headers).content)
    assert (counted.total, counted.entry, [link.relation for link in counted.link]) == (10, None, ["self"])
    bad = http.get(f"/fhir/r4/Observation?patient={patient}&_total=exact", headers=an.headers)
    assert bad.status_code == 422
    assert OperationOutcome.model_validate_json(bad.content).issue[0].code == "processing"
    ips = Bundle.model_validate_json(http.get(f"/fhir/r4/Patient/{patient}/$summary", headers=an.headers).content)
    assert ips.type == "document"
    assert ips.entry[0].resource.type.coding[0].code == "60591-5"  # type: ignore[union-attr]
    meds = Bundle.model_validate_json(http.get(
        f"/fhir/r4/MedicationRequest?patient={patient}&intent=order&status=active", headers=an.headers).content)
    assert meds.total == 4
    one = meds.entry[0].resource  # type: ignore[index]
    assert http.get(f"/fhir/r4/MedicationRequest/{one.id}", headers=an.headers).status_code == 200
    bad = http.get(f"/fhir/r4/Observation?patient={patient}&foo=1", headers=an.headers)
    assert bad.status_code == 422
    OperationOutcome.model_validate_json(bad.content)


def test_a_fhir_request_needs_one_pooled_connection(http: httpx.Client, database_url: str, settings: Settings,
                                                    clean_db: str) -> None:
    """FHIR handlers serve any kind of caller, so they authenticate it themselves: from inside their unit of
    work, the session check took a second pooled connection while the request held one, and once every
    connection was held by such requests each waited for another for ever (the service stayed wedged after
    an overload). Authenticated before the unit of work opens, a pool of one connection is enough."""
    w = world(http, database_url)
    an, a, patient = w["an"], w["a"], w["patient"]
    one = dataclasses.replace(settings, db_pool_max=1, port=free_port(), public_base_url=settings.base_url)
    with serve(create_app(one), one.port) as url, httpx.Client(base_url=url, timeout=15) as single:
        for who, path in ((an, f"/fhir/r4/Observation?patient={patient}&_count=2"), (an, f"/fhir/r4/Patient/{patient}"),
                          (a, f"/fhir/r4/Encounter?patient={patient}")):
            r = single.get(path, headers=who.headers)
            assert r.status_code == 200, (path, r.text)
        assert single.post("/fhir/r4", headers={**a.headers, "Content-Type": FHIR}, json=w["first"]).status_code == 200
        # A caller without a token still gets the FHIR answer (an OperationOutcome), before any connection is used.
        r = single.get(f"/fhir/r4/Observation?patient={patient}")
        assert r.status_code == 401
        OperationOutcome.model_validate_json(r.content)


def test_bad_bundle_stores_nothing_and_names_the_resource(http: httpx.Client, database_url: str,
                                                           clean_db: str) -> None:
    w = world(http, database_url)
    bad = bundle_for(w["a"], w["an"].personal_id, "V-BAD")
    bad["entry"][15]["resource"]["medicationCodeableConcept"]["coding"][0]["code"] = "metformin"
    r = post_bundle(http, w["a"], bad)
    assert r.status_code == 422
    outcome = OperationOutcome.model_validate_json(r.content)
    assert [i.expression for i in outcome.issue] == [
        ["Bundle.entry[15].resource.medicationCodeableConcept.coding[0].code"]]
    assert len(http.get("/api/v1/health-record/timeline", headers=w["an"].headers).json()["items"]) == 2
    assert post_bundle(http, w["a"], "not json at all").status_code == 422
    r = http.post("/api/v1/health-ingest/bundles", headers={**w["a"].headers, "Content-Type": "text/plain"},
                  content=b"{}")
    assert r.status_code == 415
    # A citizen cannot send, another facility cannot send a visit at A.
    assert post_bundle(http, w["an"], bad).status_code == 403  # type: ignore[arg-type]
    r = post_bundle(http, w["b"], bundle_for(w["a"], w["an"].personal_id, "V-X"))
    assert r.status_code == 422
    assert "encounter_not_at_facility" in r.text


def test_nobody_else_reads(http: httpx.Client, database_url: str, clean_db: str) -> None:
    w = world(http, database_url)
    patient = w["patient"]
    binh = login(http)
    for path in (f"/fhir/r4/Patient/{patient}", f"/fhir/r4/Encounter?patient={patient}",
                 f"/fhir/r4/Patient/{patient}/$summary"):
        r = http.get(path, headers=binh.headers)
        assert r.status_code == 404, path
        OperationOutcome.model_validate_json(r.content)
        assert http.get(path, headers=w["b"].headers).status_code == 404, path  # never treated An
    assert http.get("/api/v1/health-record/timeline", headers=binh.headers).status_code == 404
    level1 = login(http, level=1)
    assert http.get("/api/v1/health-record/timeline", headers=level1.headers).status_code == 403
    assert http.get(f"/fhir/r4/Patient/{patient}").status_code == 401
    assert http.get("/api/v1/health-record/access-log", headers=w["an"].headers).json()["items"] == []

    # The treating facility reads what it sent; the citizen sees it in the log.
    r = http.get(f"/fhir/r4/Condition?patient={patient}", headers=w["a"].headers)
    assert r.status_code == 200
    assert Bundle.model_validate_json(r.content).total == 4
    log = http.get("/api/v1/health-record/access-log", headers=w["an"].headers).json()["items"]
    assert [(e["reader_kind"], e["action"], e["why"]) for e in log] == [("facility", "search", "treatment")]
    # However the total is asked for, every search by someone else is logged.
    for query in ("_count=1", "_count=1&_total=accurate", "_count=0", "_total=none"):
        r = http.get(f"/fhir/r4/Condition?patient={patient}&{query}", headers=w["a"].headers)
        assert r.status_code == 200, query
    log = http.get("/api/v1/health-record/access-log", headers=w["an"].headers).json()["items"]
    assert [(e["action"], e["what"]) for e in log] == [("search", "Condition")] * 5


def test_shares_scope_expiry_revocation_and_qr(http: httpx.Client, database_url: str, clean_db: str) -> None:
    w = world(http, database_url)
    an, patient = w["an"], w["patient"]
    doctor = login(http)
    r = http.post("/api/v1/health-record/shares", headers=an.headers,
                  json={"categories": ["allergies", "medications"], "recipient": "BS. Lan, BV Thanh Nhàn"})
    assert r.status_code == 201, r.text
    share = r.json()
    assert len(share["code"]) == 10
    qr = http.get(f"/api/v1/health-record/shares/qr?code={share['code']}", headers=an.headers)
    assert qr.status_code == 200
    assert qr.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert http.get(f"/api/v1/health-record/shares/qr?code={share['code']}&format=svg",
                    headers=an.headers).headers["content-type"].startswith("image/svg+xml")
    assert http.get(f"/api/v1/health-record/shares/qr?code={share['code']}",
                    headers=doctor.headers).status_code == 404
    assert http.get(f"/fhir/r4/Patient/{patient}", headers=doctor.headers).status_code == 404
    r = http.post("/api/v1/health-record/shares/redeem", headers=doctor.headers, json={"code": share["code"]})
    assert r.status_code == 200, r.text
    assert r.json()["patient_id"] == patient
    assert http.get(f"/fhir/r4/Patient/{patient}", headers=doctor.headers).status_code == 200
    allergies = Bundle.model_validate_json(http.get(f"/fhir/r4/AllergyIntolerance?patient={patient}",
                                                    headers=doctor.headers).content)
    assert allergies.total == 2
    labs = Bundle.model_validate_json(http.get(f"/fhir/r4/Observation?patient={patient}",
                                               headers=doctor.headers).content)
    assert labs.total == 0  # not shared
    log = http.get("/api/v1/health-record/access-log", headers=an.headers).json()["items"]
    assert {e["why"] for e in log} == {"share:BS. Lan, BV Thanh Nhàn"}

    # Expired: nothing; a new share redeemed by facility B, then revoked: nothing.
    _run(database_url, "UPDATE health_shares SET expires_at = now() - interval '1 minute' WHERE id = $1",
         uuid.UUID(share["id"]))
    assert http.get(f"/fhir/r4/Patient/{patient}", headers=doctor.headers).status_code == 404
    second = http.post("/api/v1/health-record/shares", headers=an.headers,
                       json={"recipient": "BV Xanh Pôn", "hours": 2}).json()
    assert http.post("/api/v1/health-record/shares/redeem", headers=w["b"].headers,
                     json={"code": second["code"]}).status_code == 200
    assert http.get(f"/fhir/r4/Observation?patient={patient}", headers=w["b"].headers).status_code == 200
    binh = login(http)
    assert http.post(f"/api/v1/health-record/shares/{second['id']}/revoke", headers=binh.headers).status_code == 404
    r = http.post(f"/api/v1/health-record/shares/{second['id']}/revoke", headers=an.headers)
    assert r.status_code == 200
    assert r.json()["active"] is False
    assert http.get(f"/fhir/r4/Observation?patient={patient}", headers=w["b"].headers).status_code == 404
    assert http.post("/api/v1/health-record/shares/redeem", headers=binh.headers,
                     json={"code": second["code"]}).status_code == 404
    bad = http.post("/api/v1/health-record/shares", headers=an.headers,
                    json={"recipient": "x", "hours": 1000, "extra": 1})
    assert bad.status_code == 422
    assert copy.deepcopy(share)["recipient"] == "BS. Lan, BV Thanh Nhàn"
