"""Schemathesis against the app's own OpenAPI, over real HTTP, with every check it ships, as every kind of caller.

The schema is read from the live test server (``/schema/openapi.json``); each operation becomes a
test. Each kind of caller fuzzes the operations it exists for: two citizens, staff of two units, a city
admin, two validator devices, a facility client and an Open311 partner (see ``SCHEMAS``). Where a kind has
two identities they are the peers of the object-level authorization check (a Web Fuzzing Commons auth
document), so a read one of them makes of their own object is replayed as the other.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.support.auth import client_token, grant, login, login_city_admin, login_staff, refresh
from tests.support.open311 import O311, issue_key, xml_as_documented

WARD = "W00058"          # where tests.support.feedback.HOAN_KIEM's reports go
OUTSIDER_UNIT = "W00001"  # another ward
POLICE = "CA-TP"         # the judicial record authority from 1 July 2026

# Operations left out, each with its reason (everything else runs with all checks):
EXCLUDED_PATHS = (
    # Local stand-ins of external systems (VNeID, push provider), mounted only in dev/test.
    r"^/dev/",
    # Logging out revokes the very session both peers fuzz with; tests/api/test_auth_tokens.py covers it.
    r"^/api/v1/auth/logout",
)


@schemathesis.deserializer("text/xml")
def _deserialize_open311_xml(ctx: Any, response: Any) -> Any:
    # Only Open311 serves XML; its documented schemas name the elements (OpenAPI's ``xml`` object).
    content = ctx.operation.definition.raw["responses"][str(response.status_code)]["content"]
    return xml_as_documented(response.content, content["text/xml"]["schema"],
                             ctx.operation.schema.raw_schema["components"]["schemas"])


def _config(tmp: Any, identities: dict[str, dict[str, str]], **dictionaries: list[str]) -> SchemathesisConfig:
    """All checks; the identities as a Web Fuzzing Commons auth document (two of them are peers: a read one makes of
    their own object is replayed as the other by the object-level authorization check)."""
    auth_doc = tmp / "auth.json"
    auth_doc.write_text(json.dumps({"auth": [
        {"name": name, "fixedHeaders": [{"name": k, "value": v} for k, v in headers.items()]}
        for name, headers in identities.items()]}))
    auth: dict[str, Any] = {"wfc": {"path": str(auth_doc)}} if identities else {}
    if len(identities) == 2:
        auth["wfc"]["peers"] = list(identities)
    # A page cursor is opaque: only one the API handed out (or none, the first page) is valid, and a made-up
    # one is rightly a 422 (tests/api/test_bad_input_sweep.py attacks it); the fuzzer asks for first pages.
    dictionaries = {"first_page": [""], **dictionaries}
    parameters = {"body.api_key": {"dictionary": "open311_keys"},
                  "body.service_code": {"dictionary": "open311_services", "probability": 0.5},
                  "path.service_code": {"dictionary": "open311_services", "probability": 0.5},
                  "query.cursor": {"dictionary": "first_page"}}
    return SchemathesisConfig.from_dict({
        "checks": {"enabled": True},
        "generation": {"max-examples": 10, "deterministic": True, "no-shrink": True,
                       # No example database: a run replays nothing from earlier runs.
                       "database": "none",
                       # A NUL in any text is refused by design (422/400 rule nul_character, docs/api-guide.md),
                       # which the schema's plain strings cannot state; tests/api/test_bad_text.py sweeps it.
                       "allow-x00": False},
        "auth": auth,
        "dictionaries": {name: {"values": values} for name, values in dictionaries.items()},
        "parameters": {k: v for k, v in parameters.items() if v["dictionary"] in dictionaries},
    })


def _load(base_url: str, config: SchemathesisConfig, peers: int) -> schemathesis.schemas.BaseSchema:
    loaded = schemathesis.openapi.from_url(f"{base_url}/schema/openapi.json", config=config)
    # The object-level authorization check only probes when both peers are loaded as identities.
    assert len([p for p in loaded.auth.providers if getattr(p, "peers", None)]) == (1 if peers == 2 else 0)
    return loaded


@pytest.fixture(scope="module")
def citizens(base_url: str, tmp_path_factory: pytest.TempPathFactory) -> schemathesis.schemas.BaseSchema:
    """Two citizens, peers: every operation outside Open311 (staff and admin ones must refuse them)."""
    with httpx.Client(base_url=base_url, timeout=15) as http:
        alice, bob = login(http), login(http)
    identities = {"alice": alice.headers, "bob": bob.headers}
    return _load(base_url, _config(tmp_path_factory.mktemp("citizens"), identities), 2)


@pytest.fixture(scope="module")
def staff(base_url: str, database_url: str,
          tmp_path_factory: pytest.TempPathFactory) -> schemathesis.schemas.BaseSchema:
    """Staff of two units, peers: a ward's handler and supervisor who also works at the police's judicial desk
    and the transport department, and a unit admin of another ward."""
    with httpx.Client(base_url=base_url, timeout=15) as http:
        first = login(http)
        for unit, role in ((WARD, "handler"), (WARD, "supervisor"), (POLICE, "supervisor"), ("S-GTVT", "handler")):
            grant(database_url, first.user_id, unit, role)
        ward, other = refresh(http, first), login_staff(http, database_url, OUTSIDER_UNIT, "unit_admin")
    identities = {"ward": ward.headers, "other_ward": other.headers}
    return _load(base_url, _config(tmp_path_factory.mktemp("staff"), identities), 2)


@pytest.fixture(scope="module")
def city_admin(base_url: str, database_url: str,
               tmp_path_factory: pytest.TempPathFactory) -> schemathesis.schemas.BaseSchema:
    with httpx.Client(base_url=base_url, timeout=15) as http:
        admin = login_city_admin(http, database_url)
    return _load(base_url, _config(tmp_path_factory.mktemp("admin"), {"admin": admin.headers}), 1)


@pytest.fixture(scope="module")
def validators(base_url: str, database_url: str,
               tmp_path_factory: pytest.TempPathFactory) -> schemathesis.schemas.BaseSchema:
    """Two registered gate validators, peers (a validator's own taps are nobody else's business)."""
    with httpx.Client(base_url=base_url, timeout=15) as http:
        gates = {f"gate{i}": client_token(http, database_url, "validator").headers for i in (1, 2)}
    return _load(base_url, _config(tmp_path_factory.mktemp("validators"), gates), 2)


@pytest.fixture(scope="module")
def facilities(base_url: str, database_url: str,
               tmp_path_factory: pytest.TempPathFactory) -> schemathesis.schemas.BaseSchema:
    """A medical facility's client: it may call nothing of the REST API (its surface is FHIR, swept by
    tests/api/test_bad_input_sweep.py and the health tests); every operation must refuse it cleanly."""
    with httpx.Client(base_url=base_url, timeout=15) as http:
        facility = client_token(http, database_url, "facility")
    return _load(base_url, _config(tmp_path_factory.mktemp("facility"), {"facility": facility.headers}), 1)


@pytest.fixture(scope="module")
def open311_partner(base_url: str, database_url: str,
                    tmp_path_factory: pytest.TempPathFactory) -> schemathesis.schemas.BaseSchema:
    """A GeoReport v2 partner: no bearer token; its api_key is a form field (GeoReport v2), which no auth
    config fills, so a real partner key (and, half the time, a real service_code) lets positive POSTs reach
    the validation and the use case instead of stopping at the 403."""
    with httpx.Client(base_url=base_url, timeout=15) as http:
        partner = issue_key(http, database_url, "Schemathesis")
        services = [s["service_code"] for s in http.get(f"{O311}/services.json").json()]
    config = _config(tmp_path_factory.mktemp("open311"), {}, open311_keys=[partner.api_key],
                     open311_services=services)
    return _load(base_url, config, 0)


def _callers(fixture: str) -> Any:
    return schemathesis.pytest.from_fixture(fixture).exclude(path_regex="|".join(EXCLUDED_PATHS))


# Who fuzzes what: each kind of caller the operations it exists for; citizens and a facility client every
# operation outside Open311 as well (staff, admin and machine operations must refuse them cleanly).
STAFF_TAGS = ["feedback-staff", "feedback-stats", "judicial staff", "transit staff"]
ADMIN_TAGS = ["admin", "feedback-admin", "feedback-stats", "health-admin", "transit admin"]
SCHEMAS = {
    "citizens": _callers("citizens").exclude(tag="open311"),
    "staff": _callers("staff").include(tag=STAFF_TAGS),
    "city_admin": _callers("city_admin").include(tag=ADMIN_TAGS),
    "validators": _callers("validators").include(tag="transit validators"),
    "facilities": _callers("facilities").exclude(tag="open311"),
    "open311_partner": _callers("open311_partner").include(tag="open311"),
}


# Checks left out for one operation, with the reason:
EXCLUDED_CHECKS = {
    # The feed needs lat *and* lon, or ward_id: a co-dependency of query parameters that OpenAPI's
    # per-parameter schemas cannot state, so "lat alone" looks schema-valid but is rightly a 422.
    "GET /api/v1/public/feedback/reports": [positive_data_acceptance],
    # Open311 reads: start_date must not be after end_date nor more than 90 days before it, another
    # co-dependency of query parameters; and an unknown service_code filter is a 400 (the catalogue
    # is data, not schema).
    **{f"GET /open311/v2/{name}.{fmt}": [positive_data_acceptance]
       for name in ("requests", "servicerequestupdates") for fmt in ("json", "xml")},
    # Open311 POST: the location is lat+long inside Hanoi, or a ward/district code, or an address
    # naming one, and attribute[...] must answer the service's own questions: which location and
    # which attributes are valid depends on data (boundary, place names, the service definition).
    **{f"POST /open311/v2/requests.{fmt}": [positive_data_acceptance] for fmt in ("json", "xml")},
    # Transit: passenger categories are data (the seeded catalogue), so an unknown but well-formed
    # category is a 422 naming it; opening a card also needs the caller to belong to the category.
    "GET /api/v1/transit/offers": [positive_data_acceptance],
    "GET /api/v1/transit/eligibility/{category}": [positive_data_acceptance],
    "POST /api/v1/transit/cards": [positive_data_acceptance],
    # A device key must be a point on P-256 and the proof a signature by it: random bytes of the right
    # length are schema-valid and rightly refused.
    "PUT /api/v1/transit/device": [positive_data_acceptance],
    # The uploaded document must be an image by its content (magic bytes), and the category one that needs it.
    "POST /api/v1/transit/applications": [positive_data_acceptance],
    # Staff, admin and machine operations (the other callers' runs), each refusing a schema-valid body for a
    # reason that is data or a co-dependency, with a 422 naming the field and the rule:
    # reply templates are the unit's data (GET /api/v1/staff/feedback/reply-templates);
    "POST /api/v1/staff/feedback/reports/{report_id}/reject": [positive_data_acceptance],
    # a paper ticket is for a single-ride product on sale (the catalogue is data);
    "POST /api/v1/transit/staff/paper-tickets": [positive_data_acceptance],
    # units, districts and departments named by id must exist (the city's directory is data);
    "POST /api/v1/admin/staff-grants": [positive_data_acceptance],
    "POST /api/v1/admin/announcements": [positive_data_acceptance],
    "POST /api/v1/admin/feedback/categories": [positive_data_acceptance],
    "PUT /api/v1/admin/feedback/categories/{category_id}": [positive_data_acceptance],
    # a facility sits in an existing district and sends with an existing facility client;
    "POST /api/v1/health-facilities": [positive_data_acceptance],
    "PUT /api/v1/health-facilities/{facility_id}": [positive_data_acceptance],
    # a client's key must be a real EC P-256 public JWK, which a JSON object schema cannot state;
    "POST /api/v1/admin/clients": [positive_data_acceptance],
    # statistics periods: `from` not after `to`, at most 366 days (co-dependent parameters);
    **{f"GET /api/v1/feedback/stats{tail}": [positive_data_acceptance] for tail in ("", "/export", "/heatmap")},
    # a route is named exactly for one-route products (co-dependent fields);
    "POST /api/v1/transit/admin/products": [positive_data_acceptance],
    "PATCH /api/v1/transit/admin/products/{product_id}": [positive_data_acceptance],
    # validators: `since` cannot be ahead of the deny list's current sequence (data); a rejected tap names
    # its reason and an accepted one none (co-dependent fields); a code is a signed dynamic-QR payload.
    "GET /api/v1/transit/validator/deny-list": [positive_data_acceptance],
    "POST /api/v1/transit/validator/taps": [positive_data_acceptance],
    "POST /api/v1/transit/validator/validate": [positive_data_acceptance],
}


def _integral_float(value: Any) -> bool:
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, dict):
        return any(_integral_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_integral_float(v) for v in value)
    return False


def _call(case: schemathesis.Case, base_url: str) -> None:
    if case.headers and "Idempotency-Key" in case.headers:
        # The generator repeats header values across cases; a key reused with another body is rightly a 422
        # (idempotency.key_reused), a dependency between requests that no schema states. One key per case.
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
    excluded = list(EXCLUDED_CHECKS.get(case.operation.label, []))
    if _integral_float(case.body):
        # JSON Schema counts 2.0 as an integer; the server decodes strictly (the bad-input policy: nothing
        # coerced) and answers 422 naming the field. Such a body is checked for everything but acceptance.
        excluded.append(positive_data_acceptance)
    case.call_and_validate(base_url=base_url, excluded_checks=excluded)


@SCHEMAS["citizens"].parametrize()
def test_citizens(case: schemathesis.Case, base_url: str) -> None:
    _call(case, base_url)


@SCHEMAS["staff"].parametrize()
def test_staff_of_two_units(case: schemathesis.Case, base_url: str) -> None:
    _call(case, base_url)


@SCHEMAS["city_admin"].parametrize()
def test_city_admin(case: schemathesis.Case, base_url: str) -> None:
    _call(case, base_url)


@SCHEMAS["validators"].parametrize()
def test_validator_devices(case: schemathesis.Case, base_url: str) -> None:
    _call(case, base_url)


@SCHEMAS["facilities"].parametrize()
def test_facility_client(case: schemathesis.Case, base_url: str) -> None:
    _call(case, base_url)


@SCHEMAS["open311_partner"].parametrize()
def test_open311_partner(case: schemathesis.Case, base_url: str) -> None:
    _call(case, base_url)
