"""Push delivery latency at a steady rate: from the commit that queued a message to FCM accepting it.

    uv run python -m bench.push_latency [--rate 200] [--seconds 30]

The production worker (``api.platform.worker.Worker`` running the ``notifications.push`` job of the
notifications context, production settings but the local FCM stand-in) delivers while this process
commits one message at a time at ``--rate`` per second. Latency per message = ``finished_at`` (recorded
after FCM answered) − ``created_at`` (the queuing transaction, which commits at once). Two runs in the
same session: the worker woken by ``NOTIFY`` (the default), and the same worker polling every 0.5 s
(the previous design) as the reference. Target (quality.md / issue 14): p99 ≤ 1 s at 200 messages/s.
Writes the ``push-latency`` section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from adapters.postgres.pool import create_pool
from api.notifications.jobs import JOBS
from api.platform.container import build_container
from api.platform.registry import CONTEXTS
from api.platform.settings import load_settings
from api.platform.worker import Worker
from bench import procs, report
from bench.database import bench_database, postgres_version, server_url
from bench.notifications_bench import SEED_DEVICES, SEED_USERS

TARGET_P99_S = 1.0
LATENCY_DEVICES = "SELECT id FROM devices WHERE fcm_token LIKE 'bench-%' ORDER BY id"
_ONE = """
INSERT INTO push_outbox (id, kind, idempotency_key, device_id, payload)
VALUES (gen_random_uuid(), 'token', $1, $2,
        jsonb_build_object('title', 'Phản ánh đã được tiếp nhận', 'body', 'Phản ánh đang được xử lý.',
                           'data', jsonb_build_object('deep_link', 'thudo://inbox')))
"""


async def _devices(url: str, n: int) -> list[Any]:
    """One bench citizen with ``n`` devices (the push bench's seed statements), and no queued rows."""
    pool = await create_pool(url, max_size=1)
    try:
        await pool.execute(SEED_USERS, 1)
        await pool.execute(SEED_DEVICES, n)
        await pool.execute("DELETE FROM push_outbox")
        return [r["id"] for r in await pool.fetch(LATENCY_DEVICES)]
    finally:
        await pool.close()


async def run(settings: Any, rate: float, seconds: float, wake: bool, label: str) -> dict[str, Any]:
    devices = await _devices(settings.database_url, 50) if label == "notify" else None
    container = await build_container(settings, CONTEXTS, pool_max=6)
    push = next(job for job in JOBS if job.name == "notifications.push")
    job = push if wake else replace(push, wake_channel=None, idle_s=0.5)
    worker = Worker(container, [job])
    producer = await create_pool(settings.database_url, max_size=8)
    try:
        if devices is None:
            devices = [r["id"] for r in await producer.fetch(LATENCY_DEVICES)]
        worker.start()
        await asyncio.sleep(1.0)  # the listener connects
        start = time.perf_counter()
        n = int(rate * seconds)
        inserts = []
        for i in range(n):  # each message its own transaction, started on schedule (not after the last one)
            queued = producer.execute(_ONE, f"latency:{label}:{i}", devices[i % len(devices)])
            inserts.append(asyncio.create_task(queued))
            delay = start + (i + 1) / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        await asyncio.gather(*inserts)
        sent_rate = n / (time.perf_counter() - start)
        for _ in range(150):  # at most 30 s for the tail to drain
            pending = await producer.fetchval(
                "SELECT count(*) FROM push_outbox WHERE status = 'pending' AND idempotency_key LIKE $1",
                f"latency:{label}:%")
            if not pending:
                break
            await asyncio.sleep(0.2)
        rows = await producer.fetch(
            "SELECT extract(epoch FROM finished_at - created_at) AS s FROM push_outbox "
            "WHERE status = 'sent' AND idempotency_key LIKE $1", f"latency:{label}:%")
    finally:
        await worker.stop()
        await producer.close()
        await container.close()
    lat = sorted(float(r["s"]) for r in rows)
    q = statistics.quantiles(lat, n=100)
    return {"label": label, "messages": n, "delivered": len(lat), "rate": sent_rate,
            "p50": q[49], "p95": q[94], "p99": q[98], "max": lat[-1]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--no-report", action="store_true")
    args = ap.parse_args()
    with server_url() as (server, how), bench_database(server) as url, \
            tempfile.TemporaryDirectory(prefix="thudo-push-latency-") as data_dir:
        pg = asyncio.run(postgres_version(url))
        launch = procs.service(url, Path(data_dir), {"WORKERS": "1"})
        with procs.running("service", launch) as svc:
            settings = load_settings({}, database_url=url, port=svc.port, data_dir=Path(data_dir), standins=True,
                                     run_worker=False, environment="development")
            results = [asyncio.run(run(settings, args.rate, args.seconds, True, "notify")),
                       asyncio.run(run(settings, args.rate, args.seconds, False, "poll"))]
        for r in results:
            print(f"{r['label']}: {r['delivered']}/{r['messages']} at {r['rate']:.0f}/s: p50 {r['p50'] * 1000:.0f} ms, "
                  f"p95 {r['p95'] * 1000:.0f} ms, p99 {r['p99'] * 1000:.0f} ms, max {r['max'] * 1000:.0f} ms")
        if args.no_report:
            return
        woken = results[0]
        verdict = "meets" if woken["p99"] <= TARGET_P99_S else "misses"
        rows = "\n".join(
            f"| {r['label']} | {r['messages']:,} | {r['rate']:.0f}/s | {r['delivered']:,} | {r['p50'] * 1000:.0f} ms | "
            f"{r['p95'] * 1000:.0f} ms | **{r['p99'] * 1000:.0f} ms** | {r['max'] * 1000:.0f} ms |" for r in results)
        report.write_section("push-latency", f"""
## Push delivery latency (bench/push_latency.py)

Messages committed one at a time at a steady {args.rate:.0f}/s for {args.seconds:.0f} s; latency from the
queuing commit to FCM (the local stand-in, through firebase-admin) accepting it, as recorded by the
production worker (`notifications.push`, 2 loops). "notify" is the shipped worker, woken by `NOTIFY
push_outbox` (migration 0022); "poll" is the same worker polling every 0.5 s instead (the previous
design), in the same session as the reference.

| worker | messages | offered rate | delivered | p50 | p95 | p99 | max |
|---|---:|---:|---:|---:|---:|---:|---:|
{rows}

Target p99 ≤ {TARGET_P99_S * 1000:.0f} ms at 200 messages/s: **{verdict}** (woken worker). Load average
after the runs: {report.load_average()} — other work shares these two cores.

{report.machine(pg, {"Database": how})}
""")


if __name__ == "__main__":
    main()
