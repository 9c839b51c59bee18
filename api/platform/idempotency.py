"""``Idempotency-Key`` for creating POSTs: a retry returns the first response, never a second record.

The handler's change runs first; then the key is inserted with the response, in the *same
transaction*, so both commit or neither does (one statement: no separate claim and update).

* The key is new: stored, committed with the change.
* The key was used by a committed request: the insert finds it taken; this request's change is
  rolled back and the first response is replayed (a different body with the same key: 422).
* The key is being used by a request still in flight: the insert waits on the unique index until
  that transaction ends, then goes on as one of the two cases above.
* The change fails (e.g. "already rated" because the first attempt succeeded): if the key was
  stored, the first response is replayed; otherwise the failure is the answer and nothing is kept.

Storage lives in ``adapters.postgres.idempotency``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response

from adapters.postgres import idempotency as idempotency_keys
from adapters.postgres.idempotency import StoredResponse
from adapters.postgres.uow import PgUnitOfWork
from api.platform.problems import ProblemError

HEADER = "idempotency-key"
REPLAYED = "Idempotent-Replayed"
# Response headers that are part of the answer and must come back on a replay.
KEPT_HEADERS = ("location", "content-location", "etag")


def _canonical(body: bytes) -> bytes:
    """The request as a value, not bytes: a retry that a client library re-encoded with another key order or
    whitespace is the same request. Bodies that are not JSON (forms, uploads) compare as bytes."""
    if body[:1] not in (b"{", b"["):
        return body
    try:
        return msgspec.json.encode(msgspec.json.decode(body), order="sorted")
    except (msgspec.DecodeError, msgspec.EncodeError):
        return body


def valid_key(key: str) -> bool:
    return 1 <= len(key) <= 200 and key.isprintable() and key.isascii()


async def fingerprint_of(request: Request[Any, Any, Any]) -> str:
    """What a retry must repeat: method, path and the body as a value. One definition for every path that
    stores a key (``idempotent`` and the payments' folded row), since a retry may take either."""
    return hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"\n" + _canonical(await request.body())
    ).hexdigest()


async def idempotent(request: Request[Any, Any, Any], uow: PgUnitOfWork, principal: str,
                     create: Callable[[], Awaitable[Response[Any]]]) -> Response[Any]:
    """Run ``create`` at most once per (principal, Idempotency-Key)."""
    key = request.headers.get(HEADER)
    if key is None:
        return await create()
    if not valid_key(key):
        raise ProblemError(400, "idempotency.key_invalid")
    fingerprint = await fingerprint_of(request)
    try:
        response = await create()
    except Exception:
        earlier = await _earlier(uow, principal, key)
        if earlier is None:
            raise
        return _replay(earlier, fingerprint)
    encoded = msgspec.json.encode(response.content)
    kept = {k: v for k, v in response.headers.items() if k.lower() in KEPT_HEADERS}
    status = response.status_code or request.route_handler.status_code or 200
    if await idempotency_keys.store(uow.conn, principal, key, fingerprint, status, encoded, kept):
        return Response(encoded, status_code=status, media_type="application/json",
                        headers=dict(response.headers))
    earlier = await _earlier(uow, principal, key)
    if earlier is None:  # only if the purge removed the key in between: our change was discarded, retry
        raise ProblemError(409, "idempotency.retry")
    return _replay(earlier, fingerprint)


async def _earlier(uow: PgUnitOfWork, principal: str, key: str) -> StoredResponse | None:
    """The response stored for the key, after discarding this request's own change."""
    await uow.rollback()
    try:
        return await idempotency_keys.find(uow.conn, principal, key)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        return None  # the database is unreachable: the original failure is the better answer


def _replay(earlier: StoredResponse, fingerprint: str) -> Response[Any]:
    if earlier.fingerprint != fingerprint:
        raise ProblemError(422, "idempotency.key_reused")
    return Response(earlier.body, status_code=earlier.status, media_type="application/json",
                    headers={**earlier.headers, REPLAYED: "true"})
