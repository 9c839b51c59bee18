"""Foundation behaviour over real HTTP: health, problem+json on every error path, headers."""

from __future__ import annotations

import httpx


def test_live_and_ready(http: httpx.Client) -> None:
    assert http.get("/health/live").json() == {"status": "ok"}
    ready = http.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["database"] == "up"


def test_unknown_route_is_problem_json(http: httpx.Client) -> None:
    r = http.get("/api/v1/no-such-thing")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 404
    assert body["code"] == "route_not_found"
    assert body["detail"] == "Không có đường dẫn này"


def test_english_by_accept_language(http: httpx.Client) -> None:
    r = http.get("/nope", headers={"Accept-Language": "en-US,en;q=0.9,vi;q=0.5"})
    assert r.json()["detail"] == "No such route"
    assert r.headers["content-language"] == "en"


def test_method_not_allowed(http: httpx.Client) -> None:
    r = http.delete("/health/live")
    assert r.status_code == 405
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "method_not_allowed"


def test_request_id_echoed_or_generated(http: httpx.Client) -> None:
    r = http.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    generated = http.get("/health/live", headers={"X-Request-ID": "bad id with spaces"}).headers["x-request-id"]
    assert generated != "bad id with spaces"
    assert len(generated) == 32


def test_security_headers(http: httpx.Client) -> None:
    r = http.get("/health/live")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_cors_allow_list(http: httpx.Client) -> None:
    allowed = http.options("/health/live", headers={"Origin": "https://app.thudo.example",
                                                     "Access-Control-Request-Method": "GET"})
    assert allowed.headers.get("access-control-allow-origin") == "https://app.thudo.example"
    denied = http.get("/health/live", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in denied.headers


def test_metrics_count_requests_by_route(http: httpx.Client) -> None:
    http.get("/health/live")
    text = http.get("/metrics").text
    assert 'thudo_http_requests_total{method="GET",route="/health/live",status="200"}' in text


def test_openapi_schema_served(http: httpx.Client) -> None:
    schema = http.get("/schema/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    assert "/health/ready" in schema["paths"]
