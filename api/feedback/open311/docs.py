"""The OpenAPI description of Open311 GeoReport v2 (``/open311/v2``), as served on the wire.

Litestar documents each Open311 handler once, with its route (``/services/{name}``) and a generic
body; what partners get differs per format suffix. This replaces those entries with one operation per
path *and* suffix (``/services/{service_code}.json``), the real media types (``application/json`` /
``text/xml``), the form-encoded POST body GeoReport v2 requires, ``api_key`` (a form field on POST, an
optional query key on reads), and the Open311 error documents (``[{code, description}]`` /
``<errors><error>``) with the statuses ``api.feedback.open311.render`` answers. XML bodies carry the same
fields as JSON, described with OpenAPI's ``xml`` object; empty values are empty elements there.
"""

from __future__ import annotations

import copy
from typing import Any

from api.feedback.open311.requests import FORM, RequestForm
from api.feedback.open311.router import PREFIX
from domain.feedback.open311 import MAX_RESULTS

JSON = "application/json"
XML = "text/xml"
API_KEY_SCHEME = "open311ApiKey"
TAGS = ["open311"]

STR: dict[str, Any] = {"type": "string"}
NSTR: dict[str, Any] = {"type": ["string", "null"]}
WHEN: dict[str, Any] = {"type": "string", "format": "date-time"}
NWHEN: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}
STATUS: dict[str, Any] = {"type": "string", "enum": ["open", "closed"]}
EXTENDED = ["open", "closed", "in_progress", "internal_referral", "fixed", "duplicate",
            "not_councils_responsibility", "no_further_action"]


def _obj(required: list[str], props: dict[str, Any], xml: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "required": required, "properties": props,
                              "additionalProperties": False}
    if xml:
        schema["xml"] = {"name": xml}
    return schema


def _list(item: dict[str, Any], root: str | None = None, item_name: str | None = None) -> dict[str, Any]:
    items = dict(item, xml={"name": item_name}) if item_name else item
    schema: dict[str, Any] = {"type": "array", "items": items}
    if root:
        schema["xml"] = {"name": root, "wrapped": True}
    return schema


ERROR = _obj(["code", "description"], {
    "code": {"type": "string", "pattern": "^[1-5][0-9]{2}$", "description": "The HTTP status, as a string"},
    "description": {"type": "string", "description": "The message, the platform's error code in brackets and, "
                                                    "for input errors, the field"}}, "error")
ERRORS = dict(_list(ERROR, "errors", "error"), minItems=1,
              description="Open311 errors: `[{code, description}]` in JSON, `<errors><error>` in XML")

DISCOVERY = _obj(["changeset", "contact", "key_service", "endpoints"], {
    "changeset": WHEN, "contact": STR, "key_service": STR,
    "endpoints": _list(_obj(["specification", "url", "changeset", "type", "formats"], {
        "specification": STR, "url": STR, "changeset": WHEN, "type": {"type": "string", "enum": ["production", "test"]},
        "formats": _list(STR, "formats", "format")}), "endpoints", "endpoint")}, "discovery")

SERVICE = _obj(["service_code", "service_name", "description", "metadata", "type", "keywords", "group"], {
    "service_code": STR, "service_name": STR, "description": STR, "metadata": {"type": "boolean"},
    "type": {"type": "string", "enum": ["realtime"]}, "keywords": STR, "group": STR})

DEFINITION = _obj(["service_code", "attributes"], {
    "service_code": STR,
    "attributes": _list(_obj(["variable", "code", "datatype", "required", "datatype_description", "order",
                              "description", "values"], {
        "variable": {"type": "boolean"}, "code": STR,
        "datatype": {"type": "string", "enum": ["string", "number", "datetime", "text", "singlevaluelist",
                                                "multivaluelist"]},
        "required": {"type": "boolean"}, "datatype_description": STR, "order": {"type": "integer", "minimum": 1},
        "description": STR,
        "values": _list(_obj(["key", "name"], {"key": STR, "name": STR}), "values", "value")}),
        "attributes", "attribute")}, "service_definition")

CREATED = _obj(["service_request_id", "service_notice", "account_id"], {
    "service_request_id": STR, "service_notice": STR, "account_id": NSTR,
    "token": {"type": "string", "description": "Only with extensions=true"}})

NOTE = _obj(["update_id", "status", "updated_datetime", "description"], {
    "update_id": STR, "status": {"type": "string", "enum": EXTENDED}, "updated_datetime": WHEN,
    "description": STR})

