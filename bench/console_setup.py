"""Bench set-up for the staff console's pages: a ward's queue of reports and a supervisor logged in.

The console is measured like the API: ``console.queue`` and ``console.report`` render the pages a ward
officer opens all day; ``feedback.staff_queue`` is the REST API's queue for the same unit and data, the
same-run reference that tells what the HTML costs over the JSON.
"""

from __future__ import annotations

from typing import Any

import httpx

from bench.setup_feedback import _category_id
from tests.support import auth, console
from tests.support.feedback import HOAN_KIEM, jpeg_with_gps

WARD = "W00058"  # Phường Lý Thái Tổ, where HOAN_KIEM routes the SIDEWALK category
QUEUE_SIZE = 60  # more than a page (50): the page is full and has a "next" link
_SEEDED: dict[tuple[str, str], dict[str, Any]] = {}  # per service and database: the three scenarios share one


def _seed(ctx: Any) -> dict[str, Any]:
    """Once per run: the ward's queue, one report with a photo, its supervisor (API session and console cookie)."""
    key = (ctx.base_url, ctx.database_url)
    if key not in _SEEDED:
        with httpx.Client(base_url=ctx.base_url, timeout=30) as http:
            _SEEDED[key] = _make(ctx, http)
    return _SEEDED[key]


def _make(ctx: Any, http: httpx.Client) -> dict[str, Any]:
    category = _category_id(http)
    people = [auth.login(http) for _ in range(3)]
    first = ""
    for i in range(QUEUE_SIZE):
        body = {
            "category_id": category,
            "description": f"Xe máy đỗ kín vỉa hè, điểm số {i}",
            "address": f"Số {i} phố Hàng Khay",
            **HOAN_KIEM,
        }
        r = http.post("/api/v1/feedback/reports", json=body, headers=people[i % 3].headers)
        r.raise_for_status()
        first = first or r.json()["id"]
    photo = http.post(
        f"/api/v1/feedback/reports/{first}/photos",
        headers=people[0].headers,
        files={"file": ("p.jpg", jpeg_with_gps(), "image/jpeg")},
    )
    photo.raise_for_status()
    staff = console.console_login(http, ctx.database_url, WARD, "supervisor")
    auth.grant(ctx.database_url, staff.user_id, WARD, "handler")
    api = auth.refresh(http, auth.login(http, personal_id=staff.personal_id))
    return {
        "cookie": staff.cookie,
        "report_id": first,
        "unit_id": str(auth.unit_id(ctx.database_url, WARD)),
        "headers": api.headers,
    }


def queue_setup(ctx: Any) -> dict[str, str]:
    return {"Cookie": f"console_session={_seed(ctx)['cookie']}"}


def report_setup(ctx: Any) -> dict[str, str]:
    ctx.values["report_id"] = _seed(ctx)["report_id"]
    return queue_setup(ctx)


def api_queue_setup(ctx: Any) -> dict[str, str]:
    ctx.values["unit_id"] = _seed(ctx)["unit_id"]
    return dict(_seed(ctx)["headers"])
