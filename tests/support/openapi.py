"""Values from the app's OpenAPI document: a valid body for an operation (the sweeps attack one field
of an otherwise valid body, or check authorisation with a body that passes validation)."""

from __future__ import annotations

import uuid
from typing import Any


def resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    for key in ("oneOf", "anyOf"):
        if key in schema:  # the first non-null alternative is as good a valid value as any
            options = [s for s in schema[key] if resolve(s, components).get("type") != "null"]
            return resolve(options[0], components) if options else {"type": "null"}
    return schema


def valid(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> Any:
    """A value the schema accepts (for the fields not under attack), built from the document."""
    schema = resolve(schema, components)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    fmt = schema.get("format", "")
    if kind == "object" or "properties" in schema:
        if depth > 6:
            return {}
        return {name: valid(sub, components, depth + 1) for name, sub in schema.get("properties", {}).items()
                if name in schema.get("required", ())}
    if kind == "array":
        return [valid(schema["items"], components, depth + 1)] * schema.get("minItems", 0) if "items" in schema else []
    if kind == "integer":
        return int(max(schema.get("minimum", 1), 1))
    if kind == "number":
        return float(max(schema.get("minimum", 1), 1))
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    samples = {"uuid": str(uuid.uuid4()), "date": "2026-01-15", "date-time": "2026-01-15T08:00:00+07:00",
               "email": "a@example.com", "uri": "https://example.com/x"}
    return samples.get(fmt, "x" * max(schema.get("minLength", 1), 1))
