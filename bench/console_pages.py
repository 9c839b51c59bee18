"""Server time of the staff console's main pages on seeded data (issue 15: each under 100 ms).

The real service runs as deployed (``bench.procs.service``: granian, one worker, access log at INFO) on a
bench database migrated and seeded with the demo data, plus a ward's feedback queue and the judicial
authority's queue filled through the public API (``--reports`` reports, ``--requests`` requests). Staff log
into the console through the VNeID stand-in (``tests.support.console``).

Each page is requested ``--samples`` times one at a time (closed loop, one connection: the time measured
is the page's own, not queueing), pages interleaved round by round so drift on a shared machine hits all
of them alike. *Server time* is the service's own measure of each request, the ``duration_ms`` of its
access-log line (from the first byte received to the last byte sent, session check and rendering
included). The same-run references are the REST API reads of the same data by the same use cases: a
page's ratio to its reference is what rendering HTML and the cookie session add.

    uv run python -m bench.console_pages [--samples 200] [--reports 300] [--requests 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import procs, report
from bench.database import postgres_version, run_database
from bench.judicial_setup import AUTHORITY, REQUESTS, draft_body
from tests.support import auth
from tests.support.console import Console, console_login, console_session
from tests.support.feedback import recent_period, report_body, sql

WARD = "W00058"  # where reports at tests.support.feedback.HOAN_KIEM are routed
TARGET_MS = 100.0


@dataclass
class Target:
    name: str
    path: str
    get: Any  # (path) -> httpx.Response
    reference: str = ""  # the name of the target it is compared with
    route: str = ""  # the route template its access lines carry, learned at warm-up
    ms: list[float] = field(default_factory=list)


def _access_lines(server: procs.ServerProcess) -> list[dict[str, Any]]:
    lines = []
    for raw in server.output_tail(limit=1 << 30).splitlines():
        if raw.startswith("{") and '"msg":"request"' in raw:
            lines.append(json.loads(raw))
    return lines


def _settle() -> None:
    time.sleep(1.5)  # the access log is flushed in batches (api.platform.access_log)


def seed(http: httpx.Client, database_url: str, reports: int, requests: int) -> dict[str, str]:
    """A ward's queue (a third of it acknowledged) and the authority's queue (one request cross-checked)."""
    ward_staff = auth.login_staff(http, database_url, WARD, "supervisor")
    citizens = [auth.login(http) for _ in range(10)]
    report_ids = []
    for i in range(reports):
        r = http.post(
            "/api/v1/feedback/reports",
            json=report_body(http, description=f"Lấn chiếm vỉa hè, điểm {i}"),
            headers=citizens[i % len(citizens)].headers,
        )
        r.raise_for_status()
        report_ids.append(r.json()["id"])
        if i % 3 == 0:
            http.post(
                f"/api/v1/staff/feedback/reports/{report_ids[-1]}/acknowledge", headers=ward_staff.headers
            ).raise_for_status()
    request_ids = []
    for i in range(requests):
        who = citizens[i % len(citizens)]
        d = http.post(REQUESTS, json=draft_body(i), headers=who.headers)
        d.raise_for_status()
        http.post(f"{REQUESTS}/{d.json()['id']}/submit", json={}, headers=who.headers).raise_for_status()
        request_ids.append(d.json()["id"])
    boss = auth.login_staff(http, database_url, AUTHORITY, "supervisor")
    for step in ("receive", "verify"):
        http.post(
            f"/api/v1/staff/judicial/requests/{request_ids[0]}/{step}", json={}, headers=boss.headers
        ).raise_for_status()
    return {
        "report": report_ids[0],
        "request": request_ids[0],
        "ward_bearer": ward_staff.access_token,
        "judicial_bearer": boss.access_token,
    }


def targets(http: httpx.Client, database_url: str, ids: dict[str, str]) -> list[Target]:
    ward = console_login(http, database_url, WARD, "supervisor")
    judicial = console_login(http, database_url, AUTHORITY, "supervisor")
    personal_id = auth.register_person(http)
    admin_account = auth.login(http, personal_id=personal_id)
    sql(database_url, "UPDATE users SET city_admin = true WHERE id = $1", admin_account.user_id)
    admin = Console(http, console_session(http, personal_id), admin_account.user_id, personal_id)
    unit = str(auth.unit_id(database_url, WARD))
    period = recent_period()
    month = f"from={period['to'][:8]}01&to={period['to']}"

    def bearer(token: str) -> Any:
        return lambda path: http.get(path, headers={"Authorization": f"Bearer {token}"})

    api_ward, api_judicial = bearer(ids["ward_bearer"]), bearer(ids["judicial_bearer"])
    return [
        Target("feedback queue", "/console/feedback/", ward.get, "api: staff feedback queue"),
        Target(
            "feedback report page", f"/console/feedback/reports/{ids['report']}", ward.get, "api: staff feedback report"
        ),
        Target("judicial queue", "/console/judicial/", judicial.get, "api: judicial queue"),
        Target("judicial request page", f"/console/judicial/{ids['request']}", judicial.get, "api: judicial request"),
        Target(
            "statistics (unit, month)",
            f"/console/stats/?unit={unit}&{month}",
            ward.get,
            "api: statistics (unit, month)",
        ),
        Target("statistics (city, month)", f"/console/stats/?unit=city&{month}", admin.get),
        Target("api: staff feedback queue", f"/api/v1/staff/feedback/queue?unit_id={unit}&limit=20", api_ward),
        Target("api: staff feedback report", f"/api/v1/staff/feedback/reports/{ids['report']}", api_ward),
        Target("api: judicial queue", "/api/v1/staff/judicial/requests?limit=20", api_judicial),
        Target("api: judicial request", f"/api/v1/staff/judicial/requests/{ids['request']}", api_judicial),
        Target("api: statistics (unit, month)", f"/api/v1/feedback/stats?unit_id={unit}&{month}", api_ward),
    ]


def measure(server: procs.ServerProcess, found: list[Target], samples: int, warmup: int) -> None:
    for t in found:
        for _ in range(warmup):
            r = t.get(t.path)
            if r.status_code != 200:
                raise RuntimeError(f"{t.name}: {r.status_code} {r.text[:300]}")
        _settle()
        t.route = _access_lines(server)[-1]["route"]
    seen = _access_lines(server)
    before = {t.route: sum(1 for x in seen if x["route"] == t.route) for t in found}
    for _ in range(samples):
        for t in found:
            t.get(t.path)
    _settle()
    lines = _access_lines(server)
    # Pages sharing a route (statistics of a unit and of the city) were requested in list order each round, one
    # at a time: their lines alternate in that order.
    for route in {t.route for t in found}:
        sharing = [t for t in found if t.route == route]
        mine = [x for x in lines if x["route"] == route][before[route] :]
        bad = [x for x in mine if x["status"] != 200]
        if bad:
            raise RuntimeError(f"{route}: {len(bad)} answers were not 200 (first: {bad[0]})")
        for i, t in enumerate(sharing):
            t.ms = [float(x["duration_ms"]) for x in mine[i :: len(sharing)]]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def markdown(found: list[Target], machine: str, args: argparse.Namespace, load: str) -> str:
    by_name = {t.name: t for t in found}
    rows = []
    for t in found:
        p50, p99 = statistics.median(t.ms), _pct(t.ms, 0.99)
        ref = by_name.get(t.reference)
        ratio = f"{p50 / statistics.median(ref.ms):.1f}×" if ref else ""
        verdict = "" if t.name.startswith("api:") else ("✅ < 100 ms" if p99 < TARGET_MS else "❌ ≥ 100 ms")
        rows.append(f"| {t.name} | `{t.route}` | {len(t.ms)} | {p50:.1f} | {p99:.1f} | {ratio} | {verdict} |")
    return "\n".join(
        [
            "## Staff console pages: server time (`bench/console_pages.py`)",
            "",
            f"Seeded data: demo seed + {args.reports} feedback reports in ward {WARD} (a third acknowledged) + "
            f"{args.requests} judicial requests in the {AUTHORITY} queue (one cross-checked). {args.samples} "
            f"requests per page after {args.warmup} warm-up, one at a time, pages interleaved. Server time = the "
            "access log's `duration_ms` (session check, use case, rendering). Ratio: page p50 over the p50 of the "
            "REST API read of the same data by the same use case, same run. Target (issue 15): < 100 ms.",
            "",
            machine,
            "",
            f"Load average before / after: {load} / {report.load_average()} (other helpers share the machine).",
            "",
            "| page | route | n | p50 ms | p99 ms | page / API p50 | target |",
            "|---|---|---|---|---|---|---|",
            *rows,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--reports", type=int, default=300)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--output", type=Path, default=report.DOC)
    parser.add_argument("--no-write", action="store_true", help="print the section only")
    args = parser.parse_args(argv)
    load = report.load_average()
    with (
        run_database(args.database_url) as (url, how),
        tempfile.TemporaryDirectory() as data,
        procs.running("service", procs.service(url, Path(data))) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as http,
    ):
        ids = seed(http, url, args.reports, args.requests)
        found = targets(http, url, ids)
        measure(server, found, args.samples, args.warmup)
        text = markdown(found, report.machine(f"{asyncio.run(postgres_version(url))} ({how})"), args, load)
    print(text)
    if not args.no_write:
        report.write_section("console", text, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
