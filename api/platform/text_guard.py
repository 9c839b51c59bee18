"""Text PostgreSQL cannot store, refused at the door for every operation (bad-input policy).

A NUL character is valid JSON (``\\u0000``) and valid in a URL (``%00``), but PostgreSQL's text types
cannot hold it: before this check such input reached asyncpg and came back as a 500. Rather than
guard each field, three places every request passes through are checked, and only when the
cheap byte search finds something is the offending field named:

* the query string and the path (``%00``, or bytes that are not UTF-8),
* URL-encoded form bodies (Open311),
* JSON bodies, after the strict decode (``api.platform.body``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

from api.platform.problems import ProblemError

NUL_RULE = "nul_character"
# Deeper JSON than any operation needs; recursive code further on (validators, FHIR walkers, the NUL
# search below) would otherwise hit Python's recursion limit on a body nested 1,000 deep.
MAX_JSON_DEPTH = 64


def _bad(field: str, rule: str = NUL_RULE) -> ProblemError:
    return ProblemError(422, "validation_failed", errors=[(field, rule, {})])


def _check_pairs(raw: bytes, where: str) -> None:
    """Name the first parameter of ``raw`` (``a=1&b=%00``) holding a NUL or bytes that are not UTF-8."""
    for pair in raw.split(b"&"):
        key, _, value = pair.partition(b"=")
        key_bytes = unquote_to_bytes(key.replace(b"+", b" "))
        name = key_bytes.decode("utf-8", "replace").replace("\x00", "") or where
        for part, field in ((key_bytes, where), (unquote_to_bytes(value.replace(b"+", b" ")), name)):
            if b"\x00" in part:
                raise _bad(field)
            try:
                part.decode("utf-8")
            except UnicodeDecodeError:
                raise _bad(field, "utf8") from None


def check_query_and_path(scope: Any) -> None:
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or not query.isascii():
        _check_pairs(query, "query")
    path = scope.get("raw_path") or b""
    if b"%00" in path or "\x00" in scope.get("path", ""):
        raise _bad("path")


def check_form(body: bytes) -> None:
    if b"%00" in body or not body.isascii():
        _check_pairs(body, "body")


def first_nul(value: Any, path: str = "body") -> str | None:
    """The dotted path of the first string (or key) holding a NUL in a decoded JSON value."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items: Iterable[tuple[Any, Any]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = ((str(i), v) for i, v in enumerate(value))
    elif hasattr(value, "__struct_fields__"):
        items = ((f, getattr(value, f)) for f in value.__struct_fields__)
    else:
        return None
    for key, item in items:
        child = f"{key}" if path == "body" else f"{path}.{key}"
        if isinstance(key, str) and "\x00" in key:
            return child
        found = first_nul(item, child)
        if found is not None:
            return found
    return None


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a decoded JSON value nests deeper than ``limit`` (iterative: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any] = ()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list | tuple):
            children = item
        elif hasattr(item, "__struct_fields__"):
            children = (getattr(item, f) for f in item.__struct_fields__)
        for child in children:
            if isinstance(child, dict | list | tuple) or hasattr(child, "__struct_fields__"):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def decode_json(decode: Callable[[bytes], Any], raw: bytes) -> Any:
    """``decode(raw)`` with the two failures msgspec reports as Python errors (not ``DecodeError``) made
    4xx problems: a string that is not UTF-8 (``UnicodeDecodeError``) and nesting beyond its recursion
    limit (``RecursionError``); then the checks of :func:`check_json`."""
    try:
        value = decode(raw)
    except UnicodeDecodeError:
        raise _bad("body", "utf8") from None
    except RecursionError:
        raise _bad("body", "max_depth") from None
    check_json(raw, value)
    return value


def check_json(raw: bytes, value: Any) -> None:
    """Refuse a decoded JSON body nested too deep or holding a NUL character (naming the field)."""
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and too_deep(value):
        raise _bad("body", "max_depth")
    if b"\\u0000" in raw:
        field = first_nul(value)
        if field is not None:
            raise _bad(field)
