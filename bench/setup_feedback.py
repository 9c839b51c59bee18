"""Bench set-up for the feedback scenarios: a logged-in citizen, a category id, some reports."""

from __future__ import annotations

import random
from typing import Any

import httpx

from tests.support import auth

# Filled by setup() before the harness asks for bodies (Scenario.prepare runs setup first).
_STATE: dict[str, Any] = {}
_RNG = random.Random(1207)


def _category_id(http: httpx.Client) -> str:
    cats = http.get("/api/v1/public/feedback/categories").json()
    return str(next(c["id"] for c in cats if c["code"] == "SIDEWALK"))


def report_body(i: int) -> dict[str, Any]:
    # Spread over central Hanoi so routing picks different wards/districts.
    return {"category_id": _STATE["category_id"], "description": f"Lấn chiếm vỉa hè, điểm số {i}",
            "lat": round(21.00 + _RNG.random() * 0.05, 6), "lon": round(105.80 + _RNG.random() * 0.06, 6),
            "address": f"Số {i} phố Hàng Bông"}


def create_setup(ctx: Any) -> list[dict[str, str]]:
    """1,000 citizens (bench/citizens.py), each request from the next one."""
    from bench import citizens

    with httpx.Client(base_url=ctx.base_url, timeout=15) as http:
        _STATE["category_id"] = _category_id(http)
    return citizens.headers(ctx)


# Test data, not measured SQL: the template citizen's 30 reports (made through the API) copied to every
# minted citizen, with new ids and refs, so that each has a page of 20 of 30 to read.
_COPY_REPORTS = """
INSERT INTO feedback_reports (id, ref, reporter_id, category_id, level, status, description, lat, lon, address,
                              ward_id, unit_id, answers, publishable, hidden, created_at, updated_at, ack_due_at,
                              due_at)
SELECT gen_random_uuid(), r.ref || '-' || c.n, c.id, r.category_id, r.level, r.status, r.description, r.lat, r.lon,
       r.address, r.ward_id, r.unit_id, r.answers, r.publishable, r.hidden, r.created_at, r.updated_at, r.ack_due_at,
       r.due_at
FROM feedback_reports r, unnest($2::uuid[]) WITH ORDINALITY AS c(id, n)
WHERE r.reporter_id = $1
"""


def duplicates_setup(ctx: Any) -> dict[str, str]:
    """A logged-in citizen; ``category_id`` (SIDEWALK) for the path."""
    with httpx.Client(base_url=ctx.base_url, timeout=15) as http:
        ctx.values["category_id"] = _category_id(http)
        return auth.login(http).headers


def my_reports_setup(ctx: Any) -> list[dict[str, str]]:
    """1,000 citizens with 30 reports each; the scenario reads the first page of 20 of the next one."""
    import asyncio

    from adapters.postgres.scratch import fetchval_on
    from bench import citizens

    with httpx.Client(base_url=ctx.base_url, timeout=15) as http:
        _STATE["category_id"] = _category_id(http)
        template = auth.login(http)
        for i in range(30):
            r = http.post("/api/v1/feedback/reports", json=report_body(i), headers=template.headers)
            r.raise_for_status()
    minted = citizens.mint(ctx)
    asyncio.run(fetchval_on(ctx.database_url, _COPY_REPORTS, template.user_id, [c.user_id for c in minted]))
    return [c.headers for c in minted]


def busiest_reporter(ctx: Any) -> dict[str, str]:
    """For the floor app's same-query reference: a reporter with a full page (the scenarios made them)."""
    import asyncio

    from adapters.postgres.scratch import fetchval_on

    reporter = asyncio.run(fetchval_on(
        ctx.database_url, "SELECT reporter_id FROM feedback_reports GROUP BY 1 HAVING count(*) > 20 LIMIT 1"))
    if reporter is None:
        raise RuntimeError("no reporter with a full page yet: run it after feedback.my_reports")
    ctx.values["reporter_id"] = str(reporter)
    return {}
