"""The platform endpoints document themselves in the served OpenAPI, including readiness's 503."""

from __future__ import annotations

from typing import Any

import httpx
import yaml


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


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()
            if method in ("get", "post", "put", "patch", "delete")]


def test_every_success_answer_has_a_schema_and_creations_say_where(http: httpx.Client) -> None:
    doc = http.get("/schema/openapi.json").json()
    empty = []
    for path, method, op in _operations(doc):
        for status, response in op["responses"].items():
            if status.startswith("2") and status != "204":
                contents = response.get("content") or {"": {}}
                empty += [(method, path, status) for media in contents.values() if not media.get("schema")]
            if status == "201":
                assert "Location" in response.get("headers", {}), (method, path)
    assert empty == []


def test_idempotent_posts_declare_the_header_and_others_do_not(http: httpx.Client) -> None:
    paths = http.get("/schema/openapi.json").json()["paths"]

    def declares(path: str) -> bool:
        return any(p["name"] == "Idempotency-Key" and p["in"] == "header"
                   for p in paths[path]["post"].get("parameters", []))

    for path in ("/api/v1/feedback/reports", "/api/v1/me/devices", "/api/v1/me/consents",
                 "/api/v1/feedback/reports/{report_id}/rating", "/api/v1/transit/purchases",
                 "/api/v1/staff/feedback/reports/{report_id}/transfer"):  # the last through a shared helper
        assert declares(path), path
    # Marking the inbox read does not go through the idempotency store: no header to promise.
    assert not declares("/api/v1/me/inbox/read-all")


def test_yaml_document_is_served_and_stand_ins_are_not_in_it(http: httpx.Client) -> None:
    r = http.get("/schema/openapi.yaml")
    assert r.status_code == 200
    as_yaml = yaml.safe_load(r.text)
    assert as_yaml["paths"].keys() == http.get("/schema/openapi.json").json()["paths"].keys()
    # The stand-ins are mounted in this test app (the login tests use them) but are not part of the contract.
    assert http.get("/dev/vneid/.well-known/openid-configuration").status_code == 200
    assert not [p for p in as_yaml["paths"] if p.startswith("/dev")]
