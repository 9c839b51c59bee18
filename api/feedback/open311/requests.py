"""Open311 service requests: POST requests (partner api_key), GET requests with filters, one
request, tokens, and FixMyStreet's ``servicerequestupdates`` feed.

Only public-safe data leaves here: never the reporter or the partner's contact data, never internal
notes; description, answers and media only for public reports or to the partner that submitted them.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlsplit

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from msgspec import Meta

from adapters.postgres.feedback.open311 import PgOpen311
from adapters.postgres.feedback.repositories import PgCategories
from adapters.postgres.uow import PgUnitOfWork
from api.feedback.common import deps as feedback_deps
from api.feedback.open311.render import iso, render, split_name
from api.feedback.open311.router import (
    TAGS,
    both,
    caller,
    check_jurisdiction,
    fmt_from,
    lang_of,
    localized,
    o311,
    op_id,
    throttle,
)
from api.identity.auth import authenticate_partner
from api.platform import i18n
from api.platform.container import Container
from api.platform.deps import AppContainer, UnitOfWork
from api.platform.idempotency import REPLAYED, idempotent
from api.platform.problems import ProblemError, parse_validation_message
from api.platform.quota import within_quota
from api.platform.text_guard import check_form
from domain.errors import InvalidInput, NotFound
from domain.feedback.model import Event, EventKind, Report, open311_status
from domain.feedback.open311 import (
    ANSWER_KINDS,
    MAX_RESULTS,
    Contact,
    RequestQuery,
    RequestView,
    ServiceRequestIn,
    SubmitServiceRequest,
    UpdateView,
    detailed_status,
    fms_status,
    parse_datetime,
    parse_statuses,
    window,
)
from domain.identity.principal import Principal
from domain.shared.time import HANOI

FORM = "application/x-www-form-urlencoded"
_ATTRIBUTE = re.compile(r"attribute\[([A-Za-z0-9_.-]{1,64})\](\[\])?")
Short = Annotated[str, Meta(max_length=200)]
Name = Annotated[str, Meta(max_length=100)]
Count = Annotated[int, QueryParameter(ge=1, le=MAX_RESULTS)]


class RequestForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """POST requests fields (GeoReport v2); ``extensions=true`` also returns the request's token."""

    api_key: Short = ""
    jurisdiction_id: Short | None = None
    service_code: Annotated[str, Meta(min_length=1, max_length=64)]
    lat: Annotated[float, Meta(ge=-90, le=90)] | None = None
    long: Annotated[float, Meta(ge=-180, le=180)] | None = None
    address_string: Annotated[str, Meta(max_length=500)] = ""
    address_id: Annotated[str, Meta(max_length=64)] = ""
    email: Annotated[str, Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] = ""
    device_id: Short = ""
    account_id: Short | None = None
    first_name: Name = ""
    last_name: Name = ""
    phone: Annotated[str, Meta(max_length=30, pattern=r"^\+?[0-9 ().-]{3,30}$")] = ""
    description: Annotated[str, Meta(max_length=4000)] = ""
    media_url: Annotated[str, Meta(max_length=2000)] | None = None
    extensions: bool = False


