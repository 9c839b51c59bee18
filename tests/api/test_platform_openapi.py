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


def test_errors_and_closed_bodies_are_documented(http: httpx.Client) -> None:
    doc = http.get("/schema/openapi.json").json()
    op = doc["paths"]["/api/v1/me/devices"]["post"]
    for status in ("400", "401", "403", "409", "413", "415", "422", "503"):
        assert op["responses"][status]["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}, status
    assert "429" not in op["responses"]
    assert "429" in doc["paths"]["/api/v1/auth/refresh"]["post"]["responses"]
    assert "401" not in doc["paths"]["/api/v1/public/feedback/categories"]["get"]["responses"]
    assert doc["components"]["schemas"]["DeviceIn"]["additionalProperties"] is False
    # A nested input Struct (a category's questions) is closed too.
    assert doc["components"]["schemas"]["QuestionIn"]["additionalProperties"] is False


def test_options_lists_every_method_of_a_path_split_across_controllers(http: httpx.Client) -> None:
    # GET /api/v1/me and PATCH /api/v1/me live in different handlers; Litestar's own OPTIONS
    # answer listed only the first one's methods.
    r = http.options("/api/v1/me")
    assert r.status_code == 204
    assert r.headers["allow"] == "GET, OPTIONS, PATCH"
    r = http.options("/api/v1/me/devices/0192f7a0-0000-7000-8000-000000000000")
    assert r.headers["allow"] == "DELETE, OPTIONS, PATCH, PUT"
