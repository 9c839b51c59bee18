"""FHIR R4 at ``/fhir/r4``: the read API (HL7 IPA), ``$summary`` (IPS), and facility ingestion.

Everything is ``application/fhir+json``; every error is an OperationOutcome (this router's own
exception handler turns the platform's problem responses into one). Callers of any kind: citizens
(patient-bound), doctors and facilities holding a share, facilities for what they sent.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, Response, Router, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from adapters.fhir.output import (
    MEDIA_TYPE,
    RESULT_PARAMS,
    capability_statement,
    error_outcome,
    ingest_response,
    ips_document,
    operation_outcome,
    search_bundle,
)
from adapters.postgres.uow import PgUnitOfWork
from api.health import texts  # noqa: F401 - registers the error texts
from api.health.wiring import health
from api.identity.auth import ANY_CALLER_OPT, authenticate
from api.platform.container import Container
from api.platform.deps import TX_ON_WRITE, AppContainer, UnitOfWork
from api.platform.problems import ProblemError, handle_exception
from api.platform.text_guard import decode_json
from domain.errors import InvalidInput, NotFound
from domain.health.issues import BundleRejected
from domain.health.reading import SEARCH_PARAMS, Search, Total
from domain.identity.principal import Principal
from domain.shared.paging import MAX_LIMIT

BASE_PATH = "/fhir/r4"
_ISSUE_CODE = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported",
               409: "conflict", 413: "too-long", 415: "not-supported", 422: "processing", 429: "throttled",
               503: "transient"}
# Handlers that serve any authenticated caller: authenticated before their unit of work opens
# (api.identity.auth.authenticate_declared), so ``caller`` finds the principal cached on the request.
ANY_CALLER = {ANY_CALLER_OPT: True}
# The reads: only a reader other than the patient writes (the access log, and the patient's notice of a new
# reader), so the transaction begins before that write, and a patient's own read sends no BEGIN/COMMIT.
READS = {**ANY_CALLER, **TX_ON_WRITE}
# Search parameter -> Search field.
_FIELDS = {"category": "category", "code": "code", "type": "code", "date": "date",
           "clinical-status": "clinical_status", "status": "status", "intent": "intent"}


def fhir(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(msgspec.json.encode(content), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def fhir_error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """The platform's problem (status, localised text, headers) as an OperationOutcome."""
    if isinstance(exc, BundleRejected):
        return fhir(operation_outcome(exc.issues), 422)
    problem = handle_exception(request, exc)
    body = problem.content
    text = getattr(body, "detail", None) or getattr(body, "title", None) or "error"
    status = problem.status_code or 500
    headers = {k: v for k, v in problem.headers.items() if k.lower() in ("www-authenticate", "retry-after")}
    return fhir(error_outcome(_ISSUE_CODE.get(status, "exception"), str(text)), status, headers)


def base_url(request: Request[Any, Any, Any]) -> str:
    settings = request.app.state.container.settings
    root = (settings.public_base_url or str(request.base_url)).rstrip("/")
    return f"{root}{BASE_PATH}"


async def caller(request: Request[Any, Any, Any]) -> Principal:
    return await authenticate(request)


