"""Small readers over FHIR JSON (plain dicts) used by the business checks and the extraction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time
from typing import Any

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
        for c in codings(concept):
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


def references(node: Any, path: str) -> Iterator[tuple[str, Json, str]]:
    """Every Reference with a literal ``reference`` under ``node``: (FHIRPath, the Reference, its value)."""
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str):
            yield path, node, ref
        for key, value in node.items():
            if key in ("reference", "contained"):
                continue
            if isinstance(value, (dict, list)):
                yield from references(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from references(value, f"{path}[{i}]")


def quantity(q: Any) -> tuple[float | None, str | None]:
    if not isinstance(q, dict):
        return None, None
    v = q.get("value")
    unit = q.get("unit") or q.get("code")
    return (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None,
            str(unit) if unit else None)
