"""The platform endpoints document themselves in the served OpenAPI, including readiness's 503."""

from __future__ import annotations

import httpx


def test_platform_operations_are_documented(http: httpx.Client) -> None:
    paths = http.get("/schema/openapi.json").json()["paths"]
    for path, operation_id in (("/health/live", "healthLive"), ("/health/ready", "healthReady"),
                               ("/metrics", "metrics")):
        op = paths[path]["get"]
        assert op["operationId"] == operation_id
        assert op["summary"]
        assert op["tags"] == ["platform"]
    assert "503" in paths["/health/ready"]["get"]["responses"]
