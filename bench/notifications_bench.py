"""Push delivery throughput: the outbox worker against firebase-admin's ``send_each_async`` alone.

    uv run python -m bench.notifications_bench [--messages 100000] [--in-flight 8,32,100] [--batch 100,500]
        [--standin-latency-ms 30] [--rounds 1] [--server-workers 1]

quality.md: the worker reaches ≥ 0.80 of what the SDK alone reaches against the same stand-in in the same
run, with the production defaults (always measured; ``--in-flight``/``--batch`` add other settings to
compare). Order: SDK, worker setting 1, SDK, setting 2, SDK, …

The real path end to end: a fresh migrated database, the real service (``thudo serve`` under
granian, with the FCM stand-in mounted) in its own process, and in this process the production
worker code — ``DeliverPushBatch`` claiming with ``FOR UPDATE SKIP LOCKED``, the ``FcmGateway``
on firebase-admin's public ``send_each_async`` (batches of 500, one HTTP request per message as
the SDK does), the service-account JWT-bearer token flow against the stand-in — and recording
results in PostgreSQL. Writes the ``notifications`` section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import firebase_admin
import msgspec
from firebase_admin import credentials, messaging
from google.auth.transport.requests import Request as GoogleAuthRequest

from adapters.dev.push_standin import STANDIN_PATH
from adapters.fcm.gateway import _fcm_message
from adapters.postgres.notifications.outbox import PgOutbox
from adapters.postgres.pool import create_pool
from api.notifications.jobs import JOBS, delivery_policy
from api.notifications.wiring import build_push_gateway, dev_service_account
from api.platform.settings import load_settings
from bench import procs, report
from bench.database import bench_database, postgres_version, server_url
from domain.notifications.delivery import DeliverPushBatch
from domain.notifications.delivery_model import PushMessage
from domain.shared.time import SystemClock

TARGET_RATIO = 0.80  # quality.md: the worker ≥ 0.80 of send_each_async alone, same stand-in, same run
DEVICES_PER_USER = 100

# Users, devices and one outbox row per device, in bulk. Subscription rows queued by the device
# trigger are removed: this bench measures message delivery.
SEED_USERS = """
INSERT INTO users (id, eid_issuer, eid_subject, personal_id_hash, personal_id_enc, full_name, level)
SELECT gen_random_uuid(), 'bench', 'u' || g, sha256(('u' || g)::bytea), '\\x00', 'Bench ' || g, 2
FROM generate_series(1, $1) g;
"""
SEED_DEVICES = """
INSERT INTO devices (id, user_id, fcm_token, platform, app_version)
SELECT gen_random_uuid(), u.id, 'bench-' || u.eid_subject || '-' || g, 'android', '1.0'
FROM users u, generate_series(1, $1) g WHERE u.eid_issuer = 'bench'
"""
_OUTBOX = """
INSERT INTO push_outbox (id, kind, idempotency_key, device_id, payload)
SELECT gen_random_uuid(), 'token', 'bench:' || d.id, d.id,
       jsonb_build_object('title', 'Phản ánh đã được tiếp nhận', 'body', 'Phản ánh PA-2026-000123 đang được xử lý.',
                          'data', jsonb_build_object('deep_link', 'thudo://feedback/reports/' || d.id))
