"""The floor: a bare Litestar + asyncpg app running one indexed query, nothing else.

Our endpoints are judged against it (reads ≥ 70 %, writes ≥ 50 % of its throughput), so it must stay
bare: no middleware, no auth, no logging, no unit of work — only what any Litestar + asyncpg
endpoint pays for (routing, one pooled query on a unique index, msgspec serialisation). It is
served exactly like the real service (``python -m bench.floor_app`` → granian, one worker, ASGI),
or under uvicorn for the server comparison in ``bench.servers``.

    DATABASE_URL=postgresql://… python -m bench.floor_app --port 8100 [--server uvicorn]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import secrets
import uuid
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody

from adapters.dev.judicial_standins import StandInPopulation
from adapters.postgres import idempotency
from adapters.postgres.feedback.queries import PgFeedbackQueries
from adapters.postgres.judicial.authorities import load_default_schedule
from adapters.postgres.judicial.repositories import PgRequests
from adapters.postgres.pool import create_pool as create_service_pool
from adapters.postgres.transit.gates import PgTaps
from adapters.postgres.uow import PgUnitOfWork
from adapters.signing.pii import AesPiiProtector, load_or_create_master_key
from api.feedback.common import page
from api.judicial.schemas import DraftIn, request_out, to_domain
from api.judicial.wiring import build_judicial
from api.platform.settings import load_settings
from api.transit.schemas import TapBatchIn
from bench import samework
from domain.feedback.model import ReportSummary
from domain.identity.principal import Principal, PrincipalKind
from domain.judicial import deadlines
from domain.judicial.fees import DEFAULT_SCHEDULE, PricingInput, price
from domain.judicial.model import ActorKind, QueueItem, Status, Step
from domain.judicial.ports import QueueFilter
from domain.judicial.submission import check_rules, hanoi_resident
from domain.judicial.usecases.citizen import DraftInput, StartDraft
from domain.judicial.usecases.common import Deps
from domain.notifications.model import Notification
from domain.shared.ids import new_id
from domain.shared.paging import Page
from domain.shared.time import HANOI, SystemClock
from domain.transit.codes import Direction, Network
from domain.transit.denylist import DenyKind
from domain.transit.model import Medium, Tap
from domain.transit.usecases.gates import LIVE_REASONS
from domain.transit.validation import Policy

# `units.code` carries a unique index (migrations/0001_foundation.sql); D002 is seeded by `thudo seed`.
UNIT_QUERY = "SELECT id, code, name_vi FROM units WHERE code = $1"
FLOOR_PATH = "/units/D002"
FLOOR_TX_PATH = "/units-in-transaction/D002"
MY_REPORTS_QUERY_PATH = "/reports-of/{reporter_id}?limit=20"
JUDICIAL_QUEUE_QUERY_PATH = "/judicial-queue-of/{unit_id}?limit=20"
JUDICIAL_SUBMIT_SQL_PATH = "/judicial-submit-sql"
JUDICIAL_DRAFT_SQL_PATH = "/judicial-draft-sql"
PLAIN_PATH = "/plain"
TRANSIT_VALIDATE_SQL_PATH = "/transit-validate-sql"
TRANSIT_TAPS_SQL_PATH = "/transit-taps-sql"
POOL_MAX = 10  # the service's DB_POOL_MAX default, so both sides get the same number of connections


class Unit(msgspec.Struct):
    id: str
    code: str
    name_vi: str


@get("/units/{code:str}")
async def unit(code: FromPath[str], state: State) -> Unit:
    async with state.pool.acquire() as conn:
        row = await conn.fetchrow(UNIT_QUERY, code)
    if row is None:
        raise NotFoundException()
    return Unit(id=str(row["id"]), code=row["code"], name_vi=row["name_vi"])


@get("/units-in-transaction/{code:str}")
async def unit_in_transaction(code: FromPath[str], state: State) -> Unit:
    """Reference, not the floor: the same query inside BEGIN … COMMIT, as the service's unit of work does."""
    async with state.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(UNIT_QUERY, code)
    if row is None:
        raise NotFoundException()
    return Unit(id=str(row["id"]), code=row["code"], name_vi=row["name_vi"])


