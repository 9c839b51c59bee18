"""Cursor pagination shared by every list: opaque cursor, capped limit, stable order."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Generic, NamedTuple, TypeVar

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


class Position(NamedTuple):
    """Where a page ordered by (timestamp, id) stopped: the last row's pair, so the next page starts
    strictly past it even when several rows share a timestamp."""

    at: datetime
    id: uuid.UUID


def decode_position(cursor: str | None) -> Position | None:
    """The ``Position`` in a cursor made by ``page_by``; a tampered cursor is ``InvalidInput``."""
    if not cursor:
        return None
    at, id_ = decode_cursor(cursor, 2)
    try:
        position = Position(datetime.fromisoformat(at), uuid.UUID(id_))
    except ValueError:
        raise InvalidInput(field="cursor", rule="cursor") from None
    if position.at.tzinfo is None:
        raise InvalidInput(field="cursor", rule="cursor")
    return position


def page_by(rows: list[T], limit: int, position: Callable[[T], Position]) -> Page[T]:
    """``rows`` were read with ``limit + 1``: the extra one only tells that a next page exists."""
    more = len(rows) > limit
    rows = rows[:limit]
    if not (more and rows):
        return Page(items=rows)
    at, id_ = position(rows[-1])
    return Page(items=rows, next_cursor=encode_cursor(at.isoformat(), str(id_)))


def decode_id_cursor(cursor: str | None) -> uuid.UUID | None:
    """The last id of the previous page (lists ordered by a UUIDv7 id), or None for the first page."""
    if not cursor:
        return None
    try:
        return uuid.UUID(decode_cursor(cursor, 1)[0])
    except ValueError:
        raise InvalidInput(field="cursor", rule="cursor") from None