FROM devices d
"""


async def queue(url: str, messages: int, seed: bool = True) -> None:
    """``seed``: create the users and devices first (once per database); then one outbox row per device."""
    pool = await create_pool(url, max_size=2, statement_timeout_ms=600_000)
    try:
        async with pool.acquire() as conn:
            if seed:
                await conn.execute(SEED_USERS, max(1, messages // DEVICES_PER_USER))
                await conn.execute(SEED_DEVICES, DEVICES_PER_USER)
            await conn.execute("DELETE FROM push_outbox")
            await conn.execute(_OUTBOX)
            await conn.execute("ANALYZE push_outbox")
    finally:
        await pool.close()


class TimedOutbox(PgOutbox):
    """PgOutbox that adds up the time spent in its short transactions (claim, finish)."""

    spent: dict[str, float]

    async def claim(self, *args: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return await super().claim(*args, **kw)
        finally:
            self.spent["claim"] = self.spent.get("claim", 0.0) + time.perf_counter() - t

    async def finish(self, *args: Any, **kw: Any) -> None:
        t = time.perf_counter()
        try:
            await super().finish(*args, **kw)
        finally:
            self.spent["finish"] = self.spent.get("finish", 0.0) + time.perf_counter() - t


async def deliver(url: str, settings: Any, concurrency: int, batch_size: int) -> dict[str, Any]:
    pool = await create_pool(url, max_size=concurrency * 2 + 2)
    gateway = await asyncio.to_thread(build_push_gateway, settings)
    policy = msgspec.structs.replace(delivery_policy(settings), batch_size=batch_size)
    totals = {"sent": 0, "retried": 0, "dead": 0, "batches": 0}
    spent: dict[str, float] = {}

    async def loop() -> None:
        outbox = TimedOutbox(pool)
        outbox.spent = spent
        uc = DeliverPushBatch(outbox, gateway, SystemClock(), policy)
        while (r := await uc.execute()).claimed:
            totals["sent"] += r.sent
            totals["retried"] += r.retried
            totals["dead"] += r.dead
            totals["batches"] += 1

    try:
        start, cpu0 = time.perf_counter(), time.process_time()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
        async with pool.acquire() as conn:
            statuses = {r["status"]: r["n"] for r in await conn.fetch(
                "SELECT status, count(*) n FROM push_outbox GROUP BY 1")}
    finally:
        await gateway.close()
        await pool.close()
    cpu = time.process_time() - cpu0
    return {**totals, "elapsed": elapsed, "statuses": statuses, "spent": spent, "worker_cpu": cpu}


async def sdk_alone(settings: Any, messages: int, batch: int = 500) -> dict[str, Any]:
    """firebase-admin alone: ``send_each_async`` on batches of ``batch`` messages, one after another,
    against the same stand-in with the same service account and message shape (the adapter's
    ``_fcm_message``). Nothing else: no outbox, no database, no bound on requests in flight — the SDK
    as its documentation shows it. The one change is the URL (the SDK has no option for it)."""
    cred = credentials.Certificate(dev_service_account(settings))
    app = firebase_admin.initialize_app(cred, {"projectId": settings.fcm_project_id},
                                        name=f"bench-sdk-{time.time_ns()}")
    service: Any = messaging._get_messaging_service(app)
    service._fcm_url = (f"{settings.base_url}{STANDIN_PATH}/v1/projects/{settings.fcm_project_id}"
                        "/messages:send")
    await asyncio.to_thread(service._credential.refresh, GoogleAuthRequest())  # as the first send would
    one = [_fcm_message(PushMessage(token=f"bench-sdk-{i}", title="Phản ánh đã được tiếp nhận",
                                    body="Phản ánh PA-2026-000123 đang được xử lý.",
                                    data={"deep_link": f"thudo://feedback/reports/{i}"}, collapse_key="feedback"))
           for i in range(batch)]
    sent = failed = 0
    try:
        start, cpu0 = time.perf_counter(), time.process_time()
        for _ in range(max(1, messages // batch)):
            r = await messaging.send_each_async(one, app=app)
            sent, failed = sent + r.success_count, failed + r.failure_count
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu0
    finally:
        await service._async_client.async_client.aclose()
        await asyncio.to_thread(firebase_admin.delete_app, app)
    return {"sent": sent, "failed": failed, "elapsed": elapsed, "worker_cpu": cpu}


@dataclass
class Config:
    in_flight: int
    batch: int
    loops: int

    @property
    def label(self) -> str:
        return f"in flight {self.in_flight}, batch {self.batch}, {self.loops} loops"


def _rate(r: dict[str, Any]) -> float:
    return float(r["sent"]) / float(r["elapsed"])


def _measure(url: str, settings: Any, configs: list[Config], messages: int,
             rounds: int) -> tuple[list[dict[str, Any]], dict[str, list[tuple[dict[str, Any], float]]]]:
    """SDK, config 1, SDK, config 2, SDK, … (× rounds): each worker run's ratio is to the mean of the
    SDK runs just before and after it, so drift on the shared machine hits both sides."""
    sdk_runs = [asyncio.run(sdk_alone(settings, messages))]
    print(f"SDK alone: {_rate(sdk_runs[-1]):,.0f}/s", flush=True)
    worker: dict[str, list[tuple[dict[str, Any], float]]] = {}
    for _ in range(rounds):
        for cfg in configs:
            asyncio.run(queue(url, messages, seed=False))
            r = asyncio.run(deliver(url, replace(settings, fcm_max_in_flight=cfg.in_flight), cfg.loops, cfg.batch))
            sdk_runs.append(asyncio.run(sdk_alone(settings, messages)))
            ratio = _rate(r) / ((_rate(sdk_runs[-2]) + _rate(sdk_runs[-1])) / 2)
            worker.setdefault(cfg.label, []).append((r, ratio))
            print(f"worker, {cfg.label}: {_rate(r):,.0f}/s = {ratio:.2f} × SDK alone (statuses {r['statuses']}, "
                  f"retried {r['retried']}); SDK alone {_rate(sdk_runs[-1]):,.0f}/s", flush=True)
    return sdk_runs, worker


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=100_000, help="messages per measurement")
    ap.add_argument("--in-flight", default="", help="FCM_MAX_IN_FLIGHT values to compare, e.g. 8,16,32,100 "
                                                    "(default: the production default alone)")
    ap.add_argument("--batch", default="", help="WORKER_BATCH_SIZE values to compare (default: the production one)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--server-workers", type=int, default=1, help="granian workers serving the stand-in")
    ap.add_argument("--standin-latency-ms", type=int, default=0,
                    help="the stand-in answers each send after this long (FCM_STANDIN_LATENCY_MS: Google's round trip)")
    ap.add_argument("--no-report", action="store_true")
    args = ap.parse_args(argv)
    defaults = load_settings({})
    loops = next(j.concurrency for j in JOBS if j.name == "notifications.push")
    production = Config(defaults.fcm_max_in_flight, defaults.worker_batch_size, loops)
    configs = [Config(int(f), int(b), loops) for f in (args.in_flight.split(",") if args.in_flight else
                                                       [production.in_flight])
               for b in (args.batch.split(",") if args.batch else [production.batch])]
    if production not in configs:
        configs.append(production)

    with server_url() as (server, how), bench_database(server) as url, \
            tempfile.TemporaryDirectory(prefix="thudo-push-bench-") as data_dir:
        pg = asyncio.run(postgres_version(url))
        asyncio.run(queue(url, args.messages))
        load_before = report.load_average()
        launch = procs.service(url, Path(data_dir), {"WORKERS": str(args.server_workers),
                                                     "FCM_STANDIN_LATENCY_MS": str(args.standin_latency_ms)})
        with procs.running("service", launch) as svc:
            settings = load_settings({}, database_url=url, port=svc.port, data_dir=Path(data_dir), standins=True,
                                     run_worker=False, environment="development")
            sdk_runs, worker = _measure(url, settings, configs, args.messages, args.rounds)
        load_after = report.load_average()
        if args.no_report:
            return
        report.write_section("notifications", render(args, sdk_runs, worker, production, configs,
                                                     report.machine(pg, {"Database": how}), load_before,
                                                     load_after))


def render(args: argparse.Namespace, sdk_runs: list[dict[str, Any]],
           worker: dict[str, list[tuple[dict[str, Any], float]]], production: Config, configs: list[Config],
           machine: str, load_before: str, load_after: str) -> str:
    sdk = statistics.median(_rate(r) for r in sdk_runs)
    sdk_cpu = statistics.median(r["worker_cpu"] * 1000 / max(1, r["sent"]) for r in sdk_runs)
    rows = []
    for cfg in configs:
        runs = worker[cfg.label]
        ratio = statistics.median(x for _, x in runs)
        rate = statistics.median(_rate(r) for r, _ in runs)
        cpu = statistics.median(r["worker_cpu"] * 1000 / max(1, r["sent"]) for r, _ in runs)
        db = statistics.median(sum(r["spent"].values()) * 1000 / max(1, r["sent"]) for r, _ in runs)
        verdict = ("meets" if ratio >= TARGET_RATIO else "**misses**") if cfg == production else ""
        default = " (production default)" if cfg == production else ""
        rows.append(f"| {cfg.in_flight} | {cfg.batch} | {cfg.loops}{default} "
                    f"| {rate:,.0f}/s | {' / '.join(f'{x:.2f}' for _, x in runs)} | **{ratio:.2f}** | {cpu:.2f} | "
                    f"{db:.2f} | {runs[-1][0]['statuses']} | {verdict} |")
    return f"""
