"""Strict JSON request bodies.

Litestar converts the decoded body to the handler's ``data`` type in msgspec's lax mode (it needs
that for query strings), which would silently turn ``"1"`` into ``1`` or ``"true"`` into ``True``.
The bad-input policy forbids coercion, so before Litestar parses anything the raw body is decoded
once more, strictly, against the same type; failures become the usual 400/422 problems. The
strict result is then what the handler receives, so the body is parsed once, not twice.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ClientException, ValidationException
from litestar.utils.scope.state import ScopeState

from api.platform.problems import ProblemError
from api.platform.text_guard import decode_json

Entry = tuple[msgspec.json.Decoder[Any], bool] | None

# Keyed by handler identity: handlers live as long as their app, and building a decoder per request
# would cost more than the decode itself. The handler itself is kept in the value so that its id
# cannot be reused by another app's handler (tests build many apps in one process).
_DECODERS: dict[int, tuple[object, Entry]] = {}


def _decoder_for(request: Request[Any, Any, Any]) -> Entry:
    handler = request.route_handler
    cached = _DECODERS.get(id(handler))
    if cached is not None and cached[0] is handler:
        return cached[1]
    param = handler.parsed_fn_signature.parameters.get("data")
    entry: Entry = None
    if param is not None:
        try:
            entry = (msgspec.json.Decoder(param.annotation, strict=True), param.is_optional)
        except TypeError:  # a type msgspec cannot decode (DTOs, uploads): Litestar handles it
            entry = None
    _DECODERS[id(handler)] = (handler, entry)
    return entry


async def check_json_body(request: Request[Any, Any, Any]) -> None:
    """Reject a JSON body that does not match the handler's type exactly (no coercion)."""
    entry = _decoder_for(request)
    if entry is None:
        return
    decoder, optional = entry
    body = await request.body()  # cached on the request: Litestar does not read the stream twice
    if not body.strip():
        if optional:
            return
        raise ProblemError(422, "validation_failed", errors=[("body", "required", {})])
    try:
        value = decode_json(decoder.decode, body)
    except msgspec.ValidationError as exc:
        raise ValidationException(extra=[{"message": str(exc), "source": "body"}]) from None
    except msgspec.DecodeError:
        raise ClientException("Malformed JSON body") from None
    # Hand the typed value to Litestar as the request's parsed JSON (kept in the scope's state, shared
    # by every Request of this scope): its lax conversion then passes the instance through instead of
    # decoding the body a second time.
    ScopeState.from_scope(request.scope).json = value
