"""``Idempotency-Key`` for a creating POST whose write is a payment intent: the key's row is sent in
the intent's own statement, so the purchase makes one round trip fewer than with
``api.platform.idempotency.idempotent`` (quality.md: a write a phone retries makes at most four).

The handler builds its answer from the intent's draft (``CreatePaymentIntent.draft``), hands it to
``Fold.row`` and puts that row on the intents adapter (``PgPaymentIntents.rider``); the adapter
inserts it only if the intent it adds is new, i.e. only when that answer is the right one. Every
other case — no or invalid key, an order that already had an intent, a key already taken, a
failure — goes through ``idempotent`` itself, with the same fingerprint, so replays, the 422 on a
reused key and the in-flight wait behave exactly as on every other creating POST.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Request, Response

from adapters.postgres.idempotency import PendingKey
from adapters.postgres.uow import PgUnitOfWork
from api.platform.idempotency import HEADER, KEPT_HEADERS, fingerprint_of, idempotent, valid_key


class Fold:
    """The request's key, to be stored by the handler's write (``row``)."""

    def __init__(self, principal: str, key: str, fingerprint: str) -> None:
        self.principal = principal
        self.key = key
        self.fingerprint = fingerprint
        self.pending: PendingKey | None = None

    def row(self, status: int, content: Any, headers: dict[str, str] | None = None) -> PendingKey:
        """The row of the answer ``Response(content, status_code=status, headers=headers)``, as
        ``idempotent`` would store it."""
        kept = {k: v for k, v in (headers or {}).items() if k.lower() in KEPT_HEADERS}
        self.pending = PendingKey(self.principal, self.key, self.fingerprint, status,
                                  msgspec.json.encode(content), kept)
        return self.pending


async def idempotent_folded(request: Request[Any, Any, Any], uow: PgUnitOfWork, principal: str,
                            create: Callable[[Fold | None], Awaitable[Response[Any]]]) -> Response[Any]:
    """``idempotent(request, uow, principal, ...)`` whose ``create`` may store the key in its own write."""
    key = request.headers.get(HEADER)
    if key is None or not valid_key(key):
        return await idempotent(request, uow, principal, lambda: create(None))  # none, or the 400
    fingerprint = await fingerprint_of(request)  # as ``idempotent`` computes it: a retry may take either path
    fold = Fold(principal, key, fingerprint)
    try:
        response = await create(fold)
    except Exception as exc:
        failure = exc

        async def fail() -> Response[Any]:
            raise failure
        return await idempotent(request, uow, principal, fail)  # replays the first answer if stored
    pending = fold.pending
    if pending is not None and pending.stored:
        status = response.status_code or request.route_handler.status_code or 200
        if (pending.status, pending.body) != (status, msgspec.json.encode(response.content)):
            raise RuntimeError("the stored idempotent answer is not the response")  # a handler bug
        return Response(pending.body, status_code=status, media_type="application/json",
                        headers=dict(response.headers))

    async def answer() -> Response[Any]:
        return response
    # Not stored by the write (the order had an intent already, or the key is taken): the usual path.
    return await idempotent(request, uow, principal, answer)
