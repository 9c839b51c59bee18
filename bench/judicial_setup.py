"""Bench set-up for the judicial scenarios: citizens with level-2 e-IDs, a staff member of the
issuing authority in force (the police, CA-TP, from 1 July 2026), submitted requests in its queue.

Bodies follow tests/api/test_judicial_api.py: certificate No. 1 for oneself, pre-filled from the
e-ID, residence in Hanoi since age 14, three copies (the city's support makes amount_due 0).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.support import auth

REQUESTS = "/api/v1/judicial/requests"
QUEUE_PATH = "/api/v1/staff/judicial/requests?limit=20"
QUEUE_QUERY_PATH = "/judicial-queue-of/{unit_id}?limit=20"
AUTHORITY = "CA-TP"  # the authority in force on the bench's (real) date
HANOI = {"text": "Số 5 phố Lý Thái Tổ, phường Hoàn Kiếm, Hà Nội", "province_code": "01"}
QUEUE_SIZE = 30  # requests in the authority's queue; the scenario reads the first page of 20


def draft_body(i: int) -> dict[str, Any]:
    return {"purpose": f"Bổ sung hồ sơ xin việc số {i}", "copies": 1 + i % 3,
            "applicant": {"sex": "male" if i % 2 else "female",
                          "father": {"full_name": "Nguyễn Văn Bình", "birth_year": 1960},
                          "mother": {"full_name": "Lê Thị Cúc", "birth_year": 1962}},
            "residence_history": [{"from_month": "2004-05", "address": HANOI, "occupation": "Kỹ sư"}]}


def citizens(base_url: str, n: int) -> list[dict[str, str]]:
    with httpx.Client(base_url=base_url, timeout=15) as http:
        return [auth.login(http).headers for _ in range(n)]


def draft_setup(ctx: Any) -> list[dict[str, str]]:
    """Eight citizens in rotation (per-citizen limits stay out of the way)."""
    return citizens(ctx.base_url, 8)


def create_draft(http: httpx.Client, headers: dict[str, str], i: int) -> str:
    r = http.post(REQUESTS, json=draft_body(i), headers=headers)
    r.raise_for_status()
    return str(r.json()["id"])


def queue_setup(ctx: Any) -> dict[str, str]:
    """A supervisor of the authority in force, with ``QUEUE_SIZE`` submitted requests in its queue."""
    with httpx.Client(base_url=ctx.base_url, timeout=15) as http:
        people = [auth.login(http).headers for _ in range(3)]
        for i in range(QUEUE_SIZE):
            rid = create_draft(http, people[i % 3], i)
            http.post(f"{REQUESTS}/{rid}/submit", json={}, headers=people[i % 3]).raise_for_status()
        return auth.login_staff(http, ctx.database_url, AUTHORITY, "supervisor").headers


def authority_unit(ctx: Any) -> dict[str, str]:
    """For the floor app's same-work reference of the queue: the authority's unit id in the path."""
    from adapters.postgres.scratch import fetchval_on

    unit = asyncio.run(fetchval_on(ctx.database_url, "SELECT id FROM units WHERE code = $1", AUTHORITY))
    if unit is None:
        raise RuntimeError(f"unit {AUTHORITY} is not seeded")
    ctx.values["unit_id"] = str(unit)
    return {}
