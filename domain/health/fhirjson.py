"""Small readers over FHIR JSON (plain dicts) used by the business checks and the extraction."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any

import msgspec

from domain.shared.time import HANOI

Json = dict[str, Any]


def parse_datetime(value: Any) -> datetime | None:
    """A FHIR date/dateTime/instant as an aware datetime; partial dates start at Hanoi midnight."""
    if not isinstance(value, str) or not value:
        return None
    try:
        if "T" in value:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        parts = [int(p) for p in value.split("-")]
    except ValueError:
        return None
    while len(parts) < 3:
        parts.append(1)
    try:
        return datetime.combine(datetime(parts[0], parts[1], parts[2]).date(), time(), HANOI)
    except ValueError:
        return None


def codings(concept: Any) -> list[Json]:
    if not isinstance(concept, dict):
        return []
    return [c for c in concept.get("coding", []) if isinstance(c, dict)]


def concept_text(concept: Any) -> str | None:
    if not isinstance(concept, dict):
        return None
    text = concept.get("text")
    if isinstance(text, str) and text:
        return text
    for c in codings(concept):
        if c.get("display"):
            return str(c["display"])
    for c in codings(concept):
        if c.get("code"):
            return str(c["code"])
    return None


def tokens(concepts: list[Any]) -> tuple[str, ...]:
    """Search tokens of codeable concepts: "system|code" and the bare "code" for each coding."""
    out: list[str] = []
    for concept in concepts:
        if not isinstance(concept, dict):
            continue
        for c in concept.get("coding", ()):  # codings(concept), inlined: ~40 concepts a bundle
            if isinstance(c, dict):
                code = c.get("code")
                if isinstance(code, str):
                    system = c.get("system")
                    if isinstance(system, str):
                        out.append(f"{system}|{code}")
                    out.append(code)
    return tuple(dict.fromkeys(out))


def first_coding(concept: Any, system: str | None = None) -> Json | None:
    for c in codings(concept):
        if system is None or c.get("system") == system:
            return c
    return None


def status_code(concept: Any) -> str | None:
    c = first_coding(concept)
    return str(c["code"]) if c and isinstance(c.get("code"), str) else None


_BODY_ENCODER = msgspec.json.Encoder(order="sorted")
# A Reference's literal reference in compact JSON. Inside a JSON string every quote is escaped, so
# this sequence only ever matches a real "reference" member.
_REFERENCE = re.compile(rb'"reference":"((?:[^"\\]|\\.)*)"')
_SKIP = ("resourceType", "id", "meta")


def encode_body(resource: Json) -> bytes:
    """A resource without resourceType/id/meta as compact JSON with sorted keys (stable across resends)."""
    return _BODY_ENCODER.encode({k: v for k, v in resource.items() if k not in _SKIP})


_MEMBER = b'"reference":"'


def referenced(body: bytes) -> list[str]:
    """The literal references in an encoded body (values without escapes, as fullUrls are).

    What ``_REFERENCE.findall`` finds, by ``bytes.find`` (most bodies hold two or three references, and
    a regular expression scanning every byte of every body was the larger cost).
    """
    found: list[str] = []
    at = body.find(_MEMBER)
    while at != -1:
        start = end = at + len(_MEMBER)
        while True:
            end = body.find(b'"', end)
            if end == -1:
                return found  # not JSON; cannot happen for msgspec output
            slashes = 0
            while body[end - 1 - slashes] == 0x5C:  # backslashes before the quote: odd means escaped
                slashes += 1
            if slashes % 2 == 0:
                break
            end += 1
        found.append(body[start:end].decode())
        at = body.find(_MEMBER, end + 1)
    return found


def rewrite_references(body: bytes, mapping: dict[str, str], found: tuple[str, ...] | None = None) -> bytes:
    """Replace each literal reference found in ``mapping`` by its new value (in encoded JSON).

    ``found``: ``referenced(body)`` when the caller has it already. A whole ``"reference":"…"`` member
    only occurs where the regular expression matches (quotes inside strings are escaped), so plain
    byte replacement of each found member is the same rewrite without a Python call per match.
    """
    for value in dict.fromkeys(referenced(body) if found is None else found):
        new = mapping.get(value)
        if new is not None:
            body = body.replace(b'"reference":"' + value.encode() + b'"', b'"reference":"' + new.encode() + b'"')
    return body


def references(node: Any) -> list[Json]:
    """Every Reference (a dict with a string ``reference``) under ``node``, in document order.

    Iterative and path-free because it runs over every element of every ingested resource; the
    FHIRPath of one (for an error) comes from ``path_of``.
    """
    found: list[Json] = []
    stack: list[Any] = [node]
    while stack:
        current = stack.pop()
        if type(current) is dict:
            if type(current.get("reference")) is str:
                found.append(current)
            for key, value in current.items():
                if type(value) in (dict, list) and key != "contained":
                    stack.append(value)
        else:
            stack.extend(v for v in reversed(current) if type(v) in (dict, list))
    return found


def path_of(node: Any, target: Any, path: str) -> str | None:
    """The FHIRPath of ``target`` (by identity) inside ``node``."""
    if node is target:
        return path
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                found = path_of(value, target, f"{path}.{key}")
                if found:
                    return found
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found = path_of(value, target, f"{path}[{i}]")
            if found:
                return found
    return None


def quantity(q: Any) -> tuple[float | None, str | None]:
    if not isinstance(q, dict):
        return None, None
    v = q.get("value")
    unit = q.get("unit") or q.get("code")
    return (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None,
            str(unit) if unit else None)
