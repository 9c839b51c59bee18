"""Open311 discovery, services and service definitions in JSON and XML, and the error format."""

from __future__ import annotations

import httpx
import pytest

from tests.support.open311 import O311, issue_key, open311_errors, revoke_key, xml

SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
ATTRIBUTE_FIELDS = {"variable", "code", "datatype", "required", "datatype_description", "order", "description",
                    "values"}


def test_discovery_names_the_spec_and_both_formats(http: httpx.Client) -> None:
    body = http.get(f"{O311}/discovery.json").json()
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(body)
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert endpoint["type"] in ("production", "test")
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert "+07:00" in endpoint["changeset"]

    root = xml(http.get(f"{O311}/discovery.xml"))
    assert root.tag == "discovery"
    assert root.findtext("endpoints/endpoint/specification") == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]


def test_services_list_categories_with_types_in_json_and_xml(http: httpx.Client) -> None:
    r = http.get(f"{O311}/services.json")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    services = {s["service_code"]: s for s in r.json()}
    assert {"SIDEWALK", "ROAD_DAMAGE", "NOISE"} <= set(services)
    for s in services.values():
        assert set(s) == SERVICE_FIELDS
        assert isinstance(s["service_code"], str)
        assert isinstance(s["metadata"], bool)
        assert s["type"] == "realtime"
        assert isinstance(s["keywords"], str)
    assert services["ROAD_DAMAGE"]["metadata"] is True  # has an extra question
    assert services["SIDEWALK"]["metadata"] is False
    assert services["SIDEWALK"]["service_name"] == "Lấn chiếm vỉa hè, lòng đường"  # vi by default
    assert services["SIDEWALK"]["group"] == "public_order"

    english = {s["service_code"]: s for s in http.get(f"{O311}/services.json",
                                                      headers={"Accept-Language": "en"}).json()}
    assert english["SIDEWALK"]["service_name"] == "Sidewalk or roadway encroachment"
    by_param = http.get(f"{O311}/services.json", params={"locale": "en"}).json()
    assert {s["service_name"] for s in by_param} == {s["service_name"] for s in english.values()}

    root = xml(http.get(f"{O311}/services.xml"))
    assert root.tag == "services"
    rows = {s.findtext("service_code"): s for s in root.findall("service")}
    assert set(rows) == set(services)
    assert {c.tag for c in rows["SIDEWALK"]} == SERVICE_FIELDS
    assert rows["ROAD_DAMAGE"].findtext("metadata") == "true"
    assert rows["SIDEWALK"].findtext("metadata") == "false"


def test_service_definition_from_category_questions(http: httpx.Client) -> None:
    body = http.get(f"{O311}/services/ROAD_DAMAGE.json").json()
    assert body["service_code"] == "ROAD_DAMAGE"
    (size,) = body["attributes"]
    assert set(size) == ATTRIBUTE_FIELDS
    assert size["variable"] is True
    assert size["code"] == "size"
    assert size["datatype"] == "singlevaluelist"
    assert size["required"] is True
    assert size["order"] == 1
    assert isinstance(size["datatype_description"], str)
    assert [v["key"] for v in size["values"]] == ["small", "medium", "large"]
    assert all(set(v) == {"key", "name"} for v in size["values"])

    english = http.get(f"{O311}/services/NOISE.json", params={"locale": "en"}).json()
    noise = {a["code"]: a for a in english["attributes"]}
    assert noise["observed_at"]["datatype"] == "datetime"
    assert noise["observed_at"]["values"] == []
    assert noise["sources"]["datatype"] == "multivaluelist"
    assert noise["sources"]["order"] == 2
    assert noise["sources"]["description"] == "Sources"
    flooding = http.get(f"{O311}/services/FLOODING.json").json()["attributes"][0]
    assert flooding["datatype"] == "number"

    root = xml(http.get(f"{O311}/services/ROAD_DAMAGE.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "ROAD_DAMAGE"
    attribute = root.find("attributes/attribute")
    assert attribute is not None
    assert {c.tag for c in attribute} == ATTRIBUTE_FIELDS
    assert attribute.findtext("variable") == "true"
    assert attribute.findtext("order") == "1"
    assert [v.findtext("key") for v in attribute.findall("values/value")] == ["small", "medium", "large"]
    assert xml(http.get(f"{O311}/services/SIDEWALK.xml")).find("attributes") is not None


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_errors_use_the_open311_format(http: httpx.Client, fmt: str) -> None:
    open311_errors(http.get(f"{O311}/services/NO_SUCH.{fmt}"), 404)
    open311_errors(http.get(f"{O311}/requests/PA-1999-000001.{fmt}"), 404)
    open311_errors(http.get(f"{O311}/tokens/nope.{fmt}"), 404)
    open311_errors(http.get(f"{O311}/nothing-here.{fmt}"), 404)
    open311_errors(http.get(f"{O311}/services.{fmt}", params={"jurisdiction_id": "example.org"}), 404)
    assert http.get(f"{O311}/services.{fmt}", params={"jurisdiction_id": "hanoi.gov.vn"}).status_code == 200
    open311_errors(http.get(f"{O311}/requests.{fmt}", params={"api_key": "o311_wrong"}), 403)
    open311_errors(http.get(f"{O311}/requests.{fmt}", params={"page_size": "5000"}), 400)


def test_unsupported_formats_are_400_and_answer_in_xml(http: httpx.Client) -> None:
    for path in ("services.csv", "discovery.html", "requests.yaml", "services/SIDEWALK.csv", "tokens/abc.txt",
                 "requests/PA-2026-000001.pdf", "servicerequestupdates.rss", "services"):
        errors = open311_errors(http.get(f"{O311}/{path}"), 400)
        assert "json" in errors[0]["description"]
    open311_errors(http.post(f"{O311}/requests.csv", data={"service_code": "SIDEWALK"}), 400)


def test_revoked_and_unknown_keys_are_403_on_reads(http: httpx.Client, database_url: str) -> None:
    key = issue_key(http, database_url)
    assert http.get(f"{O311}/requests.json", params={"api_key": key.api_key}).status_code == 200
    revoke_key(http, database_url, key)
    errors = open311_errors(http.get(f"{O311}/requests.xml", params={"api_key": key.api_key}), 403)
    assert key.api_key not in errors[0]["description"]
    open311_errors(http.get(f"{O311}/servicerequestupdates.json", params={"api_key": ""}), 403)
