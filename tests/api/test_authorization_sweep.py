"""Authorisation sweep generated from the route table (issue 10 #20).

Every route with a parameter in its path must have a rule in ``RULES``: who owns the object its ids
name, and how to make one owned by citizen A (or by A's report's unit). For every method of the
route, callers who are not the owner — a second citizen, staff of another unit, a machine client of
the wrong kind, and for staff and admin routes also the citizen herself — must get 401/403/404 and
never the object. A route added without a rule fails ``test_every_route_with_a_path_id_has_a_rule``:
adding a route means adding its line here (usually reusing a maker below).

Bodies come from the OpenAPI document (valid by its schemas), so validation does not answer before
the authorisation check does; an undocumented route gets an empty JSON object.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

import httpx
import pytest

from api.platform.app import create_app
from api.platform.settings import Settings
from tests.support.auth import ClientSession, Session, client_token, login, login_city_admin, login_staff
from tests.support.console import Console, console_login, console_session
from tests.support.feedback import R, categories, jpeg_with_gps, sql, submit, upload
from tests.support.openapi import valid
from tests.support.transit_api import buy, open_card, paid_pass

NOT_SWEPT = re.compile(r"^/(dev|schema)(/|$)")
TYPED_PARAM = re.compile(r"\{(\w+):[^}]+\}")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
REFUSED = {401, 403, 404}
OUTSIDER_UNIT = "W00001"   # reports filed at tests.support.feedback.HOAN_KIEM go to another ward


@dataclass
class World:
    """Objects owned by citizen A, made on first use (one set per test run)."""

    http: httpx.Client
    database_url: str
    a: Session
    admin: Session

    @cached_property
    def report(self) -> dict[str, Any]:
        # Not publishable: nobody else may read it, so nobody else may follow it either (issue 10 #1).
        return submit(self.http, self.a, publishable=False)

    @cached_property
    def photo(self) -> str:
        r = upload(self.http, self.a, f"{R}/{self.report['id']}/photos", jpeg_with_gps())
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    @cached_property
    def device(self) -> str:
        r = self.http.post("/api/v1/me/devices", headers=self.a.headers,
                           json={"fcm_token": "fcm-" + uuid.uuid4().hex, "platform": "android",
                                 "app_version": "1.4.2", "locale": "vi"})
        assert r.status_code in (200, 201), r.text
        return str(r.json()["id"])

    @cached_property
    def inbox_item(self) -> str:
        # Written directly: the delivery worker does not run in API tests.
        return str(sql(self.database_url, """
            INSERT INTO notification_inbox (id, user_id, category, template, object_type, object_id, deep_link,
                                            content, idempotency_key)
            VALUES (gen_random_uuid(), $1, 'feedback', 'feedback.received', 'feedback_report', 'x',
                    'thudoso://feedback/reports/x', '{"vi": {"title": "t", "body": "b"},
                    "en": {"title": "t", "body": "b"}}'::jsonb, gen_random_uuid()::text)
            RETURNING id""", self.a.user_id))

    @cached_property
    def judicial_request(self) -> str:
        # Submitted, so that its authority's staff see it (a draft is the citizen's alone).
        from tests.api.test_judicial_api import submitted
        return str(submitted(self.http, self.a)["id"])

    @cached_property
    def certificate(self) -> str:
        from tests.api.test_judicial_api import POLICE, issue
        return str(issue(self.http, self.a, login_staff(self.http, self.database_url, POLICE, "supervisor"))["id"])

    @cached_property
    def card(self) -> str:
        return str(open_card(self.http, self.a)["id"])

    @cached_property
    def transit_pass(self) -> str:
        return paid_pass(self.http, self.database_url, self.a)

    @cached_property
    def payment_intent(self) -> str:
        r = buy(self.http, self.a, self.card)
        assert r.status_code == 201, r.text
        return str(r.json()["payment_intent_id"])

    @cached_property
    def category(self) -> str:
        return str(next(iter(categories(self.http).values()))["id"])


def _none(world: World) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Rule:
    """``owner``: citizen (A's own object), unit (staff of the owning unit), admin (city admin),
    facility (a facility client), console-unit (a staff console page of the owning unit's object, probed with
    console sessions), public (anyone may read; listed for completeness, not probed).
    ``ids`` fills path parameters naming A's object; parameters it leaves out get a fresh UUID
    (``absent`` says why no real object is made: the refusal is then checked, not the object)."""

    owner: str
    ids: Callable[[World], dict[str, str]] = _none
    absent: str = ""
    values: dict[str, str] = field(default_factory=dict)   # fixed non-id parameters (a category, a role)
    query: str = ""                                        # a query string the operation requires


def report(w: World) -> dict[str, str]:
    return {"report_id": w.report["id"]}


def judicial_request(w: World) -> dict[str, str]:
    return {"request_id": w.judicial_request}


def certificate(w: World) -> dict[str, str]:
    return {"certificate_id": w.certificate}


NO_RECORD = "a health record needs a facility and an ingested bundle; the refusal is checked on a fresh id"
RULES: dict[str, Rule] = {
    # identity
    "/api/v1/me/devices/{device_id}": Rule("citizen", lambda w: {"device_id": w.device}),
    "/api/v1/me/sessions/{session_id}": Rule("citizen", lambda w: {"session_id": str(w.a.session_id)}),
    "/api/v1/admin/staff-grants/{unit_id}/{user_id}/{role}": Rule(
        "admin", lambda w: {"user_id": str(w.a.user_id)}, values={"role": "handler"}),
    "/api/v1/admin/clients/{client_id}": Rule("admin", absent="any id: only city admins reach the handler"),
    "/api/v1/admin/open311-keys/{key_id}": Rule("admin", absent="any id: only city admins reach the handler"),
    # notifications, payments
    "/api/v1/me/inbox/{item_id}/read": Rule("citizen", lambda w: {"item_id": w.inbox_item}),
    "/api/v1/payments/intents/{intent_id}": Rule("citizen", lambda w: {"intent_id": w.payment_intent}),
    "/api/v1/payments/intents/{intent_id}/qr.png": Rule("citizen", lambda w: {"intent_id": w.payment_intent}),
    "/api/v1/admin/users/{user_id}/suspension": Rule("admin", lambda w: {"user_id": str(w.a.user_id)}),
    # feedback (the public routes must not show A's report: it is not handled, let alone published)
    "/api/v1/feedback/reports/{report_id}": Rule("citizen", report),
    "/api/v1/feedback/reports/{report_id}/photos": Rule("citizen", report),
    "/api/v1/feedback/reports/{report_id}/follow": Rule("citizen", report),
    "/api/v1/feedback/reports/{report_id}/rating": Rule("citizen", report),
    "/api/v1/feedback/reports/{report_id}/reopen": Rule("citizen", report),
    "/api/v1/feedback/reports/{report_id}/timeline": Rule("citizen", report),
    "/api/v1/feedback/reports/{report_id}/files/{file_id}": Rule(
        "citizen", lambda w: {**report(w), "file_id": w.photo}),
    "/api/v1/public/feedback/reports/{report_id}": Rule("citizen", report),
    "/api/v1/public/feedback/reports/{report_id}/files/{file_id}": Rule(
        "citizen", lambda w: {**report(w), "file_id": w.photo}),
    **{f"/api/v1/staff/feedback/reports/{{report_id}}{tail}": Rule("unit", report)
       for tail in ("", "/acknowledge", "/assign", "/category", "/duplicate", "/evidence", "/handle", "/notes",
                    "/reject", "/timeline", "/transfer", "/visibility", "/partner-contact")},
    "/api/v1/admin/feedback/categories/{category_id}": Rule("admin", lambda w: {"category_id": w.category}),
    # judicial
    **{f"/api/v1/judicial/requests/{{request_id}}{tail}": Rule("citizen", judicial_request)
       for tail in ("", "/quote", "/submit", "/supplement", "/withdraw")},
    "/api/v1/judicial/requests/{request_id}/documents": Rule(
        "citizen", lambda w: {"request_id": w.judicial_request}, query="kind=proxy"),
    "/api/v1/judicial/requests/{request_id}/documents/{key}": Rule(
        "citizen", lambda w: {"request_id": w.judicial_request}, values={"key": "proxy"}),
    "/api/v1/judicial/certificates/{certificate_id}/pdf": Rule("citizen", certificate),
    "/api/v1/judicial/certificates/{certificate_id}/shares": Rule("citizen", certificate),
    "/api/v1/judicial/shares/{share_id}": Rule("citizen", absent="a share needs the holder's own request"),
    **{f"/api/v1/staff/judicial/requests/{{request_id}}{tail}": Rule("unit", judicial_request)
       for tail in ("", "/approve", "/issue", "/receive", "/reject", "/supplement-request", "/verify")},
    "/api/v1/staff/judicial/certificates/{certificate_id}/status": Rule("unit", certificate),
    "/api/v1/public/judicial/issuers/{code}": Rule("public"),
    "/api/v1/public/judicial/verify/{token}": Rule("public"),
    "/api/v1/public/judicial/status-lists/{list_id}": Rule("public"),
    # health
    "/api/v1/health-record/items/{category}/{item_id}": Rule("citizen", absent=NO_RECORD,
                                                             values={"category": "problems"}),
    "/api/v1/health-record/items/{category}": Rule("public", absent="the caller's own record, no object id"),
    "/api/v1/health-record/shares/{share_id}/revoke": Rule("citizen", absent=NO_RECORD),
    "/api/v1/health-record/visits/{visit_id}": Rule("citizen", absent=NO_RECORD),
    "/api/v1/health-facilities/{facility_id}": Rule("admin", absent="any id: only city admins reach the handler"),
    "/fhir/r4/Patient/{patient_id}": Rule("facility", absent=NO_RECORD),
    "/fhir/r4/Patient/{patient_id}/$summary": Rule("facility", absent=NO_RECORD),
    "/fhir/r4/{resource_type}/{resource_id}": Rule("facility", absent=NO_RECORD, values={"resource_type": "Encounter"}),
    "/fhir/r4/{resource_type}": Rule("facility", absent=NO_RECORD, values={"resource_type": "Encounter"},
                                     query=f"patient={uuid.uuid4()}"),
    # transit
    "/api/v1/transit/cards/{card_id}": Rule("citizen", lambda w: {"card_id": w.card}),
    **{f"/api/v1/transit/passes/{{pass_id}}{tail}": Rule("citizen", lambda w: {"pass_id": w.transit_pass})
       for tail in ("", "/cancel", "/credential", "/renewal")},
    "/api/v1/transit/eligibility/{category}": Rule("public", absent="the caller's own eligibility, no object id"),
    "/api/v1/transit/staff/passes/{pass_id}/revoke": Rule("unit", lambda w: {"pass_id": w.transit_pass}),
    "/api/v1/transit/staff/applications/{application_id}/decision": Rule("unit", absent="any id: staff only"),
    "/api/v1/transit/staff/applications/{application_id}/document": Rule("unit", absent="any id: staff only"),
    "/api/v1/transit/admin/products/{product_id}": Rule("admin", absent="any id: only city admins reach the handler"),
    "/api/v1/transit/admin/products/{product_id}/prices": Rule("admin", absent="any id: admins only"),
    # Open311 (GeoReport v2): public by the standard; partners' writes carry their key in the body.
    "/api/v1/units/{unit_id}": Rule("public"),
    "/open311/v2/{name}": Rule("public"),
    "/open311/v2/services/{name}": Rule("public"),
    "/open311/v2/requests/{name}": Rule("public"),
    "/open311/v2/tokens/{name}": Rule("public"),
    # staff console (cookie-authenticated HTML pages: api/console/pages.py): owner "console-unit" is probed
    # with console sessions (cookie + CSRF token), not bearer tokens
    **{f"/console/feedback/reports/{{report_id}}{tail}": Rule("console-unit", report)
       for tail in ("", "/acknowledge", "/assign", "/category", "/duplicate", "/handle", "/notes", "/reject",
                    "/transfer")},
    "/console/feedback/reports/{report_id}/files/{file_id}": Rule(
        "console-unit", lambda w: {**report(w), "file_id": w.photo}),
    "/console/lang/{code}": Rule("public", absent="the language switch names no object"),
    "/console/static/{file_path}": Rule("public", absent="the console's own static files"),
    # console: the judicial authority's pages (another authority's staff: 404) and the admin pages (403)
    **{f"/console/judicial/{{request_id}}{tail}": Rule("console-unit", judicial_request)
       for tail in ("", "/certificate.pdf", "/document")},
    "/console/judicial/{request_id}/{step}": Rule("console-unit", judicial_request, values={"step": "approve"}),
    "/console/admin/categories/{category_id}/active": Rule("console-unit", lambda w: {"category_id": w.category}),
    "/console/admin/categories/{category_id}": Rule("console-unit", lambda w: {"category_id": w.category}),
    "/console/admin/open311-keys/{key_id}/revoke": Rule("console-unit", absent="any id: city admins only"),
    "/console/admin/facilities/{facility_id}/active": Rule("console-unit", absent="any id: city admins only"),
}


def _routes(settings: Settings) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for route in create_app(settings).routes:
        path = TYPED_PARAM.sub(r"{\1}", route.path)
        if "{" in path and not NOT_SWEPT.match(path):
            out.setdefault(path, set()).update(m for m in getattr(route, "methods", ()) if m in METHODS)
    return out


def test_every_route_with_a_path_id_has_a_rule(settings: Settings) -> None:
    routes = _routes(settings)
    missing = sorted(set(routes) - set(RULES))
    assert not missing, f"routes without an authorisation rule (add them to RULES): {missing}"
    stale = sorted(set(RULES) - set(routes))
    assert not stale, f"rules for routes that no longer exist: {stale}"


@pytest.fixture(scope="module")
def document(base_url: str) -> dict[str, Any]:
    with httpx.Client(base_url=base_url, timeout=15) as http:
        return dict(http.get("/schema/openapi.json").json())


def _body(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    """httpx keyword arguments for a body the operation's schema accepts (JSON, or a file upload)."""
    if method in ("GET", "DELETE"):
        return {}
    op = document["paths"].get(path, {}).get(method.lower(), {})
    content = (op.get("requestBody") or {}).get("content", {})
    if "multipart/form-data" in content:
        return {"files": {"file": ("p.jpg", jpeg_with_gps(), "image/jpeg")}}
    schema = content.get("application/json", {}).get("schema")
    components = document.get("components", {}).get("schemas", {})
    return {"json": valid(schema, components) if schema else {}}


# A console form filled validly for every step (so the form's schema does not answer before the access check).
CONSOLE_FORM = {"text": "x" * 12, "reason": "x" * 12, "assignee_id": "me", "template": "insufficient_info",
                "unit_id": str(uuid.uuid4()), "original": str(uuid.uuid4()), "reply": "Đã xử lý xong theo quy định.",
                "evidence_id": str(uuid.uuid4())}


def _console_refused(r: httpx.Response) -> bool:
    """A console page refuses with 403/404, or sends a caller without a console session to the login page."""
    return r.status_code in (403, 404) or (r.status_code == 303 and r.headers["location"].startswith("/console/login"))


def _fill(ids: dict[str, str], m: re.Match[str]) -> str:
    return ids.get(m.group(1), str(uuid.uuid4()))


def test_nobody_but_the_owner_reaches_an_object(http: httpx.Client, database_url: str, settings: Settings,
                                                document: dict[str, Any]) -> None:
    a = login(http)
    world = World(http, database_url, a, login_city_admin(http, database_url))
    b = login(http)
    outsider = login_staff(http, database_url, OUTSIDER_UNIT, "unit_admin")
    validator: ClientSession = client_token(http, database_url, "validator")
    facility: ClientSession = client_token(http, database_url, "facility")
    intruders: dict[str, dict[str, dict[str, str]]] = {
        "citizen": {"second citizen": b.headers, "staff of another unit": outsider.headers,
                    "validator client": validator.headers},
        "unit": {"the reporting citizen": a.headers, "staff of another unit": outsider.headers,
                 "facility client": facility.headers},
        "admin": {"citizen": a.headers, "unit admin": outsider.headers, "facility client": facility.headers},
        "facility": {"citizen": a.headers, "staff": outsider.headers, "validator client": validator.headers},
    }
    consoles: dict[str, Console] = {
        "the reporting citizen": Console(http, console_session(http, a.personal_id), a.user_id, a.personal_id),
        "staff of another unit": console_login(http, database_url, OUTSIDER_UNIT, "unit_admin"),
        "no session": Console(http, "", a.user_id, ""),
    }
    leaks: list[str] = []
    probed = 0
    for path, methods in sorted(_routes(settings).items()):
        rule = RULES[path]
        if rule.owner == "public":
            continue
        ids = {**rule.values, **rule.ids(world)}
        url = re.sub(r"\{(\w+)\}", partial(_fill, ids), path)
        url += f"?{rule.query}" if rule.query else ""
        if rule.owner == "console-unit":
            form = {**CONSOLE_FORM, "category_id": world.category}
            for method in sorted(methods):
                for who, console in consoles.items():
                    r = console.get(url) if method == "GET" else console.post(url, form)
                    probed += 1
                    if not _console_refused(r):
                        leaks.append(f"{method} {path} as {who} (console): {r.status_code} {r.text[-220:]}")
            continue
        for method in sorted(methods):
            body = _body(document, path, method)
            for who, headers in intruders[rule.owner].items():
                r = http.request(method, url, headers=headers, **body)
                probed += 1
                if r.status_code not in REFUSED:
                    leaks.append(f"{method} {path} as {who}: {r.status_code} {r.text[-220:]}")
    assert probed > 200
    assert not leaks, f"{len(leaks)} of {probed} requests were not refused:\n" + "\n".join(leaks)
