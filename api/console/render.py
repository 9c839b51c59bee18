"""Server-rendered HTML for the console: one Jinja environment, the page language, the page's headers.

``page(request, "feedback/queue.html", title_key, **values)`` renders a template inside ``base.html``
with what every page needs (``t`` for texts, ``lang``, ``csrf``, the navigation, the staff member).
Autoescaping is on for every template. Pages are ``no-store`` (they show personal data) and carry a
Content-Security-Policy that allows our own origin only (plus a tile server a city configured).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import MediaType, Request, Response
from litestar.connection import ASGIConnection

from api.console.session import CSRF_FIELD, SESSION_COOKIE, csrf_token
from api.console.texts import text
from domain.shared.time import HANOI

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
HTMX = "htmx-2.0.11.min.js"  # pinned, vendored: api/console/static/README.md
LANG_COOKIE = "console_lang"
LANGS = ("vi", "en")

ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)


def _local(value: dt.datetime | None, with_time: bool = True) -> str:
    """Times as Hanoi staff read them (dd/mm/yyyy HH:MM, Asia/Ho_Chi_Minh)."""
    if value is None:
        return ""
    return value.astimezone(HANOI).strftime("%d/%m/%Y %H:%M" if with_time else "%d/%m/%Y")


ENV.filters["local"] = _local


def language(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The console's language: the staff member's choice (cookie), else Vietnamese."""
    chosen = connection.cookies.get(LANG_COOKIE, "")
    return chosen if chosen in LANGS else "vi"


def tile_url(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return str(connection.app.state.container.settings.of("console_map_tile_url", str))


def _csp(tiles: str) -> str:
    img = "'self' data:"
    if tiles:
        parts = urlsplit(tiles)
        img += f" {parts.scheme}://{parts.netloc}"
    return (
        f"default-src 'self'; img-src {img}; style-src 'self'; script-src 'self'; form-action 'self'; "
        "base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
    )


def render(request: Request[Any, Any, Any], template: str, *, status: int = 200, **values: Any) -> Response[str]:
    """The template inside the layout; ``values`` become template variables."""
    from api.console.pages import nav_for  # the page list imports the page modules, which import this one

    lang = language(request)
    staff = request.scope.get("state", {}).get("console_principal")
    cookie = request.cookies.get(SESSION_COOKIE, "")
    tiles = tile_url(request)
    html = ENV.get_template(template).render(
        t=lambda key, **kw: text(key, lang, **kw),
        lang=lang,
        staff=staff,
        csrf=csrf_token(cookie) if cookie else "",
        csrf_field=CSRF_FIELD,
        nav=nav_for(staff) if staff is not None else [],
        path=request.url.path,
        query=request.url.query,
        htmx=HTMX,
        tiles=tiles,
        **values,
    )
    return Response(
        html,
        status_code=status,
        media_type=MediaType.HTML,
        headers={
            # Not the API's no-referrer: with it Chromium sends "Origin: null" on form posts, which the CSRF
            # guard must refuse; same-origin still tells no other site where staff came from.
            "Referrer-Policy": "same-origin",
            "Content-Language": lang,
            "Content-Security-Policy": _csp(tiles),
            "Cache-Control": "no-store",
            "Vary": "Cookie",
        },
    )
