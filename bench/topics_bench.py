"""District and city-wide announcements through FCM topics, with N subscribed devices.

    uv run python -m bench.topics_bench [--devices 1000000] [--devices-per-user 10] [--sample 20000]

The product never writes one outbox row per device for an announcement: ``POST /admin/announcements``
writes the announcement and ONE ``topic`` outbox row (adapters/postgres/notifications/inbox.py), and
topic membership is kept by triggers on ``devices`` and ``users.district_id`` (migration 0021) that
queue ``subscribe``/``unsubscribe`` rows, which the worker sends grouped by topic in calls of
≤ 1,000 tokens (``max_subscription_batch``). This bench measures, on a fresh migrated database:

1. registering N devices in bulk with the triggers on (outbox rows written per device, time);
2. the worker sending a sample of those subscription rows to the local FCM stand-in through the real
   gateway (firebase-admin), to get the per-token cost of topic management;
3. an announcement to the whole city and to one district: rows written, time to queue, and the
   worker's time to send the topic message;
4. moving citizens to another district (unsubscribe + subscribe rows per device).

Writes the ``topics`` section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from adapters.postgres.notifications.inbox import queue_announcement
from adapters.postgres.pool import connect
from api.platform.settings import load_settings
from bench import procs, report
from bench.database import bench_database, postgres_version, server_url
from bench.notifications_bench import deliver

USERS = """
INSERT INTO users (id, eid_issuer, eid_subject, personal_id_hash, personal_id_enc, full_name, level, district_id)
SELECT gen_random_uuid(), 'bench', 'u' || g, sha256(('u' || g)::bytea), '\\x00', 'Bench ' || g, 2,
       d.ids[1 + g % array_length(d.ids, 1)]
