"""Two ``thudo worker`` processes deliver 100,000 queued pushes exactly once (issue 14, "Push").

    uv run python -m bench.push_two_workers [--messages 100000] [--workers 2] [--in-flight 8]

A fresh migrated database; the service (``thudo serve``, one granian worker) serving the FCM stand-in;
``--workers`` worker processes started idle, exactly as deployed (``python -m api.platform.cli worker``,
firebase-admin's ``send_each_async`` against the stand-in). The messages are committed at once, the
workers wake on the NOTIFY and drain the outbox; the clock runs from the commit to the last row sent.

Exactly once: every outbox row ends ``sent`` (so FCM accepted each at least once) and the stand-in's own
count of accepted messages equals the number of rows (so none was accepted twice). Each worker's share
comes from its metrics (``thudo_push_sent_total``). Prints the result; numbers go to docs/performance.md
by hand (the ``notifications`` section is another bench's).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import asyncpg
import httpx

from adapters.postgres.embedded import EmbeddedPostgres
from bench import procs, report
from bench.database import bench_database, postgres_version, server_url
from bench.notifications_bench import queue


def _metric(base_url: str, name: str) -> float:
    for line in httpx.get(base_url, timeout=5).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


async def _drain(url: str, limit_s: float) -> dict[str, int]:
    """Polls (one connection) until no message row is pending; the outbox's states at that moment."""
    conn = await asyncpg.connect(url)
    try:
        deadline = time.perf_counter() + limit_s
        while True:
            rows = await conn.fetch("SELECT status, count(*) AS n FROM push_outbox WHERE kind = 'token' GROUP BY 1")
            states = {r["status"]: r["n"] for r in rows}
            if not states.get("pending") or time.perf_counter() > deadline:
                return states
            await asyncio.sleep(0.25)
    finally:
        await conn.close()


def _worker(url: str, data_dir: Path, service_port: int, in_flight: int) -> procs.ServerProcess:
    # STANDINS on and no FCM_ENDPOINT: the gateway targets the stand-in at http://HOST:PORT, the service's.
    metrics = procs.free_port()
    env = {
        "DATABASE_URL": url,
        "DATA_DIR": str(data_dir),
        "ENVIRONMENT": "development",
        "STANDINS": "true",
        "DB_POOL_MAX": "4",
        "HOST": "127.0.0.1",
        "PORT": str(service_port),
        "LOG_LEVEL": "WARNING",
        "FCM_MAX_IN_FLIGHT": str(in_flight),
        "WORKER_METRICS_PORT": str(metrics),
        **procs.BENCH_QUOTAS,
    }
    return procs.ServerProcess("worker", [sys.executable, "-m", "api.platform.cli", "worker"], env, metrics)


_REQUEUE = """UPDATE push_outbox SET status = 'pending', claim_id = NULL, attempts = 0, available_at = now(),
                                   finished_at = NULL, last_error = NULL WHERE kind = 'token'"""


async def _requeue(url: str) -> None:
    """The same messages again for the next round, in one commit (which wakes the workers)."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DELETE FROM push_outbox WHERE kind <> 'token'")
        await conn.execute(_REQUEUE)
    finally:
        await conn.close()


def _accepted(service: procs.ServerProcess) -> int:
    return int(httpx.get(service.base_url + "/dev/push/deliveries", params={"limit": 1}).json()["delivered"])


def _round(
    url: str, data_dir: Path, svc: procs.ServerProcess, n_workers: int, args: argparse.Namespace, first: bool
) -> dict[str, object]:
    workers = [_worker(url, data_dir, svc.port, args.in_flight) for _ in range(n_workers)]
    try:
        for w in workers:
            w.wait_ready("/metrics")
        before = _accepted(svc)
        asyncio.run(queue(url, args.messages) if first else _requeue(url))
        queued = time.perf_counter()
        states = asyncio.run(_drain(url, args.timeout))
        elapsed = time.perf_counter() - queued
        shares = [_metric(w.base_url, "thudo_push_sent_total") for w in workers]
    finally:
        for w in workers:
            w.stop()
    accepted = _accepted(svc) - before
    sent = states.get("sent", 0)
    return {
        "workers": n_workers,
        "elapsed": elapsed,
        "rate": sent / elapsed,
        "states": states,
        "accepted": accepted,
        "shares": shares,
        "exactly_once": sent == args.messages == accepted and not states.get("pending"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--in-flight", type=int, default=8, help="FCM_MAX_IN_FLIGHT per worker process")
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument(
        "--own-postgres",
        action="store_true",
        help="an embedded PostgreSQL of its own (the shared server's connection slots may be taken)",
    )
    args = ap.parse_args()
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="thudo-push2-"))
        if args.own_postgres:
            embedded = EmbeddedPostgres(Path(tmp) / "pg")
            server = embedded.start()
            stack.callback(embedded.stop)
        else:
            server = stack.enter_context(server_url())[0]
        url = stack.enter_context(bench_database(server))
        data_dir = Path(tmp) / "data"
        pg = asyncio.run(postgres_version(url))
        load_before = report.load_average()
        with procs.running("service", procs.service(url, data_dir, {"DB_POOL_MAX": "4"})) as svc:
            # The reference first (one worker process), then the same messages again with --workers.
            rounds = [
                _round(url, data_dir, svc, n, args, first=i == 0)
                for i, n in enumerate(dict.fromkeys((1, args.workers)))
            ]
    print(report.machine(pg, {"Load average (1/5/15 min) before → after": f"{load_before} → {report.load_average()}"}))
    for r in rounds:
        print(
            f"{r['workers']} worker process(es), FCM_MAX_IN_FLIGHT={args.in_flight}: {args.messages:,} messages in "
            f"{r['elapsed']:.1f} s after the queueing commit = {r['rate']:,.0f}/s "
            f"({r['rate'] / rounds[0]['rate']:.2f} × one worker); rows {r['states']}; stand-in accepted "
            f"{r['accepted']:,}; per worker {', '.join(f'{s:,.0f}' for s in r['shares'])}; "
            f"exactly once: {'yes' if r['exactly_once'] else 'NO'}"
        )
    if not all(r["exactly_once"] for r in rounds):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
