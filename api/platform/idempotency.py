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

``idempotent_folded`` (below) is the same with one round trip fewer: the handler builds its answer
before its write and the key's row is sent in that write's own statement (quality.md: a write a phone
retries makes at most four). Used by the pass purchase and the judicial draft.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response

from adapters.postgres import idempotency as idempotency_keys
from adapters.postgres.idempotency import PendingKey, StoredResponse
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


# -- the key's row in the handler's own write ----------------------------------------------------
#
# The handler builds its answer before its write, hands it to ``Fold.row`` and puts that row on the
# adapter that writes (``PgPaymentIntents.rider``, ``PgRequests.rider``); the adapter inserts it in the
# same statement, only when that answer is the right one (the intent is new, the request inserted).
# Every other case — no or invalid key, an order that already had an intent, a key already taken, a
# failure — goes through ``idempotent`` itself, with the same fingerprint, so replays, the 422 on a
# reused key and the in-flight wait behave exactly as on every other creating POST.


class Fold:
    """The request's key, to be stored by the handler's write (``row``)."""

    def __init__(self, principal: str, key: str, fingerprint: str) -> None:
        self.principal = principal
        self.key = key
        self.fingerprint = fingerprint
        self.pending: PendingKey | None = None

    @staticmethod
    def blank() -> str:
        """A token to put in the answer where a value the write draws goes (``PendingKey.blank``): random,
        so that no request value can contain it."""
        return f"blank-{secrets.token_hex(16)}"

    def row(self, status: int, content: Any, headers: dict[str, str] | None = None, *,
            blank: str = "") -> PendingKey:
        """The row of the answer ``Response(content, status_code=status, headers=headers)``, as
        ``idempotent`` would store it (with ``blank`` still in it, if given)."""
        kept = {k: v for k, v in (headers or {}).items() if k.lower() in KEPT_HEADERS}
        self.pending = PendingKey(self.principal, self.key, self.fingerprint, status,
                                  msgspec.json.encode(content), kept, blank=blank)
        return self.pending

    def response(self, headers: dict[str, str] | None = None) -> Response[bytes]:
        """The stored row's answer as the handler's response (once the write stored it, its blank filled):
        a handler that returns this builds and encodes its answer once, for the row and the response."""
        if self.pending is None or not self.pending.stored:
            raise RuntimeError("the answer of a row the write did not store")
        return Response(self.pending.body, status_code=self.pending.status, media_type="application/json",
                        headers=headers)


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
        # ``Fold.response`` is the row's body itself; an answer built again must encode to the same bytes.
        if pending.status != status or (response.content is not pending.body
                                        and pending.body != msgspec.json.encode(response.content)):
            raise RuntimeError("the stored idempotent answer is not the response")  # a handler bug
        return Response(pending.body, status_code=status, media_type="application/json",
                        headers=dict(response.headers))

    async def answer() -> Response[Any]:
        return response
    # Not stored by the write (the order had an intent already, or the key is taken): the usual path.
    return await idempotent(request, uow, principal, answer)