FROM generate_series(1, $1) g, (SELECT array_agg(id ORDER BY code) AS ids FROM units WHERE kind = 'district') d
"""
DEVICES = """
INSERT INTO devices (id, user_id, fcm_token, platform, app_version)
SELECT gen_random_uuid(), u.id, 'bench-' || u.eid_subject || '-' || g, 'android', '1.0'
FROM users u, generate_series(1, $1) g WHERE u.eid_issuer = 'bench'
"""
COUNT_KINDS = "SELECT kind, status, count(*) AS n FROM push_outbox GROUP BY 1, 2 ORDER BY 1, 2"


async def _timed(conn: Any, sql: str, *args: Any) -> float:
    t = time.perf_counter()
    await conn.execute(sql, *args)
    return time.perf_counter() - t


async def register(url: str, devices: int, per_user: int) -> dict[str, Any]:
    conn = await connect(url)
    try:
        users = max(1, devices // per_user)
        out: dict[str, Any] = {"users s": await _timed(conn, USERS, users)}
        out["devices s"] = await _timed(conn, DEVICES, per_user)
        out["devices"] = await conn.fetchval("SELECT count(*) FROM devices")
        out["rows"] = await conn.fetchval("SELECT count(*) FROM push_outbox WHERE kind = 'subscribe'")
        # The same insert with the trigger off, for what the subscription queueing itself costs.
        await conn.execute("CREATE TEMP TABLE d2 (LIKE devices INCLUDING ALL)")
        out["devices no trigger s"] = await _timed(
            conn, DEVICES.replace("INSERT INTO devices", "INSERT INTO d2").replace("'bench-'", "'plain-'"), per_user
        )
        await conn.execute("ANALYZE push_outbox")
        return out
    finally:
        await conn.close()


async def keep_sample(url: str, sample: int) -> int:
    """Park all but ``sample`` pending subscription rows (available far in the future) for the delivery sample."""
    conn = await connect(url)
    try:
        await conn.execute(
            """UPDATE push_outbox SET available_at = now() + interval '10 years' WHERE status = 'pending'
               AND id NOT IN (SELECT id FROM push_outbox WHERE status = 'pending' ORDER BY id LIMIT $1)""",
            sample,
        )
        return int(
            await conn.fetchval("SELECT count(*) FROM push_outbox WHERE status = 'pending' AND available_at <= now()")
        )
    finally:
        await conn.close()


async def announce(url: str, district: bool) -> tuple[float, int]:
    conn = await connect(url)
    try:
        admin = await conn.fetchval("SELECT id FROM users WHERE eid_issuer = 'bench' LIMIT 1")
        did, code = (
            await conn.fetchrow("SELECT id, code FROM units WHERE kind = 'district' ORDER BY code LIMIT 1")
            if district
            else (None, None)
        )
        before = await conn.fetchval("SELECT count(*) FROM push_outbox")
        t = time.perf_counter()
        async with conn.transaction():
            await queue_announcement(
                conn,
                announcement_id=uuid.uuid4(),
                district_id=did,
                topic=f"district-{code.lower()}" if code else "city",
                content={
                    "vi": {"title": "Thông báo", "body": "Cắt nước ngày mai"},
                    "en": {"title": "Notice", "body": "Water cut tomorrow"},
                },
                created_by=admin,
            )
        took = time.perf_counter() - t
        return took, int(await conn.fetchval("SELECT count(*) FROM push_outbox")) - before
    finally:
        await conn.close()


async def move_district(url: str, users: int) -> tuple[float, int]:
    conn = await connect(url)
    try:
        before = await conn.fetchval("SELECT count(*) FROM push_outbox")
        t = time.perf_counter()
        await conn.execute(
            """UPDATE users SET district_id = (SELECT id FROM units WHERE kind = 'district' ORDER BY code DESC LIMIT 1)
               WHERE id IN (SELECT id FROM users WHERE eid_issuer = 'bench' ORDER BY eid_subject LIMIT $1)""",
            users,
        )
        took = time.perf_counter() - t
        return took, int(await conn.fetchval("SELECT count(*) FROM push_outbox")) - before
    finally:
        await conn.close()


async def _pending(url: str) -> None:
    conn = await connect(url)
    try:  # park what is still due so the next delivery measures only what follows
        await conn.execute(
            "UPDATE push_outbox SET available_at = now() + interval '10 years' "
            "WHERE status = 'pending' AND available_at <= now()"
        )
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=1_000_000)
    ap.add_argument("--devices-per-user", type=int, default=10)
    ap.add_argument("--sample", type=int, default=20_000, help="subscription rows actually sent to the stand-in")
    ap.add_argument("--move", type=int, default=1000, help="citizens moved to another district")
    ap.add_argument("--in-flight", type=int, default=8)
    ap.add_argument("--output", type=Path, default=report.DOC)
    args = ap.parse_args(argv)
    with (
        server_url() as (server, how),
        bench_database(server) as url,
        tempfile.TemporaryDirectory(prefix="thudo-topics-") as data_dir,
    ):
        pg = asyncio.run(postgres_version(url))
        reg = asyncio.run(register(url, args.devices, args.devices_per_user))
        asyncio.run(keep_sample(url, args.sample))
        with procs.running("service", procs.service(url, Path(data_dir))) as svc:
            settings = load_settings(
                {},
                database_url=url,
                port=svc.port,
                data_dir=Path(data_dir),
                standins=True,
                run_worker=False,
                environment="development",
                fcm_max_in_flight=args.in_flight,
            )
            sub = asyncio.run(deliver_topics(url, settings))
            city_q, city_rows = asyncio.run(announce(url, district=False))
            city = asyncio.run(deliver(url, settings, 1, settings.worker_batch_size))
            dist_q, dist_rows = asyncio.run(announce(url, district=True))
            dist = asyncio.run(deliver(url, settings, 1, settings.worker_batch_size))
            asyncio.run(_pending(url))
            move_s, move_rows = asyncio.run(move_district(url, args.move))
    per_token_ms = sub["elapsed"] * 1000 / max(1, sub["sent"])
    total_rows = reg["rows"]
    text = f"""
## Topics: announcements and topic membership with {reg["devices"]:,} devices (bench/topics_bench.py)

