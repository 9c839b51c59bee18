"""Open311 wire formats: JSON and XML bodies (XML is the format GeoReport v2 requires), dates with
their offset, and errors as ``[{code, description}]`` / ``<errors><error>``.

Errors reuse the app's one exception table (``api.platform.problems.handle_exception``) and only change the
envelope and the status policy of the spec: 403 for a bad api_key, 404 for unknown objects,
400 for every other client error.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any, Literal

import msgspec
from litestar import Request, Response

from api.platform.problems import Problem, ProblemError, handle_exception
from domain.errors import InvalidInput
from domain.shared.time import HANOI

Fmt = Literal["json", "xml"]
# Litestar appends "; charset=utf-8" to text/* types itself (once); JSON is UTF-8 by definition (RFC 8259).
MEDIA: dict[str, str] = {"json": "application/json; charset=utf-8", "xml": "text/xml"}
# Element names of list items in XML (JSON keeps plain arrays).
_ITEMS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value",
          "notes": "note"}
# Characters XML 1.0 cannot carry at all (escaping does not help); citizens' text may contain them.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# The domain's field names → the names partners send.
_FIELDS = {"lon": "long", "category_id": "service_code", "ward_id": "address_id", "address": "address_string"}


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with the Hanoi offset (+07:00), as the spec requires a zone on every datetime."""
    return value.astimezone(HANOI).isoformat(timespec="seconds") if value is not None else None


def split_name(name: str) -> tuple[str, Fmt]:
    """``"services.xml"`` → (``"services"``, ``"xml"``); any other format is a 400."""
    stem, dot, fmt = name.rpartition(".")
    if not dot or not stem:
        raise ProblemError(400, "open311.format_required")
    if fmt not in MEDIA:
        raise ProblemError(400, "open311.bad_format", format=fmt[:20])
    return stem, fmt  # type: ignore[return-value]


def fmt_of(path: str) -> Fmt:
    # Errors answer in JSON only when JSON was asked for; XML is the spec's default format.
    return "json" if path.endswith(".json") else "xml"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_INVALID.sub("", str(value))


def _fill(parent: ET.Element, key: str, value: Any) -> None:
    element = ET.SubElement(parent, key)
    if value is None:
        return
    if isinstance(value, list | tuple):
        for item in value:
            _fill(element, _ITEMS.get(key, "item"), item)
    elif isinstance(value, dict):
        for k, v in value.items():
            _fill(element, k, v)
    else:
        element.text = _text(value)


def to_xml(root: str, item: str, data: list[dict[str, Any]] | dict[str, Any]) -> bytes:
    top = ET.Element(root)
    if isinstance(data, list):
        for entry in data:
            _fill(top, item, entry)
    else:
        for key, value in data.items():
            _fill(top, key, value)
    body: bytes = ET.tostring(top, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def render(fmt: Fmt, data: list[dict[str, Any]] | dict[str, Any], root: str, item: str = "", *,
           status: int = 200, headers: dict[str, str] | None = None) -> Response[bytes]:
    body = msgspec.json.encode(data) if fmt == "json" else to_xml(root, item, data)
    return Response(body, status_code=status, media_type=MEDIA[fmt], headers=headers or {})


def error_response(fmt: Fmt, status: int, descriptions: list[str], *,
                   headers: dict[str, str] | None = None) -> Response[bytes]:
    # Codes are strings in JSON (the HTTP status, as Open311 servers commonly do).
    errors = [{"code": str(status), "description": d} for d in descriptions]
    return render(fmt, errors, "errors", "error", status=status, headers=headers)


def _open311_status(status: int) -> int:
    if status == 401:
        return 403  # a missing or bad api_key
    if status in (403, 404, 413, 429) or status >= 500:
        return status
    return 400


def handle_open311_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """Router-level exception handler for everything under /open311/v2."""
    if isinstance(exc, InvalidInput) and exc.field:
        field = exc.field
        exc.field = (f"attribute[{field.removeprefix('answers.')}]" if field.startswith("answers.")
                     else _FIELDS.get(field, field))
    problem_response = handle_exception(request, exc)
    problem = problem_response.content
    assert isinstance(problem, Problem)
    lines = [f"{problem.detail} ({problem.code})"] if not problem.errors else [
        f"{problem.detail} ({problem.code}): {e.message}" for e in problem.errors]
    keep = {k: v for k, v in problem_response.headers.items() if k.lower() in ("retry-after", "content-language")}
    return error_response(fmt_of(request.url.path), _open311_status(problem.status), lines, headers=keep)
