"""Helpers for the Open311 tests: partner keys issued by a city admin, form posts, XML parsing."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.auth import login_city_admin

O311 = "/open311/v2"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# Inside Phường Lý Thái Tổ (Hoàn Kiếm), as tests.support.feedback.HOAN_KIEM.
LAT, LONG = "21.0287", "105.8545"


@dataclass
class PartnerKey:
    id: str
    api_key: str
    name: str


def issue_key(http: httpx.Client, database_url: str, name: str = "Báo Hà Nội Mới") -> PartnerKey:
    admin = login_city_admin(http, database_url)
    r = http.post("/api/v1/admin/open311-keys", headers=admin.headers, json={"name": name})
    assert r.status_code == 201, r.text
    return PartnerKey(r.json()["id"], r.json()["api_key"], name)


def revoke_key(http: httpx.Client, database_url: str, key: PartnerKey) -> None:
    admin = login_city_admin(http, database_url)
    assert http.delete(f"/api/v1/admin/open311-keys/{key.id}", headers=admin.headers).status_code == 204


def post_request(http: httpx.Client, key: PartnerKey | None, fmt: str = "json", *,
                 headers: dict[str, str] | None = None, **fields: Any) -> httpx.Response:
    body: dict[str, Any] = {"service_code": "SIDEWALK", "lat": LAT, "long": LONG,
                            "description": "Xe máy đỗ kín vỉa hè phố Hàng Khay", **fields}
    if key is not None:
        body.setdefault("api_key", key.api_key)
    body = {k: v for k, v in body.items() if v is not None}
    return http.post(f"{O311}/requests.{fmt}", data=body, headers={**FORM, **(headers or {})})


def created_id(http: httpx.Client, key: PartnerKey, **fields: Any) -> str:
    r = post_request(http, key, **fields)
    assert r.status_code == 200, r.text
    return str(r.json()[0]["service_request_id"])


def xml(response: httpx.Response) -> ET.Element:
    assert response.headers["content-type"].startswith("text/xml"), response.headers["content-type"]
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 - our own server's response, in a test


def open311_errors(response: httpx.Response, status: int) -> list[dict[str, Any]]:
    """The Open311 error list of a JSON or XML error response, checked against the spec's shape."""
    assert response.status_code == status, response.text
    if response.headers["content-type"].startswith("application/json"):
        body = response.json()
        assert isinstance(body, list)
        assert body
        for error in body:
            assert set(error) == {"code", "description"}
            assert error["code"] == str(status)
            assert isinstance(error["description"], str)
        return body  # type: ignore[no-any-return]
    root = xml(response)
    assert root.tag == "errors"
    errors = [{c.tag: c.text for c in e} for e in root]
    assert errors
    assert all(e.keys() == {"code", "description"} and e["code"] == str(status) for e in errors)
    return errors


def xml_as_documented(content: bytes, schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """An XML answer read back into the JSON shape of its documented OpenAPI schema (element names
    from the ``xml`` objects, values typed by the schema), to validate it with that same schema."""
    if not content.startswith(b'<?xml version="1.0" encoding="utf-8"?>'):
        raise ValueError("no XML declaration with utf-8")
    root = ET.fromstring(content)  # noqa: S314 - our own server's response, in a test
    top = components[schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in schema else schema
    if root.tag != top["xml"]["name"]:
        raise ValueError(f"root <{root.tag}>, documented <{top['xml']['name']}>")
    return _from_xml(root, schema, components)


def _from_xml(element: ET.Element, schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """An element read back into the JSON shape its documented schema describes (its ``xml`` names and
    types), so the XML answers are validated against the same schema as the JSON ones."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        schema = components[ref.rsplit("/", 1)[-1]]
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if "array" in types:
        item_schema = schema["items"]
        item_name = item_schema.get("xml", {}).get("name")
        for child in element:
            if child.tag != item_name:
                raise ValueError(f"<{element.tag}> holds <{child.tag}>, documented items are <{item_name}>")
        return [_from_xml(child, item_schema, components) for child in element]
    if "object" in types:
        props = schema.get("properties", {})
        return {child.tag: _from_xml(child, props.get(child.tag, {}), components) for child in element}
    text = element.text or ""
    if text == "" and "null" in types:
        return None  # empty values are empty elements
    if "boolean" in types and text in ("true", "false"):
        return text == "true"
    if "integer" in types and re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    if "number" in types and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?", text):
        return float(text)
    return text