`uv run python -m bench.topics_bench --devices {args.devices} --devices-per-user {args.devices_per_user} \
--sample {args.sample} --move {args.move}` — a fresh migrated database; {reg["devices"]:,} devices of
{args.devices // args.devices_per_user:,} citizens spread over the districts, registered in one statement with the
real triggers of migration 0021 on; the worker's real use case (`DeliverPushBatch`) and FCM gateway
(firebase-admin) against the local FCM stand-in served by the real service. One delivery loop,
`FCM_MAX_IN_FLIGHT={args.in_flight}`.

| What | Outbox rows written | Time | Per unit |
|---|---:|---:|---:|
| register {reg["devices"]:,} devices (trigger queues `city` + district subscriptions) | {total_rows:,} | \
{reg["devices s"]:.1f} s | {reg["devices s"] * 1e6 / reg["devices"]:.0f} µs/device \
(same insert without the trigger: {reg["devices no trigger s"] * 1e6 / reg["devices"]:.0f} µs) |
| send {sub["sent"]:,} of those subscriptions to the stand-in ({sub["batches"]} claims of ≤ 4,000 rows, \
calls of ≤ 1,000 tokens per topic) | — | {sub["elapsed"]:.1f} s | {per_token_ms:.2f} ms/token → \
{total_rows * per_token_ms / 1000 / 60:,.1f} min for all {total_rows:,} at this rate, one loop |
| city-wide announcement: queue | {city_rows} | {city_q * 1000:.1f} ms | — |
| city-wide announcement: worker sends the topic message | — | {city["elapsed"] * 1000:.0f} ms | \
{city["sent"]} message(s) |
| district announcement: queue | {dist_rows} | {dist_q * 1000:.1f} ms | — |
| district announcement: worker sends the topic message | — | {dist["elapsed"] * 1000:.0f} ms | \
{dist["sent"]} message(s) |
| move {args.move:,} citizens ({args.move * args.devices_per_user:,} devices) to another district | \
{move_rows:,} | {move_s * 1000:.0f} ms | {move_rows / max(1, args.move * args.devices_per_user):.0f} rows/device |

An announcement costs one `announcements` row and **one** outbox row whatever the number of devices:
FCM fans the topic out. What grows with the devices is topic membership: two subscription rows per
new device (city + district), two per device when its citizen changes district. The per-token time
above is the SDK's: firebase-admin {_sdk()} manages topic membership with one HTTP request per
registration token (the v1 `registrations/…/topicSubscriptions` API that the stand-in serves), so a
batch of 1,000 tokens is 1,000 requests; the legacy Instance ID `batchAdd` (1,000 tokens per request)
is what the ≤ 1,000 batch size of the gateway follows. Initial subscription of 1 M devices is a
one-off back-fill, spread by the worker over time; day to day only new devices and moves queue rows.

{report.machine(pg, {"Database": how, "Load average (1/5/15 min) at the end": report.load_average()})}
"""
    report.write_section("topics", text, args.output)
    print(text)


async def deliver_topics(url: str, settings: Any) -> dict[str, Any]:
    """The worker's subscription pass (kinds subscribe/unsubscribe) until no due rows are left."""
    from adapters.postgres.notifications.outbox import PgOutbox
    from adapters.postgres.pool import create_pool
    from api.notifications.wiring import build_push_gateway
    from domain.notifications.delivery import DeliverPushBatch, DeliveryPolicy
    from domain.shared.time import SystemClock

    pool = await create_pool(url, max_size=4)
    gateway = await asyncio.to_thread(build_push_gateway, settings)
    totals = {"sent": 0, "batches": 0, "retried": 0, "dead": 0}
    try:
        uc = DeliverPushBatch(PgOutbox(pool), gateway, SystemClock(), DeliveryPolicy(batch_size=500))
        start = time.perf_counter()
        while (r := await uc.execute(DeliverPushBatch.TOPIC_KINDS)).claimed:
            totals["sent"] += r.sent
            totals["retried"] += r.retried
            totals["dead"] += r.dead
            totals["batches"] += 1
        elapsed = time.perf_counter() - start
    finally:
        await gateway.close()
        await pool.close()
    return {**totals, "elapsed": elapsed}


def _sdk() -> str:
    from importlib.metadata import version

    return version("firebase-admin")


if __name__ == "__main__":
    main()
