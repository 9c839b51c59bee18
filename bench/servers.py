"""Server choice: the floor app under granian and under uvicorn, same run, same machine.

    uv run python -m bench.servers [--duration 10]

Two endpoints: plain JSON (server + framework only) and the floor's one indexed query. Each
(endpoint, server) pair is measured ``rounds`` times, alternating servers, and averaged. Writes
the ``servers`` section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from collections.abc import Sequence
from pathlib import Path

from bench import procs, report
from bench.database import bench_database, postgres_version, server_url
from bench.floor_app import FLOOR_PATH, PLAIN_PATH
from bench.run import Options
from bench.scenarios import RequestSpec
from bench.wrk import WrkResult, ensure_wrk, run_wrk

SERVERS = ("granian", "uvicorn")
ENDPOINTS = (("plain JSON, no database", PLAIN_PATH), ("one indexed query (the floor)", FLOOR_PATH))


def compare(opts: Options, database_url: str, rounds: int = 2) -> dict[tuple[str, str], list[WrkResult]]:
    results: dict[tuple[str, str], list[WrkResult]] = {}
    with procs.running("floor app (granian)", procs.floor_app(database_url, "granian")) as granian, \
            procs.running("floor app (uvicorn)", procs.floor_app(database_url, "uvicorn")) as uvicorn:
        urls = {"granian": granian.base_url, "uvicorn": uvicorn.base_url}
        for label, path in ENDPOINTS:
            spec = RequestSpec("GET", path, ({},))
            for server in SERVERS:
                if opts.warmup:
                    run_wrk(urls[server], spec, duration=opts.warmup, connections=opts.connections,
                            threads=opts.threads, wrk=opts.wrk)
            for _ in range(rounds):
                for server in SERVERS:
                    results.setdefault((label, server), []).append(run_wrk(
                        urls[server], spec, duration=opts.duration, connections=opts.connections,
                        threads=opts.threads, wrk=opts.wrk))
    return results


def render(results: dict[tuple[str, str], list[WrkResult]], opts: Options, machine: str, rounds: int) -> str:
    out = [
        "## Server choice: granian versus uvicorn",
        "",
        f"`uv run python -m bench.servers --duration {opts.duration:g} --rounds {rounds}` — the floor app "
        "(bench/floor_app.py) with 1 worker under each server; "
        f"wrk {opts.threads} threads × {opts.connections} connections, "
        f"{opts.duration:g} s per measurement, servers alternating; neither uvloop nor httptools is installed, "
        "so both run on the standard asyncio loop (uvicorn with its h11 parser).",
        "",
        machine,
        "",
        "| Endpoint | Server | req/s (mean) | runs | p50 ms | p99 ms | errors | vs uvicorn |",
        "|---|---|---:|---|---:|---:|---:|---:|",
    ]
    for label, _ in ENDPOINTS:
        base = statistics.mean(r.rps for r in results[(label, "uvicorn")])
        for server in SERVERS:
            runs = results[(label, server)]
            mean = statistics.mean(r.rps for r in runs)
            p50, p99 = statistics.mean(r.p50_ms for r in runs), statistics.mean(r.p99_ms for r in runs)
            out.append(f"| {label} | {server} | {mean:,.0f} | {' / '.join(f'{r.rps:,.0f}' for r in runs)} | "
                       f"{p50:.1f} | {p99:.1f} | {sum(r.errors for r in runs)} | {mean / base:.2f} × |")
    return "\n".join(out)


def compare_and_write(opts: Options, database_url: str, postgres: str, output: Path = report.DOC,
                      rounds: int = 2) -> dict[tuple[str, str], list[WrkResult]]:
    load_before = report.load_average()
    results = compare(opts, database_url, rounds)
    machine = report.machine(postgres, {"Load average (1/5/15 min) before → after":
                                        f"{load_before} → {report.load_average()}"})
    report.write_section("servers", render(results, opts, machine, rounds), output)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.servers", description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--rounds", type=int, default=2, help="measurements per (endpoint, server), alternating")
    p.add_argument("--output", type=Path, default=report.DOC)
    args = p.parse_args(argv)
    wrk = ensure_wrk()
    if wrk is None:
        raise SystemExit("wrk not found (Debian: apt-get install wrk)")
    opts = Options(args.duration, args.connections, args.threads, args.warmup, wrk)
    with server_url() as (server, _), bench_database(server) as db:
        results = compare_and_write(opts, db, asyncio.run(postgres_version(db)), args.output, args.rounds)
    for (label, server), runs in results.items():
        print(f"{label} / {server}: {statistics.mean(r.rps for r in runs):,.0f} req/s")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
