"""The interactive OpenAPI viewer, served whole by the service: ``/schema`` works with the network cut.

Swagger UI's files come from the ``swagger-ui-py`` distribution on PyPI (pinned in uv.lock), not from a
CDN and not copied into this repository; the page and its one start-up script are ours. The page loads
only same-origin assets, so ``/schema`` runs under a Content-Security-Policy naming no other host
(``api.platform.observability.VIEWER_CSP``).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import msgspec
import yaml
from litestar import Request, Response, Router, get
from litestar.openapi.plugins import OpenAPIRenderPlugin, YamlRenderPlugin
from litestar.params import FromPath

from api.platform.problems import ProblemError

ASSETS = "/assets"
# The files the page references; nothing else in the distribution is reachable.
_FILES = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript",
          "swagger-ui-standalone-preset.js": "text/javascript", "favicon-32x32.png": "image/png"}
# Inline scripts are refused by the CSP: the viewer starts from this same-origin script instead.
_START = b"""window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({url: root.dataset.spec, dom_id: "#swagger-ui", deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout"});
});
"""


def _asset(name: str) -> bytes:
    return (resources.files("swagger_ui") / "static" / name).read_bytes()


class SwaggerViewer(OpenAPIRenderPlugin):
    """Swagger UI at ``/schema`` (and ``/schema/swagger``, the address older docs give)."""

    def __init__(self) -> None:
        super().__init__(path=["/", "/swagger"], favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        base = request.app.openapi_config.path if request.app.openapi_config else "/schema"
        title = openapi_schema["info"]["title"]
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" type="image/png" href="{base}{ASSETS}/favicon-32x32.png">
<link rel="stylesheet" href="{base}{ASSETS}/swagger-ui.css"></head>
<body><div id="swagger-ui" data-spec="{self.get_openapi_json_route(request)}"></div>
<script src="{base}{ASSETS}/swagger-ui-bundle.js"></script>
<script src="{base}{ASSETS}/swagger-ui-standalone-preset.js"></script>
<script src="{base}{ASSETS}/start.js"></script>
</body></html>
""".encode()

    def receive_router(self, router: Router) -> None:
        router.register(serve_asset)


class SafeYaml(YamlRenderPlugin):
    """``/schema/openapi.yaml``: Litestar's own dumps Python tuples as ``!!python/tuple`` tags, which no YAML
    reader but PyYAML's unsafe loader accepts; the JSON document's values are plain YAML."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        plain = msgspec.json.decode(self.render_json(request, openapi_schema))
        return yaml.safe_dump(plain, sort_keys=False, allow_unicode=True).encode()


@get(f"{ASSETS}/{{name:str}}", include_in_schema=False, sync_to_thread=False)
def serve_asset(name: FromPath[str]) -> Response[bytes]:
    """One viewer file; the distribution's version is in uv.lock, so a day's caching is safe."""
    if name == "start.js":
        body, media = _START, "text/javascript"
    elif name in _FILES:
        body, media = _asset(name), _FILES[name]
    else:
        raise ProblemError(404, "route_not_found")
    return Response(body, media_type=media, headers={"cache-control": "public, max-age=86400"})
