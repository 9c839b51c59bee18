"""The pure parts of the error mapping: msgspec messages -> (field, rule), status table, language."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pytest
from litestar.exceptions import ValidationException

from api.platform import i18n
from api.platform.problems import DOMAIN_STATUS, _validation_errors, parse_validation_message
from domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthenticated,
    Unavailable,
)


class Item(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(min_length=2, max_length=4, pattern="^[A-Z]+$")]
    size: Annotated[float, msgspec.Meta(gt=0, lt=10)] = 1.0


class Order(msgspec.Struct, forbid_unknown_fields=True):
    count: Annotated[int, msgspec.Meta(ge=1, le=5)]
    items: list[Item] = []
    day: str = ""


def msgspec_message(payload: dict[str, Any]) -> str:
    """The exact text msgspec produces, so the parser is tested against the real library."""
    with pytest.raises(msgspec.ValidationError) as err:
        msgspec.convert(payload, Order, strict=True)
    return str(err.value)


@pytest.mark.parametrize(("payload", "expected"), [
    ({}, ("count", "required", {})),
    ({"count": 1, "admin": True}, ("admin", "unknown_field", {})),
    ({"count": 0}, ("count", "minimum", {"limit": "1"})),
    ({"count": 6}, ("count", "maximum", {"limit": "5"})),
    ({"count": "2"}, ("count", "type", {"expected": "int"})),
    ({"count": 1, "items": [{"code": "A"}]}, ("items[0].code", "min_length", {"limit": "2"})),
    ({"count": 1, "items": [{"code": "ABCDE"}]}, ("items[0].code", "max_length", {"limit": "4"})),
    ({"count": 1, "items": [{"code": "ab"}]}, ("items[0].code", "pattern", {})),
    ({"count": 1, "items": [{"code": "AB", "size": 0}]}, ("items[0].size", "exclusive_minimum", {"limit": "0.0"})),
    ({"count": 1, "items": [{"code": "AB", "size": 10}]}, ("items[0].size", "exclusive_maximum", {"limit": "10.0"})),
    ({"count": 1, "items": [{"code": "AB", "x": 1}]}, ("items[0].x", "unknown_field", {})),
    ({"count": 1, "items": [{}]}, ("items[0].code", "required", {})),
])
def test_msgspec_messages_become_field_and_rule(payload: dict[str, Any], expected: tuple[str, str, dict[str, str]]
                                                ) -> None:
    assert parse_validation_message(msgspec_message(payload)) == expected


def test_unrecognised_message_falls_back_to_invalid_on_the_key() -> None:
    assert parse_validation_message("something new", key="limit") == ("limit", "invalid", {})
    assert parse_validation_message("something new") == ("body", "invalid", {})


def test_a_missing_required_parameter_names_the_parameter() -> None:
    # Litestar says so only in the detail, with no ``extra``: the field must not become "body".
    exc = ValidationException("Missing required query parameter 'from' for path /api/v1/feedback/stats")
    assert _validation_errors(exc) == [("from", "required", {})]
    assert _validation_errors(ValidationException("something else")) == [("body", "invalid", {})]


def test_format_errors_name_the_expected_format() -> None:
    assert parse_validation_message("Invalid RFC3339 encoded date - at `$.day`") == ("day", "format",
                                                                                      {"expected": "date"})
    assert parse_validation_message("Invalid UUID - at `$.id`") == ("id", "format", {"expected": "UUID"})


@pytest.mark.parametrize(("error", "status"), [
    (NotFound(), 404), (InvalidInput(field="x", rule="invalid"), 422), (Conflict(), 409), (Forbidden(), 403),
    (Unauthenticated(), 401), (RateLimited(retry_after=3), 429), (Unavailable(), 503), (DomainError(), 400),
])
def test_each_domain_error_class_has_one_status(error: DomainError, status: int) -> None:
    assert next(s for cls, s in DOMAIN_STATUS if isinstance(error, cls)) == status


def test_subclasses_of_a_domain_error_inherit_its_status() -> None:
    class ReportNotFound(NotFound):
        code = "feedback.report_not_found"

    assert next(s for cls, s in DOMAIN_STATUS if isinstance(ReportNotFound(), cls)) == 404


@pytest.mark.parametrize(("header", "lang"), [
    (None, "vi"), ("", "vi"), ("en", "en"), ("en-US,en;q=0.9", "en"), ("vi-VN,vi;q=0.9,en;q=0.8", "vi"),
    ("fr-FR,en;q=0.5", "en"), ("fr", "vi"), ("en;q=0.3,vi;q=0.7", "vi"), ("en;q=0,vi", "vi"), ("*", "vi"),
])
def test_language_follows_accept_language_with_vi_default(header: str | None, lang: str) -> None:
    assert i18n.language(header) == lang


def test_messages_fill_parameters_and_fall_back_to_the_status_text() -> None:
    assert i18n.message("rate_limited", "en", 429, {"retry_after": 7}) == "Too many requests; retry in 7 seconds"
    assert i18n.message("some.unregistered_code", "vi", 404) == "Không tìm thấy"
    # A template whose parameter is missing is shown as is rather than failing the error response.
    assert i18n.message("rate_limited", "en", 429) == "Too many requests; retry in {retry_after} seconds"
    assert i18n.rule_message("name", "max_length", "en", {"limit": 5}) == "Field 'name' is too long (at most 5)"