## Push delivery (bench/notifications_bench.py)

`uv run python -m bench.notifications_bench --messages {args.messages} --rounds {args.rounds}\
{f' --in-flight {args.in_flight}' if args.in_flight else ''}{f' --batch {args.batch}' if args.batch else ''}\
{f' --standin-latency-ms {args.standin_latency_ms}' if args.standin_latency_ms else ''}` —
quality.md: the outbox worker delivers to the local FCM stand-in at ≥ {TARGET_RATIO:.2f} of what
firebase-admin's `send_each_async` alone reaches against the same stand-in in the same run, with the
production defaults.

* **SDK alone**: `messaging.send_each_async` on batches of 500 messages (the adapter's message shape), one
  batch after another, the SDK's own HTTP client with no bound on requests in flight; no database.
* **Worker**: the production path — `DeliverPushBatch` claiming with `FOR UPDATE SKIP LOCKED`, the
  `FcmGateway` (the same SDK call, at most `FCM_MAX_IN_FLIGHT` requests in flight), results recorded in
  PostgreSQL — in as many delivery loops as the production worker runs (`notifications.push`,
  concurrency {production.loops}). {args.messages:,} queued messages per run.
* Order: SDK, worker config 1, SDK, config 2, SDK, …; each worker run's ratio is to the mean of the SDK
  runs just before and after it. Stand-in: the real service under granian with {args.server_workers}
  worker(s), on the same two cores, answering each send after {args.standin_latency_ms} ms
  (`FCM_STANDIN_LATENCY_MS`, standing for Google's round trip).

SDK alone: median **{sdk:,.0f} messages/s** over {len(sdk_runs)} runs
({' / '.join(f'{_rate(r):,.0f}' for r in sdk_runs)}), {sdk_cpu:.2f} ms of CPU per message in the sending process.

| FCM_MAX_IN_FLIGHT | WORKER_BATCH_SIZE | loops | worker | ratio per run | ratio (median) | CPU ms/message \
| DB ms/message | outbox after | verdict (production defaults, ≥ {TARGET_RATIO:.2f}) |
|---:|---:|---|---:|---|---:|---:|---:|---|---|
{chr(10).join(rows)}

Load average (1/5/15 min) before: {load_before}; after: {load_after} — other work shares these two cores.

{machine}
"""


if __name__ == "__main__":
    main()
