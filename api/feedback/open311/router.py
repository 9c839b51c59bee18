"""Open311 GeoReport v2 at ``/open311/v2``: the router, discovery, the service list and the
service definitions (from the feedback categories and their extra questions).

Every resource answers as ``.json`` or ``.xml``; any other suffix is a 400 in Open311's error format.
Reads need no api_key; when one is given it must be valid (403) and lets a partner also see its
own unpublished requests. See docs/open311.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.types import Method

from adapters.postgres.feedback.open311 import PgOpen311
from adapters.postgres.feedback.repositories import PgCategories
from adapters.postgres.uow import PgUnitOfWork
from api.feedback.open311.render import Fmt, handle_open311_exception, render, split_name
from api.identity.auth import authenticate_partner
from api.identity.support import client_ip
from api.platform import i18n
from api.platform.container import Container
from api.platform.deps import AppContainer, UnitOfWork
from api.platform.problems import ProblemError
from domain.errors import NotFound, RateLimited
from domain.feedback.model import Category, Datatype, Question
from domain.identity.principal import Principal
from domain.shared.time import HANOI

PREFIX = "/open311/v2"
JURISDICTION = "hanoi.gov.vn"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this interface last changed in a way partners should notice (discovery's changeset).
CHANGESET = datetime(2026, 11, 25, tzinfo=HANOI)
TAGS = ["open311"]
RESOURCES = ("discovery", "services", "requests", "tokens", "servicerequestupdates")


def both(name: str) -> list[str]:
    return [f"/{name}.json", f"/{name}.xml"]


def op_id(base: str) -> Any:
    """One OpenAPI operation per format (``open311ServicesJson`` / ``open311ServicesXml``)."""
    def make(handler: Any, method: Method, components: list[Any]) -> str:
        last = str(components[-1]) if components else ""
        return base + ("Json" if last.endswith(".json") else "Xml" if last.endswith(".xml") else "")
    return make


def fmt_from(request: Request[Any, Any, Any]) -> Fmt:
    return split_name(request.url.path.rsplit("/", 1)[-1])[1]


def lang_of(request: Request[Any, Any, Any], locale: str | None) -> str:
    return locale if locale in ("vi", "en") else i18n.language(request.headers.get("accept-language"))


def check_jurisdiction(jurisdiction_id: str | None) -> None:
    # One jurisdiction: the parameter is optional, but a wrong one is "not found" per the spec.
    if jurisdiction_id and jurisdiction_id != JURISDICTION:
        raise NotFound("open311.jurisdiction_not_found")


async def throttle(request: Request[Any, Any, Any], container: Container, partner: Principal | None) -> None:
    """Reads are public and can return 1000 rows: a budget per partner key, or per client IP."""
    assert container.identity is not None, "built by the composition root"
    key = f"open311:key:{partner.id}" if partner else f"open311:ip:{client_ip(request)}"
    retry_after = await container.identity.limiter.hit(key, container.settings.open311_requests_per_minute, 60)
    if retry_after:
        raise RateLimited(retry_after)


async def caller(request: Request[Any, Any, Any], container: Container, uow: PgUnitOfWork,
                 api_key: str | None) -> Principal | None:
    """The partner when an api_key is given (it must be valid: 403 otherwise), after the rate limit."""
    partner = None if api_key is None else await authenticate_partner(uow.conn, api_key)
    await throttle(request, container, partner)
    return partner


def o311(container: Container, uow: PgUnitOfWork) -> PgOpen311:
    assert container.identity is not None, "built by the composition root"
    return PgOpen311(uow.conn, container.identity.pii)


def localized(lang: str, vi: str, en: str) -> str:
    return (en or vi) if lang == "en" else vi


# --- services ----------------------------------------------------------------------------------------

def service_out(c: Category, lang: str) -> dict[str, Any]:
    return {"service_code": c.code, "service_name": localized(lang, c.name_vi, c.name_en),
            "description": localized(lang, c.description_vi, c.description_en) or localized(lang, c.name_vi,
                                                                                              c.name_en),
            "metadata": bool(c.questions), "type": "realtime", "keywords": ", ".join(c.keywords), "group": c.group}


_DATATYPE_HINTS: dict[Datatype, dict[str, str]] = {
    Datatype.STRING: {"vi": "Chuỗi ký tự, một dòng, tối đa 200 ký tự", "en": "One line of text, up to 200 characters"},
    Datatype.TEXT: {"vi": "Văn bản, tối đa 4000 ký tự", "en": "Text, up to 4000 characters"},
    Datatype.NUMBER: {"vi": "Số (dùng dấu chấm thập phân)", "en": "A number (decimal point)"},
    Datatype.DATETIME: {"vi": "Thời điểm ISO 8601 có múi giờ, ví dụ 2026-11-25T08:30:00+07:00",
                        "en": "ISO 8601 datetime with zone, e.g. 2026-11-25T08:30:00+07:00"},
    Datatype.SINGLE: {"vi": "Chọn một giá trị (key)", "en": "Pick one value (its key)"},
    Datatype.MULTI: {"vi": "Chọn một hoặc nhiều giá trị: attribute[code][]=key",
                     "en": "Pick one or more values: attribute[code][]=key"},
}


def attribute_out(q: Question, order: int, lang: str) -> dict[str, Any]:
    hint = localized(lang, q.description_vi, q.description_en) or _DATATYPE_HINTS[q.datatype][lang]
    return {"variable": True, "code": q.code, "datatype": q.datatype.value, "required": q.required,
            "datatype_description": hint, "order": order,
            "description": localized(lang, q.label_vi, q.label_en),
            "values": [{"key": v.key, "name": localized(lang, v.name_vi, v.name_en)} for v in q.values]}


class Open311InfoController(Controller):
    tags = TAGS

    @get(both("discovery"), operation_id=op_id("open311Discovery"), summary="Open311 service discovery",
         description="Endpoints, formats and how to obtain an api_key. `.json` or `.xml`.", media_type="text/xml")
    async def discovery(self, request: Request[Any, Any, Any], container: AppContainer) -> Response[bytes]:
        await throttle(request, container, None)
        url = container.settings.base_url + PREFIX
        kind = "production" if container.settings.environment == "production" else "test"
        body = {"changeset": CHANGESET.isoformat(), "contact": f"Thủ Đô Số — {url} (docs/open311.md)",
                "key_service": "api_key do quản trị viên thành phố cấp cho tổ chức đối tác / "
                               "api_keys are issued to partner organisations by a city administrator",
                "endpoints": [{"specification": SPECIFICATION, "url": url, "changeset": CHANGESET.isoformat(),
                               "type": kind, "formats": ["text/xml", "application/json"]}]}
        return render(fmt_from(request), body, "discovery")

    @get(both("services"), operation_id=op_id("open311Services"), summary="Open311 service list (categories)",
         description="Localised by `locale` (vi, en) or Accept-Language (default vi).", media_type="text/xml")
    async def services(self, request: Request[Any, Any, Any], container: AppContainer, uow: UnitOfWork,
                       jurisdiction_id: FromQuery[str | None] = None,
                       locale: FromQuery[str | None] = None) -> Response[bytes]:
        fmt = fmt_from(request)
        check_jurisdiction(jurisdiction_id)
        await throttle(request, container, None)
        lang = lang_of(request, locale)
        items = [service_out(c, lang) for c in await PgCategories(uow.conn).list()]
        return render(fmt, items, "services", "service")

    @get("/services/{name:str}", operation_id="open311ServiceDefinition", media_type="text/xml",
         summary="Open311 service definition: the category's extra questions as attributes",
         description="`/services/{service_code}.json` or `.xml`; 404 for an unknown or inactive service_code.")
    async def definition(self, request: Request[Any, Any, Any], container: AppContainer, uow: UnitOfWork,
                         name: FromPath[str],
                         jurisdiction_id: FromQuery[str | None] = None,
                         locale: FromQuery[str | None] = None) -> Response[bytes]:
        code, fmt = split_name(name)
        check_jurisdiction(jurisdiction_id)
        await throttle(request, container, None)
        category = await PgCategories(uow.conn).get_by_code(code)
        if category is None or not category.active:
            raise NotFound("open311.service_not_found")
        lang = lang_of(request, locale)
        body = {"service_code": category.code,
                "attributes": [attribute_out(q, i, lang) for i, q in enumerate(category.questions, start=1)]}
        return render(fmt, body, "service_definition")


class Open311FallbackController(Controller):
    """Known resources with another suffix are a 400 (format); anything else a 404, both in Open311 form."""

    tags = TAGS
    include_in_schema = False

    @get("/{name:str}", operation_id="open311UnknownGet", include_in_schema=False)
    async def unknown_get(self, name: FromPath[str]) -> None:
        _unknown(name)

    @post("/{name:str}", operation_id="open311UnknownPost", include_in_schema=False)
    async def unknown_post(self, name: FromPath[str]) -> None:
        _unknown(name)

    @get(["/services", "/requests", "/tokens"], operation_id="open311NoFormat", include_in_schema=False)
    async def no_format(self) -> None:
        # These names also prefix parametrised routes, so the catch-all above never sees them.
        raise ProblemError(400, "open311.format_required")


def _unknown(name: str) -> None:
    stem = name.rpartition(".")[0] or name
    if stem in RESOURCES:
        split_name(name)  # raises the 400 naming the format
    raise ProblemError(404, "open311.not_found")


def build_router() -> Router:
    from api.feedback.open311.requests import Open311RequestsController

    return Router(path=PREFIX, route_handlers=[Open311InfoController, Open311RequestsController,
                                               Open311FallbackController],
                  exception_handlers={Exception: handle_open311_exception})


i18n.register({
    "open311.format_required": {"vi": "Thiếu định dạng: dùng .json hoặc .xml",
                                "en": "A format is required: use .json or .xml"},
    "open311.bad_format": {"vi": "Định dạng '{format}' không được hỗ trợ: dùng .json hoặc .xml",
                           "en": "Format '{format}' is not supported: use .json or .xml"},
    "open311.not_found": {"vi": "Không có tài nguyên Open311 này", "en": "No such Open311 resource"},
    "open311.jurisdiction_not_found": {"vi": "jurisdiction_id không đúng (dùng hanoi.gov.vn)",
                                       "en": "Unknown jurisdiction_id (use hanoi.gov.vn)"},
    "open311.service_not_found": {"vi": "Không có service_code này", "en": "The service_code was not found"},
    "open311.request_not_found": {"vi": "Không tìm thấy yêu cầu", "en": "The service request was not found"},
    "open311.token_not_found": {"vi": "Không tìm thấy token", "en": "The token was not found"},
    "open311.unknown_service": {"vi": "service_code không tồn tại hoặc đã ngừng",
                                "en": "Unknown or inactive service_code"},
    "open311.bad_status": {"vi": "status chỉ nhận open, closed", "en": "status accepts open, closed"},
    "open311.bad_date": {"vi": "Ngày giờ không đúng định dạng ISO 8601", "en": "The date is not ISO 8601"},
    "open311.date_needs_zone": {"vi": "Ngày giờ phải có múi giờ (Z hoặc +07:00)",
                                "en": "The datetime needs a zone (Z or +07:00)"},
    "open311.bad_window": {"vi": "end_date phải sau start_date", "en": "end_date must be after start_date"},
    "open311.window_too_long": {"vi": "Khoảng thời gian tối đa {days} ngày",
                                "en": "The date range may span at most {days} days"},
    "open311.bad_attribute": {"vi": "Thuộc tính bổ sung không hợp lệ", "en": "An attribute is invalid"},
    "open311.location_required": {"vi": "Cần lat và long, hoặc address_id, hoặc address_string",
                                  "en": "Send lat and long, or address_id, or address_string"},
    "open311.unknown_address_id": {"vi": "address_id không phải mã phường/xã hoặc quận/huyện",
                                   "en": "address_id is not a ward or district code"},
    "open311.address_not_located": {
        "vi": "Không xác định được vị trí từ address_string: gửi lat/long hoặc address_id (mã phường)",
        "en": "address_string could not be located: send lat/long or address_id (a ward code)"},
    "open311.partner_required": {"vi": "Cần api_key của đối tác", "en": "A partner api_key is required"},
    "open311.bad_form": {"vi": "Nội dung phải là application/x-www-form-urlencoded (UTF-8)",
                         "en": "The body must be application/x-www-form-urlencoded (UTF-8)"},
    "open311.repeated_field": {"vi": "Trường bị gửi nhiều lần", "en": "A field was sent more than once"},
    "open311.notice": {"vi": "Phản ánh đã chuyển đến {unit}. Hạn tiếp nhận: {ack_due}; hạn xử lý: {due}.",
                       "en": "Sent to {unit}. To be acknowledged by {ack_due} and handled by {due}."},
    "open311.duplicate_of": {"vi": "Trùng với phản ánh {ref}", "en": "Duplicate of {ref}"},
})
i18n.RULES.update({
    "unknown_service": {"vi": "không phải service_code đang hoạt động", "en": "is not an active service_code"},
    "unknown_place": {"vi": "không phải mã phường/xã hoặc quận/huyện", "en": "is not a ward or district code"},
    "not_located": {"vi": "không xác định được vị trí", "en": "could not be located"},
    "single_value": {"vi": "chỉ nhận một giá trị", "en": "takes a single value"},
    "after_start": {"vi": "phải sau start_date", "en": "must be after start_date"},
    "max_span": {"vi": "vượt quá {days} ngày tính từ start_date", "en": "is more than {days} days after start_date"},
    "repeated": {"vi": "bị gửi nhiều lần", "en": "was sent more than once"},
})
