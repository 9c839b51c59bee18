"""What read routing (``DATABASE_READ_URL``) costs per request, in-process (bench.inproc's method).

A throw-away primary and hot standby are made from the embedded binaries (tests/support/replica.py).
The same service app is built three times on the same primary: without a replica (the reference),
with the standby and in-process read-your-writes marks, and with the standby and marks in Redis
(when 127.0.0.1:6379 answers). Each is driven as an ASGI app in this process on uvloop,
interleaved round by round; CPU is this process's own time per request (PostgreSQL runs apart), so
the difference is what routing adds on our side: the route decision and mark lookup on reads, the
WAL position query and mark write after each commit, the background poller.

    uv run python -m bench.read_routing [--requests 2000] [--rounds 3] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import redis
import uvloop
from prometheus_client import REGISTRY

from adapters.postgres.scratch import with_database
from bench import report
from bench.database import bench_database, postgres_version
from bench.inproc import Lifespan, _service, drive
from bench.procs import BENCH_QUOTAS
from bench.scenarios import BenchContext, RequestSpec, Scenario, select
from tests.support.replica import primary_and_standby

SCENARIOS = ("identity.me", "feedback.my_reports", "feedback.create")


def _redis() -> str:
    try:
        redis.Redis(socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return ""
    return "redis://127.0.0.1:6379/14"


def _reads() -> dict[tuple[str, str], float]:
    return {
        (s.labels["server"], s.labels["reason"]): s.value
        for m in REGISTRY.collect()
        if m.name == "thudo_db_reads"
        for s in m.samples
        if s.name == "thudo_db_reads_total"
    }


async def _measure(
    apps: dict[str, Any], targets: list[tuple[Scenario, RequestSpec]], *, requests: int, rounds: int, concurrency: int
) -> dict[tuple[str, str], list[tuple[float, float]]]:
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
    routes: dict[tuple[str, str], dict[tuple[str, str], float]] = {}
    lifespans = [Lifespan(app) for app in apps.values()]
    for lifespan in lifespans:
        await lifespan.__aenter__()
    try:
        await asyncio.sleep(1.0)  # the pollers' first answers
        for app in apps.values():  # warm-up: statement caches, pools, token caches
            for _, spec in targets:
                await drive(app, spec, min(300, requests), concurrency)
        for _ in range(rounds):
            for sc, spec in targets:
                for name, app in apps.items():
                    before = _reads()
                    sample = await drive(app, spec, requests, concurrency)
                    after = _reads()
                    routes[(sc.name, name)] = {
                        k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)
                    }
                    samples.setdefault((sc.name, name), []).append((sample.cpu_us, sample.wall_us))
                    print(
                        f"  {sc.name} / {name}: {sample.cpu_us:.0f} µs CPU, {sample.wall_us:.0f} µs wall, "
                        f"{sample.statuses}, reads {routes[(sc.name, name)]}",
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        for lifespan in reversed(lifespans):
            await lifespan.__aexit__()
    _ROUTES.update(routes)
    return samples


_ROUTES: dict[tuple[str, str], dict[tuple[str, str], float]] = {}


def render(
    samples: dict[tuple[str, str], list[tuple[float, float]]],
    references: dict[str, str],
    scenarios: list[str],
    opts: argparse.Namespace,
    machine: str,
) -> str:
    out = [
        "## Read routing, in-process (what `DATABASE_READ_URL` costs per request)",
        "",
        f"`uv run python -m bench.read_routing --requests {opts.requests} --rounds {opts.rounds} "
        f"--concurrency {opts.concurrency}` — the service app without a replica, with a real hot standby and "
        "in-process read-your-writes marks, and (when Redis answers) both again with `REDIS_URL` set, the "
        "marks then in Redis; each routed variant against the same app without a replica and the same "
        "`REDIS_URL` (Redis also counts rate limits and quotas), same primary, interleaved, medians of the "
        "rounds. CPU is this process's own time (both PostgreSQL servers run apart, on the same two cores).",
        "",
        machine,
        "",
        "| Scenario | App | CPU µs/request | CPU − reference | × reference CPU | wall µs/request "
        "| × reference wall | reads served by |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for sc in scenarios:
        for name, reference in references.items():
            cpu = statistics.median(c for c, _ in samples[(sc, name)])
            wall = statistics.median(w for _, w in samples[(sc, name)])
            ref_cpu = statistics.median(c for c, _ in samples[(sc, reference)])
            ref_wall = statistics.median(w for _, w in samples[(sc, reference)])
            served = (
                ", ".join(
                    f"{server} ({reason}): {n:.0f}"
                    for (server, reason), n in sorted(_ROUTES.get((sc, name), {}).items())
                )
                or "—"
            )
            out.append(
                f"| {sc} | {name} | {cpu:.0f} | {cpu - ref_cpu:+.0f} | {cpu / ref_cpu:.2f} | {wall:.0f} "
                f"| {wall / ref_wall:.2f} | {served} |"
            )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.read_routing", description=__doc__.split("\n")[0])
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--scenarios", nargs="*", default=list(SCENARIOS))
    p.add_argument("--output", type=Path, default=report.DOC)
    opts = p.parse_args(argv)

    from api.platform.access_log import ACCESS_LOG
    from api.platform.app import create_app
    from api.platform.settings import load_settings

    scenarios = select(opts.scenarios)
    with (
        primary_and_standby() as cluster,
        bench_database(cluster.primary.url) as db,
        tempfile.TemporaryDirectory(prefix="thudo-routing-") as tmp,
        _service(db, Path(tmp)) as service_url,
    ):
        replica = with_database(cluster.standby.url, db.rsplit("/", 1)[1])
        ctx = BenchContext(service_url, db, Path(tmp))
        targets = [(sc, sc.prepare(ctx)) for sc in scenarios]
        base = {
            **BENCH_QUOTAS,
            "DATABASE_URL": db,
            "DATA_DIR": tmp,
            "PUBLIC_BASE_URL": service_url,
            "ENVIRONMENT": "development",
            "STANDINS": "true",
            "RUN_WORKER": "false",
            "SEED_DEMO": "false",
            "LOG_LEVEL": "INFO",
        }
        # name: (settings, the variant it is compared with)
        variants: dict[str, tuple[dict[str, str], str]] = {
            "no replica": ({}, "no replica"),
            "standby, marks in-process": ({"DATABASE_READ_URL": replica}, "no replica"),
        }
        if redis_url := _redis():
            variants["no replica, REDIS_URL"] = ({"REDIS_URL": redis_url}, "no replica, REDIS_URL")
            variants["standby, marks in Redis"] = (
                {"DATABASE_READ_URL": replica, "REDIS_URL": redis_url},
                "no replica, REDIS_URL",
            )
        # Each app builds its own container (pool, router) in its lifespan.
        apps = {name: create_app(load_settings({**base, **extra})) for name, (extra, _) in variants.items()}
        sink, ACCESS_LOG.sink = ACCESS_LOG.sink, lambda _data: None
        try:
            samples = uvloop.run(
                _measure(apps, targets, requests=opts.requests, rounds=opts.rounds, concurrency=opts.concurrency)
            )
        finally:
            ACCESS_LOG.sink = sink
        machine = report.machine(
            asyncio.run(postgres_version(db)),
            {
                "Load generator": f"none: {opts.concurrency} in-process ASGI calls in flight (uvloop)",
                "Database": "throw-away primary + hot standby (embedded binaries, fsync off)",
            },
        )
    references = {name: reference for name, (_, reference) in variants.items()}
    markdown = render(samples, references, [sc.name for sc in scenarios], opts, machine)
    report.write_section("read-routing", markdown, opts.output)
    print(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
