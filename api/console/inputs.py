"""Reading the query strings of the console's filter forms: an HTML form sends an empty field as "",
which means "not set"; anything else malformed is a 422 naming the field, like the API's."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from api.platform import i18n
from domain.errors import InvalidInput


def parse_date(params: Any, name: str) -> dt.date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("console.bad_date", field=name, rule="date") from None


def uuid_or_none(value: Any) -> uuid.UUID | None:
    """A UUID from a form or query field; empty or malformed is None (the caller says whether that is allowed)."""
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def bad_choice(field: str) -> InvalidInput:
    return InvalidInput("console.bad_choice", field=field, rule="one_of")


i18n.register(
    {
        "console.bad_date": {"vi": "Ngày không hợp lệ (yyyy-mm-dd)", "en": "Invalid date (yyyy-mm-dd)"},
        "console.bad_choice": {"vi": "Giá trị không hợp lệ", "en": "Invalid value"},
    }
)
