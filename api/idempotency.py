"""``Idempotency-Key`` for creating POSTs: a retry returns the first response, never a second record.

The key row is inserted in the *same transaction* as the business change and holds the response,
so both commit or neither does. Two racing requests with one key: the second INSERT waits on the
first one's row lock; after the first commits it sees the row and replays its response, after a
rollback it proceeds as the first. Storage lives in ``adapters.postgres.idempotency``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Request, Response

from adapters.postgres import idempotency as idempotency_keys
from adapters.postgres.uow import PgUnitOfWork
from api.problems import ProblemError

HEADER = "idempotency-key"
REPLAYED = "Idempotent-Replayed"
# Response headers that are part of the answer and must come back on a replay.
KEPT_HEADERS = ("location", "content-location", "etag")


def _valid_key(key: str) -> bool:
    return 1 <= len(key) <= 200 and key.isprintable() and key.isascii()


async def idempotent(request: Request[Any, Any, Any], uow: PgUnitOfWork, principal: str,
                     create: Callable[[], Awaitable[Response[Any]]]) -> Response[Any]:
    """Run ``create`` at most once per (principal, Idempotency-Key)."""
    key = request.headers.get(HEADER)
    if key is None:
        return await create()
    if not _valid_key(key):
        raise ProblemError(400, "idempotency.key_invalid")
    body = await request.body()
    fingerprint = hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"\n" + body).hexdigest()
    earlier = await idempotency_keys.claim(uow.conn, principal, key, fingerprint)
    if earlier is not None:
        if earlier.fingerprint != fingerprint:
            raise ProblemError(422, "idempotency.key_reused")
        return Response(earlier.body, status_code=earlier.status, media_type="application/json",
                        headers={**earlier.headers, REPLAYED: "true"})
    response = await create()
    encoded = msgspec.json.encode(response.content)
    kept = {k: v for k, v in response.headers.items() if k.lower() in KEPT_HEADERS}
    await idempotency_keys.store(uow.conn, principal, key, response.status_code, encoded, kept)
    return Response(encoded, status_code=response.status_code, media_type="application/json",
                    headers=dict(response.headers))
