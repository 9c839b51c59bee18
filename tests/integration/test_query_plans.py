"""Every statement the API sends is index-backed: captured from real requests, then EXPLAINed.

The hand-written EXPLAIN tests of each context (test_*_postgres.py, test_identity_queries.py) name the
hot queries and the index each must use; they can drift from the adapters' SQL. This test cannot: it
runs the app over HTTP with asyncpg's query logger on every pooled connection, makes one object of each
kind (the authorization sweep's ``World``: a report with a photo, a device, an inbox item, a judicial
request and certificate, a card, a paid pass, a payment intent), calls every GET route of the app as the
caller it is for (citizen, staff, city admin, gate validator; FHIR reads have their own EXPLAIN tests),
and EXPLAINs each distinct statement with the arguments it was sent with. With
sequential scans disabled, a plan that still scans a table sequentially has no index to use: that is
allowed only for the reference tables the product seeds (units, catalogues, price lists — bounded by
the city, not by its citizens).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Iterator
from functools import partial
from typing import Any

import asyncpg
import httpx
import pytest

import adapters.postgres.pool as pool_module
from api.platform.app import create_app
from api.platform.settings import Settings
from tests.api.test_authorization_sweep import RULES, World, _fill, _routes
from tests.support.auth import client_token, grant, login, login_city_admin, refresh
from tests.support.database import _KEEP, fresh_database
from tests.support.live import free_port, serve

NOT_STATEMENTS = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SET|RESET|LISTEN|UNLISTEN|SELECT 1\b|SELECT pg_notify)",
                            re.IGNORECASE)
SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")
WARD, POLICE, TRANSPORT = "W00058", "CA-TP", "S-GTVT"


@pytest.fixture(scope="module")
def captured(settings: Settings, database_url: str) -> Iterator[tuple[str, dict[str, tuple[Any, ...]]]]:
    statements: dict[str, tuple[Any, ...]] = {}
    original = pool_module._init_connection

    async def logging_init(conn: asyncpg.Connection[Any]) -> None:
        await original(conn)
        conn.add_query_logger(lambda q: statements.setdefault(q.query, tuple(q.args or ())))

    with fresh_database(database_url) as own:
        pool_module._init_connection = logging_init  # type: ignore[assignment]
        try:
            port = free_port()  # the VNeID stand-in's issuer URL names the app's own port
            app = create_app(dataclasses.replace(settings, database_url=own, port=port))
            with serve(app, port) as base, httpx.Client(base_url=base, timeout=30) as http:
                _use_every_read(http, own, settings)
        finally:
            pool_module._init_connection = original  # type: ignore[assignment]
        yield own, statements


def _use_every_read(http: httpx.Client, url: str, settings: Settings) -> None:
    a = login(http)
    world = World(http, url, a, login_city_admin(http, url))
    for made in ("photo", "device", "inbox_item", "certificate", "transit_pass", "payment_intent", "category"):
        getattr(world, made)
    staff = login(http)
    for unit, role in ((WARD, "handler"), (WARD, "supervisor"), (POLICE, "supervisor"), (TRANSPORT, "handler")):
        grant(url, staff.user_id, unit, role)
    staff = refresh(http, staff)
    gate = client_token(http, url, "validator").headers
    callers = {"citizen": a.headers, "unit": staff.headers, "admin": world.admin.headers, "public": a.headers}
    for path, methods in sorted(_all_get_routes(settings).items()):
        if "GET" not in methods:
            continue
        rule = RULES.get(path)
        if rule is None:  # no path id: the caller's own lists, queues, catalogues
            for headers in (a.headers, staff.headers, world.admin.headers, gate):
                http.get(path, headers=headers)
            continue
        if rule.owner in ("facility", "console-unit"):
            # FHIR reads: health's own EXPLAIN tests (tests/integration/test_health_postgres.py); console
            # pages run the same use cases and queries as the staff API routes called here.
            continue
        ids = {**rule.values, **rule.ids(world)}
        target = re.sub(r"\{(\w+)\}", partial(_fill, ids), path) + (f"?{rule.query}" if rule.query else "")
        http.get(target, headers=callers[rule.owner])


def _all_get_routes(settings: Settings) -> dict[str, set[str]]:
    routes = dict(_routes(settings))
    for route in create_app(settings).routes:
        if "{" not in route.path and route.path.startswith("/api/v1/") and "GET" in getattr(route, "methods", ()):
            routes.setdefault(route.path, set()).add("GET")
    return routes


async def _plans(url: str, statements: dict[str, tuple[Any, ...]]) -> tuple[dict[str, str], set[str]]:
    """Each statement's plan, and the relations that are one row by nature (sequences)."""
    conn = await pool_module.connect(url)
    plans: dict[str, str] = {}
    try:
        sequences = {r[0] for r in await conn.fetch("SELECT relname FROM pg_class WHERE relkind = 'S'")}
        await conn.execute("ANALYZE")
        await conn.execute("SET enable_seqscan = off")
        for query, args in statements.items():
            if NOT_STATEMENTS.match(query):
                continue
            plans[query] = "\n".join(r[0] for r in await conn.fetch("EXPLAIN " + query, *args))
    finally:
        await conn.close()
    return plans, sequences


def test_every_statement_the_api_sent_is_index_backed(captured: tuple[str, dict[str, tuple[Any, ...]]]) -> None:
    url, statements = captured
    plans, sequences = asyncio.run(_plans(url, statements))
    reference = _KEEP[url] | sequences
    scanned = {table for plan in plans.values() for table in SEQ_SCAN.findall(plan)}
    assert len(plans) > 80, f"only {len(plans)} statements captured: is the query logger installed?"
    assert {"feedback_reports", "judicial_requests", "transit_passes", "notification_inbox"} & {
        m for p in plans.values() for m in re.findall(r"on (\w+)", p)}, "the flows did not reach the contexts"
    unindexed = {q: p for q, p in plans.items() if set(SEQ_SCAN.findall(p)) - reference}
    shown = "\n\n".join(f"{q.strip()}\n{p}" for q, p in list(unindexed.items())[:8])
    assert not unindexed, f"{len(unindexed)} statements scan growing tables {scanned - reference}:\n{shown}"

