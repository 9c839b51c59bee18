"""Strict JSON request bodies.

Litestar converts the decoded body to the handler's ``data`` type in msgspec's lax mode (it needs
that for query strings), which would silently turn ``"1"`` into ``1`` or ``"true"`` into ``True``.
The bad-input policy forbids coercion, so before Litestar parses anything the raw body is decoded
once more, strictly, against the same type; failures become the usual 400/422 problems. The
strict result is then what the handler receives, so the body is parsed once, not twice.
"""

from __future__ import annotations

import typing
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ClientException, ValidationException
from litestar.utils.scope.state import ScopeState

from api.platform.problems import ProblemError
from api.platform.text_guard import decode_json

Entry = tuple[msgspec.json.Decoder[Any], bool, Any] | None

# Keyed by handler identity: handlers live as long as their app, and building a decoder per request
# would cost more than the decode itself. The handler itself is kept in the value so that its id
# cannot be reused by another app's handler (tests build many apps in one process).
_DECODERS: dict[int, tuple[object, Entry]] = {}


def _decoder_for(request: Request[Any, Any, Any]) -> Entry:
    return strict_decoder(request.route_handler)


def strict_decoder(handler: Any) -> Entry:
    """(the strict decoder of the handler's ``data`` type, whether it is optional, the type), or None when the
    handler takes no body msgspec can decode (then Litestar parses it)."""
    cached = _DECODERS.get(id(handler))
    if cached is not None and cached[0] is handler:
        return cached[1]
    param = handler.parsed_fn_signature.parameters.get("data")
    entry: Entry = None
    if param is not None:
        try:
            entry = (msgspec.json.Decoder(param.annotation, strict=True), param.is_optional, param.annotation)
        except TypeError:  # a type msgspec cannot decode (DTOs, uploads): Litestar handles it
            entry = None
    _DECODERS[id(handler)] = (handler, entry)
    return entry


def _struct_type(annotation: Any) -> type[msgspec.Struct] | None:
    """The Struct a body annotation names (``X`` or ``X | None``), if it is one."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, msgspec.Struct):
            return candidate
    return None


def every_problem(annotation: Any, body: bytes) -> list[str]:
    """Second pass after a failed strict decode: msgspec stops at the first problem, clients want
    them all (four bad fields, four ``errors[]`` entries). Each field of the body's Struct is checked
    on its own, in msgspec's own words (so ``api.platform.problems`` maps them as usual); an empty list
    means this pass cannot say more (not an object, a Struct-level rule) and the first error stands."""
    struct = _struct_type(annotation)
    if struct is None:
        return []
    try:
        raw = msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return []
    if not isinstance(raw, dict):
        return []
    messages: list[str] = []
    fields = msgspec.structs.fields(struct)
    for f in fields:
        if f.encode_name not in raw:
            if f.required:
                messages.append(f"Object missing required field `{f.encode_name}`")
            continue
        try:
            msgspec.convert(raw[f.encode_name], f.type, strict=True)
        except msgspec.ValidationError as exc:
            # The message's path is relative to the field's value: re-anchor it at the body.
            text = str(exc)
            anchored = text.replace(" - at `$", f" - at `$.{f.encode_name}", 1)
            messages.append(anchored if anchored != text else f"{text} - at `$.{f.encode_name}`")
    if struct.__struct_config__.forbid_unknown_fields:
        known = {f.encode_name for f in fields}
        messages += [f"Object contains unknown field `{k}`" for k in raw if k not in known]
    return messages


async def check_json_body(request: Request[Any, Any, Any]) -> None:
    """Reject a JSON body that does not match the handler's type exactly (no coercion)."""
    entry = _decoder_for(request)
    if entry is None:
        return
    decoder, optional, annotation = entry
    body = await request.body()  # cached on the request: Litestar does not read the stream twice
    if not body.strip():
        if optional:
            return
        raise ProblemError(422, "validation_failed", errors=[("body", "required", {})])
    try:
        value = decode_json(decoder.decode, body)
    except msgspec.ValidationError as exc:
        messages = every_problem(annotation, body) or [str(exc)]
        raise ValidationException(extra=[{"message": m, "source": "body"} for m in messages]) from None
    except msgspec.DecodeError:
        raise ClientException("Malformed JSON body") from None
    # Hand the typed value to Litestar as the request's parsed JSON (kept in the scope's state, shared
    # by every Request of this scope): its lax conversion then passes the instance through instead of
    # decoding the body a second time.
    ScopeState.from_scope(request.scope).json = value