REQUEST = _obj(["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"], {
    "service_request_id": STR, "status": STATUS, "status_notes": NSTR, "service_name": STR, "service_code": STR,
    "description": NSTR, "agency_responsible": STR, "service_notice": {"type": "null"},
    "requested_datetime": WHEN, "updated_datetime": WHEN, "expected_datetime": NWHEN, "address": NSTR,
    "address_id": NSTR, "zipcode": {"type": "null"}, "lat": {"type": "number"}, "long": {"type": "number"},
    "media_url": NSTR,
    "detailed_status": {"type": "string", "enum": EXTENDED, "description": "Only with extensions=true"},
    "notes": dict(_list(NOTE, "notes", "note"), description="Only with extensions=true")})

TOKEN = _obj(["service_request_id", "token"], {"service_request_id": STR, "token": STR})

UPDATE = _obj(["update_id", "service_request_id", "status", "external_status_code", "description",
               "updated_datetime", "media_url"], {
    "update_id": STR, "service_request_id": STR, "status": STATUS,
    "external_status_code": {"type": "string", "enum": EXTENDED}, "description": STR, "updated_datetime": WHEN,
    "media_url": NSTR})

ERROR_TEXT = {
    400: "Bad or missing input: a field, an attribute, a date or window, an unknown service_code, no location, "
         "a format other than .json/.xml, or a body that is not form-urlencoded",
    403: "Missing, unknown or revoked api_key",
    404: "Unknown service definition, request, token or jurisdiction_id",
    413: "Body larger than the limit",
    429: "Too many calls per api_key (or per client IP without one), or the api_key's POST quota is used up: "
         "wait `Retry-After` seconds",
    503: "Temporarily unavailable: retry after `Retry-After` seconds",
}


def _param(name: str, schema: dict[str, Any], description: str, where: str = "query",
           required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required or where == "path", "schema": schema,
            "description": description}


JURISDICTION = _param("jurisdiction_id", STR, "Optional; if sent it must be `hanoi.gov.vn` (else 404)")
LOCALE = _param("locale", STR, "`vi` or `en` picks the language; any other value falls back to Accept-Language")
EXTENSIONS = _param("extensions", {"type": "boolean"}, "`true` adds detailed_status and notes")
DATE = {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}, {"maxLength": 0}],
        "description": "ISO 8601: a date alone is midnight in Hanoi; a time must carry its zone. Empty = not sent"}
COUNT = {"type": "integer", "minimum": 1, "maximum": MAX_RESULTS}
CSV = {"type": "string", "description": "Comma separated"}
IDEMPOTENCY_KEY = _param("Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": 200,
                                             "pattern": "^[\\x21-\\x7e]+$"},
                         "A retry with the same key and body returns the first response", where="header")


def _form_schema() -> dict[str, Any]:
    props: dict[str, Any] = {
        "api_key": {"type": "string", "minLength": 1, "maxLength": 200},
        "jurisdiction_id": {"type": "string", "maxLength": 200},
        "service_code": {"type": "string", "minLength": 1, "maxLength": 64},
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "long": {"type": "number", "minimum": -180, "maximum": 180},
        "address_string": {"type": "string", "maxLength": 500},
        "address_id": {"type": "string", "maxLength": 64},
        "email": {"type": "string", "maxLength": 254, "pattern": "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$"},
        "device_id": {"type": "string", "maxLength": 200},
        "account_id": {"type": "string", "maxLength": 200},
        "first_name": {"type": "string", "maxLength": 100},
        "last_name": {"type": "string", "maxLength": 100},
        "phone": {"type": "string", "maxLength": 30, "pattern": "^\\+?[0-9 ().-]{3,30}$"},
        "description": {"type": "string", "maxLength": 4000},
        "media_url": {"type": "string", "maxLength": 2000, "format": "uri",
                      "description": "http(s) URL, stored as text and never fetched"},
        "extensions": {"type": "boolean", "description": "`true` also returns the request's token"},
    }
    declared = {f for f in RequestForm.__struct_fields__}
    assert declared == set(props), f"form fields drifted from RequestForm: {declared ^ set(props)}"
    return {"type": "object", "required": ["api_key", "service_code"], "properties": props,
            "patternProperties": {
                "^attribute\\[[A-Za-z0-9_.-]{1,64}\\]$": {
                    "type": "string", "description": "An answer to the service definition's question `code`"},
                "^attribute\\[[A-Za-z0-9_.-]{1,64}\\]\\[\\]$": {
                    "type": "array", "items": {"type": "string"}, "description": "multivaluelist keys"}},
            "additionalProperties": False,
            "description": "GeoReport v2 fields; location: lat+long (in Hanoi), or address_id (a ward or district "
                           "code), or address_string naming one. Attributes are checked against the service "
                           "definition. An empty value counts as not sent."}