def _logical_id(value: str, not_found: str) -> uuid.UUID:
    """A FHIR logical id of ours (a UUID). Any other string is a well-formed FHIR id of nothing we hold:
    404 with an OperationOutcome, as FHIR clients expect, rather than the router's problem+json."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(not_found) from None


def _patient_param(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value.removeprefix("Patient/"))
    except ValueError:
        raise InvalidInput("health.search_not_supported", field="patient", rule="reference") from None


def parse_search(resource_type: str, request: Request[Any, Any, Any]) -> tuple[Search, list[tuple[str, str]]]:
    allowed = SEARCH_PARAMS.get(resource_type)
    if allowed is None:
        raise NotFound("health.search_not_supported")
    params = [(k, v) for k in request.query_params for v in request.query_params.getall(k)]
    values: dict[str, list[str]] = {}
    for key, value in params:
        if key not in (*allowed, *RESULT_PARAMS):
            raise InvalidInput("health.search_not_supported", field=key[:40], rule="supported")
        values.setdefault(key, []).append(value)
    if len(values.get("patient", [])) != 1:
        raise InvalidInput("health.search_not_supported", field="patient", rule="required")
    fields: dict[str, Any] = {}
    for key, found in values.items():
        if key in _FIELDS:
            name = _FIELDS[key]
            if name == "date":
                fields[name] = tuple(found)
            else:  # comma = OR within one parameter
                fields[name] = tuple(x for v in found for x in v.split(",") if x)
    try:
        count = int(values.get("_count", ["20"])[0])
        offset = int(values.get("_offset", ["0"])[0])
    except ValueError:
        raise InvalidInput("health.search_not_supported", field="_count", rule="type") from None
    if not 0 <= count <= MAX_LIMIT or not 0 <= offset <= 100_000:
        raise InvalidInput("health.search_not_supported", field="_count", rule="range")
    try:
        total = Total(values["_total"][0]) if "_total" in values else None
    except ValueError:
        raise InvalidInput("health.search_not_supported", field="_total", rule="supported") from None
    search = Search(resource_type=resource_type, patient_id=_patient_param(values["patient"][0]), offset=offset,
                    count=count, total=total, **fields)
    return search, params


class FhirController(Controller):
    path = "/"
    tags = ["health-fhir"]

    @get("/metadata", operation_id="fhirCapabilities", summary="CapabilityStatement: exactly what is served",
         media_type=MEDIA_TYPE)
    async def metadata(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        return fhir(capability_statement(base_url(request)))

    @get("/.well-known/smart-configuration", operation_id="fhirSmartConfiguration", media_type="application/json",
         summary="SMART configuration (how to get a patient-bound token)")
    async def smart(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        from adapters.fhir.output import smart_configuration
        root = base_url(request).removesuffix(BASE_PATH)
        return Response(msgspec.json.encode(smart_configuration(
            root, f"{root}/api/v1/auth/token", f"{root}/api/v1/auth/vneid/start")), media_type="application/json")

    @get("/Patient/{patient_id:str}", operation_id="fhirPatientRead", opt=READS, media_type=MEDIA_TYPE,
         summary="The patient (patient-bound for citizens; within a share or treatment otherwise)")
    async def patient(self, request: Request[Any, Any, Any], container: AppContainer, uow: UnitOfWork,
                      patient_id: FromPath[str]) -> Response[bytes]:
        found = await health(container, uow.conn).fhir.patient(
            await caller(request), _logical_id(patient_id, "health.record_not_found"))
        return fhir(found.resource, headers={"ETag": f'W/"{found.version_id}"'})

    @get("/Patient/{patient_id:str}/$summary", operation_id="fhirPatientSummary", opt=READS, media_type=MEDIA_TYPE,
         summary="International Patient Summary document (Composition LOINC 60591-5)")
    async def summary(self, request: Request[Any, Any, Any], container: AppContainer, uow: UnitOfWork,
                      patient_id: FromPath[str]) -> Response[bytes]:
        data = await health(container, uow.conn).fhir.summary(
            await caller(request), _logical_id(patient_id, "health.record_not_found"))
        return fhir(ips_document(base_url(request), data, container.clock.now()))

    @get("/{resource_type:str}/{resource_id:str}", operation_id="fhirRead", opt=READS, media_type=MEDIA_TYPE,
         summary="Read one resource")
    async def read(self, request: Request[Any, Any, Any], container: AppContainer, uow: UnitOfWork,
                   resource_type: FromPath[str], resource_id: FromPath[str]) -> Response[bytes]:
        if resource_type not in SEARCH_PARAMS:
            raise NotFound("health.resource_not_found")
        found = await health(container, uow.conn).fhir.read(
            await caller(request), resource_type, _logical_id(resource_id, "health.resource_not_found"))
        return Response(found.resource_json, media_type=MEDIA_TYPE,
                        headers={"ETag": f'W/"{found.version_id}"'})

    @get("/{resource_type:str}", operation_id="fhirSearch", opt=READS, media_type=MEDIA_TYPE,
         summary="Search by patient (+ category, code, date, clinical-status, intent, status)")
    async def search(self, request: Request[Any, Any, Any], container: AppContainer, uow: UnitOfWork,
                     resource_type: FromPath[str]) -> Response[bytes]:
        q, params = parse_search(resource_type, request)
        result = await health(container, uow.conn).fhir.search(await caller(request), q)
        return fhir(search_bundle(base_url(request), resource_type, params, result.total, result.resources,
                                  q.offset, q.count, more=result.more))

    @post("/", operation_id="fhirTransaction", opt=ANY_CALLER, media_type=MEDIA_TYPE, status_code=200,
          summary="Facilities: one encounter as a transaction Bundle (stored whole or not at all)")
    async def transaction(self, request: Request[Any, Any, Any], container: AppContainer,
                          uow: UnitOfWork) -> Response[bytes]:
        return await ingest(request, container, uow)

    @post("/Bundle/$validate", operation_id="fhirValidate", opt=ANY_CALLER, media_type=MEDIA_TYPE, status_code=200,
          summary="Facilities: check a bundle without storing it (fhir.resources + our rules)")
    async def validate(self, request: Request[Any, Any, Any], container: AppContainer,
                       uow: UnitOfWork) -> Response[bytes]:
        bundle = await fhir_body(request)
        issues = await health(container, uow.conn).validate.execute(await caller(request), bundle)
        if issues:
            return fhir(operation_outcome(issues), 200)
        return fhir(error_outcome("informational", "the bundle is valid", severity="information"))


async def fhir_body(request: Request[Any, Any, Any]) -> Any:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/fhir+json", "application/json"):
        raise ProblemError(415, "unsupported_media_type", expected=MEDIA_TYPE)
    try:  # the same guards as every other JSON body (UTF-8, depth, NUL)
        return decode_json(msgspec.json.decode, await request.body())
    except msgspec.DecodeError:
        raise HTTPException(status_code=400, detail="Malformed JSON body") from None


async def ingest(request: Request[Any, Any, Any], container: Container, uow: PgUnitOfWork) -> Response[bytes]:
    bundle = await fhir_body(request)
    result = await health(container, uow.conn).ingest.execute(await caller(request), bundle)
    kind = bundle.get("type", "collection") if isinstance(bundle, dict) else "collection"
    return fhir(ingest_response(result, base_url(request), kind), 201 if result.created else 200,
                headers={"Location": f"{BASE_PATH}/Encounter/{result.encounter_id}"})


def fhir_router() -> Router:
    # Described by its CapabilityStatement (GET /fhir/r4/metadata), the FHIR way, not in our OpenAPI:
    # FHIR JSON is not schema-described per route, and bundles are validated by FHIR rules.
    return Router(path=BASE_PATH, route_handlers=[FhirController], include_in_schema=False,
                  exception_handlers={Exception: fhir_error})
