"""Where the request path's CPU goes: the service app with one layer at a time taken out, in-process.

A sampling profiler cannot attribute a request's CPU on this VM (py-spy puts most samples in asyncpg's
socket send, and its stacks of resumed coroutines are partial); cProfile inflates every small call. Here
the service app is built several times in one process, each variant without one piece of the request
path (the observability middleware, compression, the access line, Litestar's dependency injection for
``uow``/``principal``…), and all variants are driven by turns like ``bench.inproc`` does: the CPU a
variant saves per request is what that piece costs. The variants are measurement devices only (some
skip security checks); nothing here is a configuration to run.

    uv run python -m bench.ablate --scenarios identity.me feedback.my_reports --requests 3000 --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import uvloop

from bench.database import run_database
from bench.inproc import Lifespan, _service, drive
from bench.scenarios import FLOOR, BenchContext, select


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _variants() -> dict[str, Callable[[], Any]]:
    import api.platform.app as app_mod

    def no_observability() -> Any:
        return mock.patch.object(app_mod, "observability_middleware", lambda handler: handler)

    def no_compression() -> Any:
        return mock.patch.object(app_mod, "CompressionConfig", return_value=None)

    def no_content_type_check() -> Any:
        async def skip(_request: Any) -> None:
            return None
        return mock.patch.object(app_mod, "require_declared_content_type", skip)

    def no_text_guard() -> Any:
        return mock.patch.object(app_mod, "check_query_and_path", return_value=None)

    return {"as is": _nothing, "no observability middleware": no_observability, "no compression": no_compression,
            "no content-type/body check": no_content_type_check,
            "no query/path text guard": no_text_guard}


async def _measure(apps: dict[str, Any], floor_app: Any, specs: list[tuple[str, Any]], floor_spec: Any,
                   requests: int, rounds: int, concurrency: int) -> dict[tuple[str, str], list[float]]:
    out: dict[tuple[str, str], list[float]] = {}
    async with Lifespan(floor_app):
        stack = []
        for app in apps.values():
            lifespan = Lifespan(app)
            await lifespan.__aenter__()
            stack.append(lifespan)
        try:
            for _name, spec in specs:
                for app in apps.values():
                    await drive(app, spec, max(300, len(spec.headers)), concurrency)
            await drive(floor_app, floor_spec, 300, concurrency)
            for _ in range(rounds):
                s = await drive(floor_app, floor_spec, requests, concurrency)
                out.setdefault(("floor", ""), []).append(s.cpu_us)
                for name, spec in specs:
                    for variant, app in apps.items():
                        s = await drive(app, spec, requests, concurrency)
                        out.setdefault((name, variant), []).append(s.cpu_us)
                        print(f"  {name} / {variant}: {s.cpu_us:.0f} µs CPU {s.statuses}", file=sys.stderr, flush=True)
        finally:
            for lifespan in reversed(stack):
                await lifespan.__aexit__()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.ablate", description=__doc__.split("\n")[0])
    p.add_argument("--requests", type=int, default=3000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--scenarios", nargs="*", default=["identity.me", "feedback.my_reports"])
    opts = p.parse_args(argv)
    from api.platform.access_log import ACCESS_LOG
    from api.platform.app import create_app
    from api.platform.settings import load_settings
    from bench.floor_app import create_app as create_floor_app
    from bench.procs import BENCH_QUOTAS

    with run_database(None) as (db, _how), tempfile.TemporaryDirectory(prefix="thudo-ablate-") as tmp, \
            _service(db, Path(tmp)) as service_url:
        ctx = BenchContext(service_url, db, Path(tmp))
        specs = [(sc.name, sc.prepare(ctx)) for sc in select(opts.scenarios)]
        floor_spec = FLOOR.prepare(BenchContext("", db, Path(tmp)))
        settings = load_settings({**BENCH_QUOTAS, "DATABASE_URL": db, "DATA_DIR": tmp, "PUBLIC_BASE_URL": service_url,
                                  "ENVIRONMENT": "development", "STANDINS": "true", "RUN_WORKER": "false",
                                  "SEED_DEMO": "false", "LOG_LEVEL": "INFO"})
        apps: dict[str, Any] = {}
        for variant, patch in _variants().items():
            with ExitStack() as stack:
                stack.enter_context(patch())
                apps[variant] = create_app(settings)
        sink, ACCESS_LOG.sink = ACCESS_LOG.sink, lambda _data: None
        try:
            got = uvloop.run(_measure(apps, create_floor_app(db, tmp), specs, floor_spec, opts.requests, opts.rounds,
                                      opts.concurrency))
        finally:
            ACCESS_LOG.sink = sink
    floor = statistics.median(got[("floor", "")])
    print(f"\nfloor: {floor:.0f} µs CPU/request (median of {opts.rounds})")
    for name, _ in specs:
        base = statistics.median(got[(name, "as is")])
        print(f"\n| {name} | CPU µs/request | saved vs as is |\n|---|---:|---:|")
        for variant in apps:
            v = statistics.median(got[(name, variant)])
            print(f"| {variant} | {v:.0f} | {base - v:+.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
