"""``/schema`` works with the network cut: the page and every asset it references come from the service,
under a Content-Security-Policy that names no other host."""

from __future__ import annotations

import re

import httpx


def _referenced(page: str) -> list[str]:
    return re.findall(r'(?:src|href|data-spec)="([^"]+)"', page)


def test_viewer_and_all_its_assets_are_served_by_the_service(http: httpx.Client) -> None:
    for path in ("/schema", "/schema/swagger"):
        r = http.get(path)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        csp = r.headers["content-security-policy"]
        assert "http" not in csp  # no third-party host: only 'self' (and data: images)
        assert "script-src" not in csp or "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        assert "<script>" not in r.text  # no inline script: the CSP would refuse it
        refs = _referenced(r.text)
        assert len(refs) >= 5, refs
        for ref in refs:
            assert ref.startswith("/schema/"), ref  # same origin, nothing from a CDN
            asset = http.get(ref)
            assert asset.status_code == 200, ref
            assert asset.content, ref
    assert b"SwaggerUIBundle" in http.get("/schema/assets/swagger-ui-bundle.js").content


def test_only_the_viewer_files_are_reachable(http: httpx.Client) -> None:
    assert http.get("/schema/assets/core.py").status_code == 404
    assert http.get("/schema/assets/..%2F__init__.py").status_code == 404
