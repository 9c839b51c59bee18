"""Which path parameter a 404 from the router was really about.

Litestar matches ``{report_id:uuid}`` only against a well-formed UUID, so ``/feedback/reports/abc`` finds
no route and would answer ``route_not_found``, as if the address were wrong rather than the id. When a
path fits a route's shape but a UUID segment is not a UUID, the answer names that parameter instead.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute

_PARAM = re.compile(r"\{(\w+):(\w+)\}")
# Per app (tests build several): the routes with a UUID parameter, as (pattern, names of UUID parameters).
_SHAPES: dict[int, list[tuple[re.Pattern[str], list[str]]]] = {}


def _shapes(app: Litestar) -> list[tuple[re.Pattern[str], list[str]]]:
    found = _SHAPES.get(id(app))
    if found is None:
        found = []
        for route in app.routes:
            params = _PARAM.findall(route.path)
            uuids = [name for name, kind in params if kind == "uuid"]
            if isinstance(route, HTTPRoute) and uuids:
                pattern = _PARAM.sub(lambda m: f"(?P<{m.group(1)}>[^/]+)",
                                     re.escape(route.path).replace(r"\{", "{").replace(r"\}", "}"))
                found.append((re.compile(pattern + "$"), uuids))
        _SHAPES[id(app)] = found
    return found


def bad_uuid_parameter(app: Litestar, path: str) -> str | None:
    """The name of the UUID path parameter that ``path`` got wrong, if it otherwise fits a route."""
    for pattern, uuids in _shapes(app):
        match = pattern.match(path)
        if match is None:
            continue
        for name in uuids:
            if not _is_uuid(match.group(name)):
                return name
    return None


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