@get("/reports-of/{reporter_id:uuid}")
async def reports_of(reporter_id: FromPath[uuid.UUID], state: State, limit: FromQuery[int] = 20) -> Page[ReportSummary]:
    """Reference, not the floor: exactly the query and page of ``GET /api/v1/feedback/reports`` (the
    service's adapter and paging), without auth, middleware, unit of work or logging. The gap between it
    and the service is our per-request overhead; the gap between it and the floor is the query's own."""
    async with state.pool.acquire() as conn:
        rows = await PgFeedbackQueries(conn).my_reports(reporter_id, datetime.now(UTC), None, limit + 1)
    return page(rows, limit)


def _pii(state: State) -> AesPiiProtector:
    """The service's PII protector (its ``DATA_DIR`` key), for the judicial references."""
    if state.get("pii") is None:
        keys = Path(state.get("data_dir") or os.environ["DATA_DIR"]) / "keys"
        state.pii = AesPiiProtector(load_or_create_master_key("", keys, allow_generate=True))
    return state.pii  # type: ignore[no-any-return]


@get("/judicial-queue-of/{unit_id:uuid}")
async def judicial_queue_of(unit_id: FromPath[uuid.UUID], state: State,
                            limit: FromQuery[int] = 20) -> Page[QueueItem]:
    """Reference, not the floor: exactly the SQL and rows of ``GET /api/v1/staff/judicial/requests``
    (the service's adapter: one query without a transaction, as the service's read-only unit of work
    runs it, applicants' id numbers decrypted, the same JSON shape), without auth, session check,
    middleware or logging. On a pool built like the service's
    (JSON codecs, no reset query on release), because the adapter needs the codecs. Needs the
    service's ``DATA_DIR`` (its PII key)."""
    pii = _pii(state)
    now = datetime.now(UTC)
    async with state.service_pool.acquire() as conn:
        # The read model the endpoint returns (``queue_items``: its SELECT, rows decoded into ``QueueItem``).
        return await PgRequests(conn, pii).queue_items(QueueFilter(authority_unit_ids=frozenset({unit_id})), now,
                                                       None, limit)


@post(JUDICIAL_SUBMIT_SQL_PATH + "/{requester_id:uuid}/{request_id:uuid}", status_code=200)
async def judicial_submit_sql(requester_id: FromPath[uuid.UUID], request_id: FromPath[uuid.UUID],
                              state: State) -> dict[str, object]:
    """Reference, not the floor: exactly the SQL of ``POST /api/v1/judicial/requests/{id}/submit`` (the
    service's adapters: the draft ``FOR UPDATE``, then the update, its step and the notification's
    inbox + push rows in one statement, in BEGIN … COMMIT), the same domain rules (the residence check,
    pricing, the authority in force, the working-day deadline) and the same JSON, without auth,
    middleware, session check or logging. Nothing is owed on the bench's drafts (city support), so
    no payment intent, as in the service."""
    pii, now = _pii(state), datetime.now(UTC)
    async with state.service_pool.acquire() as conn, conn.transaction():
        if state.get("judicial") is None:
            state.judicial = (await load_default_schedule(conn),
                              build_judicial(load_settings({}), state.service_pool).calendar)
        authorities, calendar = state.judicial
        requests = PgRequests(conn, pii)
        draft = await requests.get(request_id, for_update=True)
        if draft is None or draft.requester_id != requester_id:
            raise NotFoundException()
        check_rules(draft, now.astimezone(HANOI).date())
        fee = price(DEFAULT_SCHEDULE, PricingInput(
            submitted_at=now, category=draft.fee_category, copies=draft.copies, delivery=draft.delivery,
            online=draft.online, level=draft.requester_level, hanoi_resident=hanoi_resident(draft.applicant)))
        authority = authorities.on(now)
        kind, reasons = deadlines.classify(draft)
        done = msgspec.structs.replace(
            draft, status=Status.SUBMITTED, fee=fee, authority_unit_id=authority.unit_id,
            authority_code=authority.code, deadline_kind=kind, deadline_reasons=reasons,
            due_at=deadlines.due_at(calendar, now, kind), submitted_at=now, updated_at=now, version=draft.version + 1)
        step = Step(id=new_id(), request_id=done.id, from_status=draft.status, to_status=done.status,
                    actor_kind=ActorKind.CITIZEN, actor_id=requester_id, at=now,
                    data={"amount_due": fee.amount_due, "authority": authority.code})
        await requests.save(done, step, Notification(
            user_id=requester_id, category="judicial", template="judicial.submitted", object_type="judicial_request",
            object_id=str(done.id), params={"ref": done.ref}, legally_required=True,
            idempotency_key=f"judicial.submitted:{done.id}:{done.version}"))
    return request_out(done, now)


