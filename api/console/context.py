"""The staff console's registration: server-rendered pages under ``/console`` for city staff.

Not a bounded context of its own: one more client of the contexts' use cases (like the REST API),
registered in ``api.platform.registry.CONTEXTS`` because it contributes fixed-path routes and a
setting. Pages are listed in ``api.console.pages.PAGES``.
"""

from __future__ import annotations

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.static_files import create_static_files_router

from api.console.errors import console_exception
from api.console.login import ConsoleLoginController
from api.console.pages import PAGES
from api.console.render import STATIC
from api.console.session import COOKIE_PATH, csrf_guard, provide_console_user, session_guard
from api.platform.context import Context
from api.platform.settings import Spec


def _url(value: str) -> str:
    value = value.strip()
    if value and not value.startswith("https://") and not value.startswith("http://"):
        raise ValueError("CONSOLE_MAP_TILE_URL must be an http(s) URL with {z}/{x}/{y}")
    if value and not all(part in value for part in ("{z}", "{x}", "{y}")):
        raise ValueError("CONSOLE_MAP_TILE_URL must contain {z}, {x} and {y}")
    return value


def console_router() -> Router:
    # Versioned file names (htmx-2.0.11.min.js): a year of caching is safe, a new version is a new name.
    static = create_static_files_router(
        path="/static",
        directories=[STATIC],
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=31_536_000, public=True),
    )
    pages = Router(
        path="/",
        route_handlers=PAGES,
        guards=[session_guard, csrf_guard],
        dependencies={"staff": Provide(provide_console_user, sync_to_thread=False)},
    )
    return Router(
        path=COOKIE_PATH,
        route_handlers=[ConsoleLoginController, static, pages],
        exception_handlers={Exception: console_exception},
        include_in_schema=False,
    )


CONSOLE = Context(
    name="console",
    root=[console_router()],
    settings={
        "console_map_tile_url": Spec(
            "CONSOLE_MAP_TILE_URL",
            _url,
            "",
            "Staff console: an OpenStreetMap-style tile server (https://tiles.example.vn/{z}/{x}/{y}.png) for the "
            "small map on a report's page. Empty (default): no map, only the coordinates and a link; the pages "
            "then load nothing from outside the service.",
        ),
    },
)