def _content(fmt: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {JSON if fmt == "json" else XML: {"schema": schema}}


def _operation(fmt: str, op_id: str, summary: str, description: str, params: list[dict[str, Any]],
               ok: dict[str, Any], errors: set[int], *, optional_key: bool = False,
               body: bool = False) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"description": "OK", "content": _content(fmt, ok)}}
    for status in sorted(errors | {429, 503}):
        responses[str(status)] = {"description": ERROR_TEXT[status],
                                  "content": _content(fmt, {"$ref": "#/components/schemas/Open311Errors"})}
    operation: dict[str, Any] = {
        "tags": TAGS, "operationId": op_id + fmt.capitalize(), "summary": summary,
        "description": description, "parameters": copy.deepcopy(params), "responses": responses}
    if optional_key:
        # Reads are public; a key, when sent, must be valid and widens what the partner sees.
        operation["security"] = [{}, {API_KEY_SCHEME: []}]
    if body:
        operation["requestBody"] = {"required": True, "content": {FORM: {"schema": _form_schema()}}}
    return operation


def open311_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for fmt in ("json", "xml"):
        def add(path: str, method: str, operation: dict[str, Any], fmt: str = fmt) -> None:
            paths.setdefault(f"{PREFIX}{path}.{fmt}", {})[method] = operation

        add("/discovery", "get", _operation(
            fmt, "open311Discovery", "Open311 service discovery",
            "Endpoints, formats and how to obtain an api_key.", [], DISCOVERY, set()))
        add("/services", "get", _operation(
            fmt, "open311Services", "Open311 service list (categories)",
            "Active feedback categories; localised by `locale` or Accept-Language (default vi).",
            [JURISDICTION, LOCALE], _list(SERVICE, "services", "service"), {404}))
        add("/services/{service_code}", "get", _operation(
            fmt, "open311ServiceDefinition", "Open311 service definition (the category's extra questions)",
            "404 for an unknown or inactive service_code.",
            [_param("service_code", {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}, "The category code",
                    "path"), JURISDICTION, LOCALE], DEFINITION, {400, 404}))
        add("/requests", "post", _operation(
            fmt, "open311RequestCreate", "Open311 POST service request (partner api_key, form-urlencoded)",
            "Routed like a citizen's report. Requests are created at once (type realtime), so the answer "
            "carries service_request_id and, with extensions=true, a token.",
            [IDEMPOTENCY_KEY], _list(CREATED, "service_requests", "request"), {400, 403, 404, 413}, body=True))
        add("/requests", "get", _operation(
            fmt, "open311Requests", "Open311 GET service requests",
            "service_request_id (comma separated) overrides the other filters; start_date/end_date span at most "
            "90 days (default: the last 90 days); newest first.",
            [_param("service_request_id", CSV, "Comma separated references"),
             _param("service_code", CSV, "Comma separated; an unknown code is a 400"),
             _param("start_date", DATE, "requested_datetime from"), _param("end_date", DATE, "requested_datetime to"),
             _param("status", CSV, "`open`, `closed` or both, comma separated"),
             _param("page", COUNT, "From 1"), _param("page_size", COUNT, "Default 1000"),
             EXTENSIONS, JURISDICTION, LOCALE],
            _list(REQUEST, "service_requests", "request"), {400, 403, 404}, optional_key=True))
        add("/requests/{service_request_id}", "get", _operation(
            fmt, "open311Request", "Open311 GET one service request (still an array)",
            "404 when unknown or not visible to the caller.",
            [_param("service_request_id", {"type": "string", "minLength": 1, "pattern": "^[^/]+$"},
                    "The reference code", "path"), EXTENSIONS, JURISDICTION, LOCALE],
            _list(REQUEST, "service_requests", "request"), {400, 403, 404}, optional_key=True))
        add("/tokens/{token}", "get", _operation(
            fmt, "open311Token", "Open311 GET service_request_id from a token",
            "The token is returned by POST requests with extensions=true.",
            [_param("token", {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}, "The token", "path"),
             JURISDICTION], _list(TOKEN, "service_requests", "request"), {400, 404}))
        add("/servicerequestupdates", "get", _operation(
            fmt, "open311Updates", "FixMyStreet-style feed of status updates",
            "Public status changes in time order; start_date/end_date span at most 90 days.",
            [_param("start_date", DATE, "From"), _param("end_date", DATE, "To"),
             _param("max_requests", COUNT, "Default 1000"), JURISDICTION],
            _list(UPDATE, "service_request_updates", "request_update"), {400, 403, 404}, optional_key=True))
    return paths


def document_open311(schema: dict[str, Any]) -> None:
    """Replace Litestar's generated Open311 entries with what the wire carries (in place)."""
    paths = schema.setdefault("paths", {})
    for path in [p for p in paths if p.startswith(PREFIX + "/")]:
        del paths[path]
    paths.update(open311_paths())
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Open311Errors"] = ERRORS
    components.setdefault("securitySchemes", {})[API_KEY_SCHEME] = {
        "type": "apiKey", "in": "query", "name": "api_key",
        "description": "Open311 partner key (issued by a city administrator). POST requests takes it as a form field."}