@post(JUDICIAL_DRAFT_SQL_PATH + "/{requester_id:uuid}", status_code=201)
async def judicial_draft_sql(request: Request[Any, Any, Any], requester_id: FromPath[uuid.UUID],
                             data: JSONBody[DraftIn], state: State) -> Response[bytes]:
    """Reference, not the floor: exactly the SQL of ``POST /api/v1/judicial/requests`` with an
    ``Idempotency-Key`` (BEGIN, the population stand-in's pre-fill, request + first step + the key's
    row in one statement, COMMIT), the same use case (``StartDraft``: pre-fill, the citizen's fields
    merged, the answer built before the insert with a blank for the reference) and the same JSON,
    without auth, session check, middleware or logging. BEGIN carries a trivial ``SELECT 1`` where
    the service's carries the session check."""
    pii, now = _pii(state), datetime.now(UTC)
    async with PgUnitOfWork(state.service_pool, begin_check="SELECT 1") as uow:
        unused: Any = None  # ports StartDraft does not use
        requests = PgRequests(uow.conn, pii)
        deps = Deps(requests=requests, certificates=unused, status_lists=unused,
                    share_codes=unused, verifications=unused, cross_check=unused,
                    population=StandInPopulation(uow.conn, pii), signer=unused, renderer=unused, blobs=unused,
                    notifier=unused, clock=SystemClock(), calendar=unused, authorities=unused)
        me = Principal(kind=PrincipalKind.USER, id=requester_id, level=2)
        start, cmd = StartDraft(deps), to_domain(data, DraftInput)
        draft, step = await start.draft(me, cmd)
        headers = {"Location": f"/api/v1/judicial/requests/{draft.id}"}
        canonical = msgspec.json.encode(msgspec.json.decode(await request.body()), order="sorted")  # as the service
        fingerprint = hashlib.sha256(b"POST " + request.url.path.encode() + b"\n" + canonical).hexdigest()
        blank = f"blank-{secrets.token_hex(16)}"
        requests.rider = pending = idempotency.PendingKey(
            f"user:{requester_id}", request.headers["idempotency-key"], fingerprint, 201,
            msgspec.json.encode(request_out(msgspec.structs.replace(draft, ref=blank), now)), headers, blank=blank)
        r = await start.execute(me, cmd, (draft, step))
        if not pending.stored:
            raise NotFoundException()  # the bench sends a fresh key per request
        body = msgspec.json.encode(request_out(r, now))
        await uow.commit()
    return Response(body, status_code=201, media_type="application/json", headers=headers)


class TransitValidateSql(msgspec.Struct, kw_only=True):
    """What ``POST /api/v1/transit/validator/validate`` knows once the code is decoded and verified."""

    tap_id: uuid.UUID
    validator_id: uuid.UUID
    pass_id: uuid.UUID
    device_subject: bytes
    timestamp: int
    counter: int
    direction: Direction
    network: int
    route: int
    stop: str


@post(TRANSIT_VALIDATE_SQL_PATH, status_code=200)
async def transit_validate_sql(data: JSONBody[TransitValidateSql], state: State) -> dict[str, bool]:
    """Reference, not the floor: exactly the SQL of an online validation of a dynamic code (the service's
    adapter: the live-state read and the tap insert in one statement, ``PgTaps.add_checked``; no BEGIN …
    COMMIT, as the service sends none for a change of one statement) without auth, code decoding,
    signature verification, middleware or logging."""
    now = datetime.now(UTC)
    since = now - timedelta(seconds=Policy().passback_s) if data.direction is Direction.IN else None
    async with state.pool.acquire() as conn:
        live, _ = await PgTaps(conn).add_checked(
            Tap(id=data.tap_id, validator_id=data.validator_id, medium=Medium.PASS, subject_id=data.pass_id,
                direction=data.direction, network=Network(data.network), route=data.route, stop=data.stop,
                occurred_at=now, code_timestamp=data.timestamp, counter=data.counter, accepted=True, reason=None),
            [(int(DenyKind.PASS), data.pass_id.bytes), (int(DenyKind.DEVICE), data.device_subject)],
            int(now.timestamp()), since, LIVE_REASONS)
    return {"accepted": not (live.denied or live.code_seen or live.last_direction is Direction.IN)}


