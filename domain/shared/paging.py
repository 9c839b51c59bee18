"""Cursor pagination shared by every list: opaque cursor, capped limit, stable order."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Generic, TypeVar

import msgspec

from domain.errors import InvalidInput

T = TypeVar("T")

MAX_LIMIT = 100


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(*parts: str) -> str:
    raw = "\x1f".join(parts).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, n_parts: int) -> list[str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput(field="cursor", rule="cursor") from None
    parts = raw.split("\x1f")
    if len(parts) != n_parts:
        raise InvalidInput(field="cursor", rule="cursor")
    return parts


def decode_id_cursor(cursor: str) -> uuid.UUID:
    """A cursor holding one id (the last item seen); anything else is the client's fault (422)."""
    try:
        return uuid.UUID(decode_cursor(cursor, 1)[0])
    except ValueError:
        raise InvalidInput(field="cursor", rule="cursor") from None
