"""What the HTTP bench measures: one ``Scenario`` per endpoint, pluggable (see bench/README.md).

A scenario says which request to send and how to get ready for it: ``setup(ctx)`` runs once, right
before the scenario is measured, against the running service (``ctx.base_url``) and its database
(``ctx.database_url``), and returns the request headers — typically a bearer token obtained through
the local VNeID stand-in. It may return several header sets (e.g. one per citizen, to stay under
per-citizen rate limits); requests rotate through them.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import msgspec

from bench import citizen_data, console_setup, judicial_setup, setup_feedback
from bench.floor_app import FLOOR_PATH, FLOOR_TX_PATH, JUDICIAL_QUEUE_QUERY_PATH, MY_REPORTS_QUERY_PATH

Headers = Mapping[str, str] | Sequence[Mapping[str, str]]
Setup = Callable[["BenchContext"], Headers | Awaitable[Headers]]

# The old targets (reads ≥ 70 % of the floor, writes ≥ 50 %), still used by bench.inproc's columns;
# bench.run judges by quality.md's same-work ratio and, for single-object reads, floor_target.
TARGET_RATIO = {"read": 0.70, "write": 0.50}
SINGLE_OBJECT_READ = 0.70
P99_BUDGET_MS = {"read": 50.0, "write": 100.0}


@dataclass
class BenchContext:
    base_url: str  # the running service, e.g. http://127.0.0.1:43211
    database_url: str  # its (dedicated, seeded) bench database
    data_dir: Path  # the service's DATA_DIR (dev signing keys, blobs)
    values: dict[str, Any] = field(default_factory=dict)  # setup() may store ids here for ``path``


@dataclass(frozen=True)
class RequestSpec:
    """A ready-to-send request shape, shared by the wrk script and the open-loop generator."""

    method: str
    path: str
    headers: tuple[dict[str, str], ...]  # rotated per request; at least one (maybe empty)
    bodies: tuple[bytes, ...] = ()  # rotated per request; empty: no body
    idempotency_keys: bool = False  # a fresh Idempotency-Key on every request
    # Per-request paths, paired with ``headers`` (same length, same rotation): a citizen's own ids.
    paths: tuple[str, ...] = ()

    def path_at(self, i: int) -> str:
        """The path of request ``i`` (the one that goes with ``headers[i % len(headers)]``)."""
        return self.paths[i % len(self.paths)] if self.paths else self.path


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: Literal["read", "write"]
    method: str
    path: str  # may name ``ctx.values`` entries: "/api/v1/feedback/reports/{report_id}"
    # (or entries of ``ctx.values["each"]``: one dict per header set that setup returned, for paths that
    # differ per citizen, e.g. "/api/v1/transit/passes/{pass_id}/credential")
    body: Callable[[int], Any] | None = None  # i → JSON-able body; called for i in range(body_variants)
    setup: Setup | None = None
    idempotent: bool | None = None  # send a unique Idempotency-Key; default: for POST
    body_variants: int = 64
    note: str = ""
    explains: str = ""  # references only: the scenario whose same work this is (runs only with it)
    floor_target: float | None = None  # single-object reads (quality.md): ≥ 0.70 of the one-row floor
    same_work: bool = True  # capture its statements and measure the bare app running them (bench/samework.py)

    @property
    def target_ratio(self) -> float:
        return TARGET_RATIO[self.kind]

    @property
    def p99_budget_ms(self) -> float:
        return P99_BUDGET_MS[self.kind]

    def prepare(self, ctx: BenchContext) -> RequestSpec:
        """Run ``setup`` (outside any event loop, so sync helpers may use ``asyncio.run``)."""
        headers: Headers = {}
        if self.setup is not None:
            got = self.setup(ctx)
            headers = asyncio.run(got) if inspect.iscoroutine(got) else got  # type: ignore[arg-type]
        sets = (headers,) if isinstance(headers, Mapping) else tuple(headers)
        bodies = tuple(msgspec.json.encode(self.body(i)) for i in range(self.body_variants)) if self.body else ()
        if bodies:
            sets = tuple({"Content-Type": "application/json", **h} for h in sets)
        idem = self.method == "POST" if self.idempotent is None else self.idempotent
        each = ctx.values.pop("each", None)
        if each is None:
            return RequestSpec(self.method, self.path.format_map(ctx.values), tuple(dict(h) for h in sets) or ({},),
                               bodies, idem)
        if len(each) != len(sets):
            raise ValueError(f"{self.name}: {len(each)} per-request values for {len(sets)} header sets")
        paths = tuple(self.path.format_map({**ctx.values, **v}) for v in each)
        return RequestSpec(self.method, paths[0], tuple(dict(h) for h in sets), bodies, idem, paths)


def many_citizens(ctx: BenchContext) -> list[dict[str, str]]:
    """1,000 citizens' tokens (bench/citizens.py), rotated per request: quality.md's bench realism."""
    from bench import citizens

    return citizens.headers(ctx)


def citizen_headers(ctx: BenchContext) -> dict[str, str]:
    """A level-2 citizen logged in through the local VNeID stand-in over real HTTP (tests/support/auth.py)."""
    import httpx

    from tests.support import auth

    with httpx.Client(base_url=ctx.base_url, timeout=15) as http:
        return auth.login(http).headers


FLOOR = Scenario("floor", "read", "GET", FLOOR_PATH,
                 note="bench/floor_app.py: bare Litestar + asyncpg, one unique-index query")

# Measured against the floor app too (once per run, no verdict): explains part of the gap between the
# floor and endpoints that run in the per-request unit of work (two more round trips: BEGIN, COMMIT).
REFERENCES = [
    Scenario("floor.in_transaction", "read", "GET", FLOOR_TX_PATH,
             note="reference: the floor's query inside BEGIN … COMMIT (3 round trips instead of 1)"),
    Scenario("floor.my_reports_query", "read", "GET", MY_REPORTS_QUERY_PATH, setup=setup_feedback.busiest_reporter,
             note="reference: the floor app running exactly the query and page of feedback.my_reports "
                  "(20 of ≥ 21 reports) — no auth, middleware, unit of work or logging",
             explains="feedback.my_reports"),
    Scenario("floor.judicial_queue_query", "read", "GET", JUDICIAL_QUEUE_QUERY_PATH,
             setup=judicial_setup.authority_unit,
             note="reference: the floor app running exactly the SQL and rows of judicial.queue (one query, no "
                  "transaction, id numbers decrypted, same JSON) — no auth, session check, middleware or logging",
             explains="judicial.queue"),
]

SCENARIOS: list[Scenario] = [
    Scenario("platform.live", "read", "GET", "/health/live", same_work=False,
             note="no database: middleware (request id, metrics, security headers) + routing + JSON"),
    Scenario("platform.ready", "read", "GET", "/health/ready",
             note="one pooled `SELECT 1` behind a timeout: the closest analogue of an indexed read today"),
    Scenario("identity.me", "read", "GET", "/api/v1/me", setup=many_citizens, floor_target=SINGLE_OBJECT_READ,
             note="1,000 citizens' tokens in rotation: bearer token check (ES256, cached per token; session not "
                  "revoked), user row + staff grants in one query without a transaction (read-only), masked "
                  "personal id"),
    Scenario("feedback.create", "write", "POST", "/api/v1/feedback/reports", body=setup_feedback.report_body,
             setup=setup_feedback.create_setup,
             note="auth + validation + routing (cached centroids) + working-hours deadlines + insert report "
                  "and timeline event + idempotency row, one transaction"),
    Scenario("feedback.my_reports", "read", "GET", "/api/v1/feedback/reports?limit=20",
             setup=setup_feedback.my_reports_setup,
             note="auth + one index range scan (reporter_id, id DESC) for a page of 20 of 30 reports"),
    Scenario("judicial.draft", "write", "POST", judicial_setup.REQUESTS, body=judicial_setup.draft_body,
             setup=judicial_setup.draft_setup,
             note="request a judicial record certificate (Mẫu 03 for oneself): auth (level 2) + validation + "
                  "pre-fill from the population stand-in + residence rules + insert request and first step + "
                  "idempotency row, one transaction"),
    Scenario("judicial.queue", "read", "GET", judicial_setup.QUEUE_PATH, setup=judicial_setup.queue_setup,
             note="the authority's staff queue: auth + role check + one index scan (authority, status, due_at) "
                  "for a page of 20 of 30 requests, id numbers decrypted, one statement, no transaction"),
    Scenario("console.queue", "read", "GET", "/console/feedback/", setup=console_setup.queue_setup,
             note="staff console: the ward's queue page (50 of 60 open reports) — cookie session checked live, "
                  "unit names, queue page, counts by status, categories, handlers; HTML rendered"),
    Scenario("console.report", "read", "GET", "/console/feedback/reports/{report_id}", setup=console_setup.report_setup,
             note="staff console: a report's page with photo, timeline and every handling form (categories, "
                  "handlers, the unit directory for transfers)"),
    Scenario("feedback.staff_queue", "read", "GET", "/api/v1/staff/feedback/queue?unit_id={unit_id}&limit=50",
             setup=console_setup.api_queue_setup,
             note="the REST API's staff queue for the same unit and page: console.queue's JSON counterpart"),
    Scenario("health.timeline", "read", "GET", citizen_data.TIMELINE_PATH, setup=citizen_data.timeline_setup,
             note="1,000 citizens, each with a 3-visit record (bench/citizen_data.py): level-2 auth + the "
                  "citizen's patient id (personal-id hash) + a page of visits, newest first"),
    Scenario("health.fhir_search", "read", "GET", citizen_data.FHIR_SEARCH_PATH, setup=citizen_data.fhir_setup,
             note="1,000 citizens, each searching their own record (patient-bound token): "
                  "`Observation?patient=…&_count=20` → access check + search (total and page) → FHIR searchset "
                  "Bundle"),
    Scenario("transit.pass_credential", "read", "POST", citizen_data.CREDENTIAL_PATH, setup=citizen_data.pass_setup,
             idempotent=False, floor_target=SINGLE_OBJECT_READ,
             note="1,000 citizens, each with an active pass and a bound phone: get (refresh) the device-bound "
                  "credential — own pass + active binding read, credential signed (ECDSA P-256), server time"),
    # Contexts append theirs here (bench/README.md, "Adding a scenario").
]


def select(names: Sequence[str] | None) -> list[Scenario]:
    if not names:
        return list(SCENARIOS)
    known = {s.name: s for s in SCENARIOS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in names]