@post(TRANSIT_TAPS_SQL_PATH + "/{validator_id:uuid}", status_code=200)
async def transit_taps_sql(validator_id: FromPath[uuid.UUID], data: JSONBody[TapBatchIn],
                           state: State) -> dict[str, int]:
    """Reference, not the floor: the same JSON batch decoded into the same structs, then exactly the
    insert of ``POST /api/v1/transit/validator/taps`` (the service's adapter, one statement for the
    1,000 rows) in BEGIN … COMMIT, without auth, idempotency row, middleware or logging."""
    rows = [Tap(id=t.id, validator_id=validator_id, medium=Medium(t.medium), subject_id=t.subject_id,
                direction=t.direction, network=Network(t.network), route=t.route, stop=t.stop,
                occurred_at=t.occurred_at, code_timestamp=t.code_timestamp, counter=t.counter, accepted=t.accepted,
                reason=t.reason.value if t.reason else None) for t in data.taps]
    async with state.pool.acquire() as conn, conn.transaction():
        inserted = await PgTaps(conn).add_batch(rows)
    return {"received": len(rows), "inserted": inserted}


@get("/same-work/{name:str}")
async def same_work(name: FromPath[str], state: State) -> list[Any]:
    """Reference, not the floor: exactly the statements one request of scenario ``name`` sent, as
    captured from the real endpoint by ``bench/samework.py`` (same transaction boundaries, new ids for
    what the request created), on a pool built like the service's (its JSON codecs, no reset query);
    answers the rows. Needs the service's ``DATA_DIR`` (where the capture is saved)."""
    replayers = state.get("replayers")
    if replayers is None:
        replayers = state.replayers = {}
    if name not in replayers:
        replayers[name] = samework.load(Path(state.get("data_dir") or os.environ["DATA_DIR"]), name)
    async with state.service_pool.acquire() as conn:
        return await replayers[name].run(conn)


@get(PLAIN_PATH)
async def plain() -> dict[str, str]:
    """No database at all: what the server + framework alone cost (used by the server comparison)."""
    return {"status": "ok"}


def create_app(dsn: str | None = None, data_dir: str | None = None, *, freeze_heap: bool = False) -> Litestar:
    """``freeze_heap``: as the service's workers do (api.platform.app.freeze_startup_heap), move what start-up
    built out of the garbage collector's reach once the pools are open. Without it the floor's worker
    (~120,000 tracked objects: Litestar plus the adapters its same-work and reference routes use; a full
    collection of them took 81 ms in-process at load 6.5) spent
    125-226 ms in each full collection at load 6, ten of them in one bench.stalls run — stalls of the
    reference that the service, frozen, does not have (docs/performance.md, "The my-reports stall")."""
    dsn = dsn or os.environ["DATABASE_URL"]

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        app.state.pool = await asyncpg.create_pool(dsn, min_size=2, max_size=POOL_MAX)
        app.state.data_dir = data_dir
        app.state.service_pool = await create_service_pool(dsn, min_size=2, max_size=POOL_MAX)
        if freeze_heap:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            await app.state.pool.close()
            await app.state.service_pool.close()

    handlers = [unit, unit_in_transaction, reports_of, judicial_queue_of, judicial_submit_sql,
                judicial_draft_sql, transit_validate_sql,
                transit_taps_sql, same_work, plain]
    return Litestar(route_handlers=handlers, lifespan=[lifespan], debug=False)


def server_app() -> Litestar:
    """The served floor (granian/uvicorn factory): its start-up heap frozen like the service's."""
    return create_app(freeze_heap=True)


def serve(server: str, host: str, port: int) -> None:
    if server == "uvicorn":
        import uvicorn

        uvicorn.run("bench.floor_app:server_app", factory=True, host=host, port=port, workers=1,
                    log_level="warning", access_log=False, backlog=2048)
        return
    from granian.constants import Interfaces
    from granian.server import Server

    # Same arguments as `thudo serve` (api/platform/cli.py) so the floor is served the way the service is.
    Server("bench.floor_app:server_app", address=host, port=port, interface=Interfaces.ASGI, workers=1,
           factory=True, log_access=False, backlog=2048).serve()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", choices=("granian", "uvicorn"), default="granian")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args(argv)
    serve(args.server, args.host, args.port)


if __name__ == "__main__":
    main()