def parse_form(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Scalar fields and ``attribute[code]`` / ``attribute[code][]`` values of a form body."""
    if content_type.split(";")[0].strip().lower() != FORM:
        raise ProblemError(400, "open311.bad_form")
    check_form(body)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise ProblemError(400, "open311.bad_form") from None
    fields: dict[str, str] = {}
    attributes: dict[str, list[str]] = {}
    for key, value in pairs:
        match = _ATTRIBUTE.fullmatch(key)
        if match:
            attributes.setdefault(match[1], []).append(value)
        elif key in fields:
            raise InvalidInput("open311.repeated_field", field=key, rule="repeated")
        else:
            fields[key] = value
    return fields, attributes


def validate_form(fields: dict[str, str]) -> RequestForm:
    # "A null parameter should be treated as equivalent to a non-declared parameter" (GeoReport v2).
    present = {k: v for k, v in fields.items() if v != ""}
    try:
        form = msgspec.convert(present, RequestForm, strict=False)
    except msgspec.ValidationError as exc:
        field, rule, params = parse_validation_message(str(exc))
        raise InvalidInput("invalid_input", field=field, rule=rule, **params) from None
    if form.media_url is not None:
        url = urlsplit(form.media_url)
        # Kept as text and shown as a link; never fetched by this server (SSRF).
        if url.scheme not in ("http", "https") or not url.hostname:
            raise InvalidInput("invalid_input", field="media_url", rule="format", expected="http(s) URL")
    return form


def _when(value: datetime, lang: str) -> str:
    return value.astimezone(HANOI).strftime("%H:%M %d/%m/%Y" if lang == "vi" else "%Y-%m-%d %H:%M")


def _file_url(base: str, report_id: uuid.UUID, file_id: uuid.UUID) -> str:
    return f"{base}/api/v1/public/feedback/reports/{report_id}/files/{file_id}"


def _status_notes(report: Report, notes: list[Event], lang: str) -> str | None:
    answer = next((e for e in reversed(notes) if e.kind in ANSWER_KINDS and e.status is report.status), None)
    if answer is None:
        return None
    if answer.kind is EventKind.DUPLICATE:
        return i18n.message("open311.duplicate_of", lang, 200, {"ref": answer.data.get("original_ref", "")})
    return answer.text or None


def request_out(v: RequestView, notes: list[Event], lang: str, base: str, extensions: bool) -> dict[str, Any]:
    r = v.report
    media = v.media_url if v.full else None
    if media is None and r.is_public and v.photo_id is not None:
        media = _file_url(base, r.id, v.photo_id)
    item: dict[str, Any] = {
        "service_request_id": r.ref, "status": open311_status(r.status),
        "status_notes": _status_notes(r, notes, lang) if v.full else None,
        "service_name": localized(lang, v.service_name_vi, v.service_name_en), "service_code": v.service_code,
        "description": r.description if v.full else None,
        "agency_responsible": localized(lang, v.agency_vi, v.agency_en), "service_notice": None,
        "requested_datetime": iso(r.created_at), "updated_datetime": iso(r.updated_at),
        "expected_datetime": iso(r.due_at) if open311_status(r.status) == "open" else None,
        "address": r.address if v.full else None, "address_id": v.address_id, "zipcode": None,
        "lat": r.location.lat, "long": r.location.lon, "media_url": media}
    if extensions:
        item["detailed_status"] = detailed_status(r.status)
        item["notes"] = [{"update_id": str(e.id), "status": fms_status(e), "updated_datetime": iso(e.created_at),
                          "description": e.text if v.full and e.kind in ANSWER_KINDS else ""} for e in notes]
    return item


def update_out(u: UpdateView, base: str) -> dict[str, Any]:
    e, r = u.event, u.report
    full = r.is_public or u.own
    media = None
    if e.kind is EventKind.HANDLED and r.is_public:
        first = (e.data.get("evidence_ids") or "").split(",")[0]
        media = _file_url(base, r.id, uuid.UUID(first)) if first else None
    return {"update_id": str(e.id), "service_request_id": r.ref, "status": open311_status(e.status),
            "external_status_code": fms_status(e), "description": e.text if full and e.kind in ANSWER_KINDS else "",
            "updated_datetime": iso(e.created_at), "media_url": media}


def _dates(start_date: str | None, end_date: str | None, now: datetime) -> tuple[datetime, datetime]:
    start = parse_datetime(start_date, "start_date", HANOI) if start_date else None
    end = parse_datetime(end_date, "end_date", HANOI) if end_date else None
    return window(start, end, now)


def _csv(value: str | None, field: str, limit: int = 100) -> tuple[str, ...]:
    items = tuple(dict.fromkeys(p.strip() for p in (value or "").split(",") if p.strip()))
    if len(items) > limit or any(len(i) > 64 for i in items):
        raise InvalidInput("invalid_input", field=field, rule="max_items", limit=limit)
    return items


class Open311RequestsController(Controller):
    tags = TAGS

    @post(both("requests"), operation_id=op_id("open311RequestCreate"), status_code=200, media_type="text/xml",
          summary="Open311 POST service request (partner api_key, form-urlencoded)",
          description="service_code + lat/long (or address_id = ward code, or address_string naming a ward); "
                      "attribute[code]=value per the service definition. Routed like a citizen's report. "
                      "Send an Idempotency-Key: a retry returns the first response.")
    async def create(self, request: Request[Any, Any, Any], container: AppContainer,
                     uow: UnitOfWork) -> Response[bytes]:
        fmt = fmt_from(request)
        fields, attributes = parse_form(await request.body(), request.headers.get("content-type", ""))
        partner = await authenticate_partner(uow.conn, fields.get("api_key", ""))
        await throttle(request, container, partner)
        form = validate_form(fields)
        check_jurisdiction(form.jurisdiction_id)
        lang = lang_of(request, None)

        async def run() -> Response[Any]:
            return await _submit(container, uow, partner, form, attributes, lang)

        response = await within_quota(container, "open311_quota_requests", str(partner.id),
                                      lambda: idempotent(request, uow, f"open311:{partner.id}", run))
        replayed = {REPLAYED: "true"} if response.headers.get(REPLAYED) else {}
        # Without an Idempotency-Key the content is still data; a stored (or replayed) response is JSON.
        data = msgspec.json.decode(response.content) if isinstance(response.content, bytes) else response.content
        return render(fmt, data, "service_requests", "request",
                      status=response.status_code or 201, headers=replayed)

    @get(both("requests"), operation_id=op_id("open311Requests"), media_type="text/xml",
         summary="Open311 GET service requests",
         description="service_request_id (comma separated) overrides the other filters; service_code and status "
                     "(open, closed) comma separated; start_date/end_date span at most 90 days (default: the last "
                     "90 days); page/page_size (≤ 1000); extensions=true adds detailed_status and notes.")
    async def search(self, request: Request[Any, Any, Any], container: AppContainer, uow: UnitOfWork,
                     service_request_id: FromQuery[str | None] = None, service_code: FromQuery[str | None] = None,
                     start_date: FromQuery[str | None] = None, end_date: FromQuery[str | None] = None,
                     status: FromQuery[str | None] = None,
                     page: Count = 1, page_size: Count = MAX_RESULTS, extensions: FromQuery[bool] = False,
                     api_key: FromQuery[str | None] = None, jurisdiction_id: FromQuery[str | None] = None,
                     locale: FromQuery[str | None] = None) -> Response[bytes]:
        fmt = fmt_from(request)
        check_jurisdiction(jurisdiction_id)
        partner = await caller(request, container, uow, api_key)
        viewer = partner.id if partner else None
        refs = _csv(service_request_id, "service_request_id", MAX_RESULTS)
        # Checked even when service_request_id overrides them: a malformed date is refused, never ignored.
        start, end = _dates(start_date, end_date, container.clock.now())
        if refs:
            query = RequestQuery(refs=refs, viewer_key_id=viewer, offset=(page - 1) * page_size, limit=page_size)
        else:
            categories = PgCategories(uow.conn)
            category_ids = []
            for code in _csv(service_code, "service_code"):
                category = await categories.get_by_code(code)
                if category is None:
                    raise InvalidInput("open311.unknown_service", field="service_code", rule="unknown_service")
                category_ids.append(category.id)
            query = RequestQuery(category_ids=tuple(category_ids), statuses=parse_statuses(status or ""),
                                 created_from=start, created_to=end, viewer_key_id=viewer,
                                 offset=(page - 1) * page_size, limit=page_size)
        items = await _requests(container, uow, query, lang_of(request, locale), extensions)
        return render(fmt, items, "service_requests", "request")

    @get("/requests/{name:str}", operation_id="open311Request", media_type="text/xml",
         summary="Open311 GET one service request (still an array)",
         description="`/requests/{service_request_id}.json` or `.xml`; 404 when unknown or not visible.")
    async def one(self, request: Request[Any, Any, Any], container: AppContainer, uow: UnitOfWork, name: FromPath[str],
                  extensions: FromQuery[bool] = False, api_key: FromQuery[str | None] = None,
                  jurisdiction_id: FromQuery[str | None] = None,
                  locale: FromQuery[str | None] = None) -> Response[bytes]:
        ref, fmt = split_name(name)
        check_jurisdiction(jurisdiction_id)
        partner = await caller(request, container, uow, api_key)
        query = RequestQuery(refs=(ref,), viewer_key_id=partner.id if partner else None, limit=1)
        items = await _requests(container, uow, query, lang_of(request, locale), extensions)
        if not items:
            raise NotFound("open311.request_not_found")
        return render(fmt, items, "service_requests", "request")

    @get("/tokens/{name:str}", operation_id="open311Token", media_type="text/xml",
         summary="Open311 GET service_request_id from a token",
         description="`/tokens/{token}.json` or `.xml`. Requests are created at once (type realtime); the token "
                     "is returned by POST requests with extensions=true.")
    async def token(self, request: Request[Any, Any, Any], container: AppContainer, uow: UnitOfWork,
                    name: FromPath[str],
                    jurisdiction_id: FromQuery[str | None] = None) -> Response[bytes]:
        token, fmt = split_name(name)
        check_jurisdiction(jurisdiction_id)
        await throttle(request, container, None)
        ref = await o311(container, uow).ref_for_token(token) if len(token) <= 64 else None
        if ref is None:
            raise NotFound("open311.token_not_found")
        return render(fmt, [{"service_request_id": ref, "token": token}], "service_requests", "request")

    @get(both("servicerequestupdates"), operation_id=op_id("open311Updates"), media_type="text/xml",
         summary="FixMyStreet-style feed of status updates",
         description="Public status changes in time order: status open|closed, external_status_code the extended "
                     "status (in_progress, action_scheduled, fixed, duplicate, not_councils_responsibility, "
                     "no_further_action, internal_referral). start_date/end_date ≤ 90 days; max_requests ≤ 1000.")
    async def updates(self, request: Request[Any, Any, Any], container: AppContainer, uow: UnitOfWork,
                      start_date: FromQuery[str | None] = None, end_date: FromQuery[str | None] = None,
                      max_requests: Count = MAX_RESULTS,
                      api_key: FromQuery[str | None] = None,
                      jurisdiction_id: FromQuery[str | None] = None) -> Response[bytes]:
        fmt = fmt_from(request)
        check_jurisdiction(jurisdiction_id)
        partner = await caller(request, container, uow, api_key)
        start, end = _dates(start_date, end_date, container.clock.now())
        rows = await o311(container, uow).updates(start, end, max_requests, partner.id if partner else None)
        base = container.settings.base_url
        return render(fmt, [update_out(u, base) for u in rows], "service_request_updates", "request_update")


async def _requests(container: Container, uow: PgUnitOfWork, query: RequestQuery, lang: str,
                    extensions: bool) -> list[dict[str, Any]]:
    store = o311(container, uow)
    views = await store.requests(query)
    # Notes feed status_notes (full views) and the extensions; one query for the page.
    wanted = [v.report.id for v in views if extensions or v.full]
    notes = await store.notes(wanted) if wanted else {}
    base = container.settings.base_url
    return [request_out(v, notes.get(v.report.id, []), lang, base, extensions) for v in views]


async def _submit(container: Container, uow: PgUnitOfWork, partner: Principal, form: RequestForm,
                  attributes: dict[str, list[str]], lang: str) -> Response[Any]:
    deps = feedback_deps(container, uow.conn)
    store: PgOpen311 = o311(container, uow)
    cmd = ServiceRequestIn(
        service_code=form.service_code, lat=form.lat, lon=form.long, address_string=form.address_string,
        address_id=form.address_id, attributes=attributes, description=form.description, media_url=form.media_url,
        account_id=form.account_id, contact=Contact(email=form.email, first_name=form.first_name,
                                                    last_name=form.last_name, phone=form.phone,
                                                    device_id=form.device_id))
    done = await SubmitServiceRequest(deps, PgCategories(uow.conn), store).execute(partner, cmd)
    report = done.report
    unit = await deps.units.get(report.unit_id)
    notice = i18n.message("open311.notice", lang, 200, {
        "unit": localized(lang, unit.name_vi, unit.name_en) if unit else "",
        "ack_due": _when(report.ack_due_at, lang), "due": _when(report.due_at, lang)})
    item: dict[str, Any] = {"service_request_id": report.ref, "service_notice": notice, "account_id": form.account_id}
    if form.extensions:
        item["token"] = done.token
    return Response([item], status_code=200)
