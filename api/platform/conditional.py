"""Conditional GET (RFC 9110 §8.8.3, §13.1.2): a strong ``ETag`` of a response's exact bytes, and whether the
request's ``If-None-Match`` already names it (then the answer is a body-less 304)."""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Request


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def not_modified(request: Request[Any, Any, Any], etag: str) -> bool:
    """``If-None-Match`` compares weakly: ``W/"x"`` matches ``"x"``; ``*`` matches any current representation."""
    sent = request.headers.get("if-none-match")
    if not sent:
        return False
    if sent.strip() == "*":
        return True
    return etag in (t.strip().removeprefix("W/") for t in sent.split(","))
