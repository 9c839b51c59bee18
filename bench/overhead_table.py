"""Where a request's CPU goes, ours versus its same work, from ``bench.inproc --profile DIR``'s cProfile files.

Each side's profile is scaled to a measured CPU per request (non-profiled ``bench.inproc``; cProfile
inflates Python calls, so the rows are shares of the measured figure, not exact µs).

    uv run python -m bench.overhead_table /tmp/prof --requests 1500 \\
        --cpu identity.me=283:183 feedback.my_reports=479:329 feedback.create=775:411 judicial.queue=1478:641
"""

from __future__ import annotations

import argparse
import pstats
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HANDLERS = {"identity.me": ("me", "api/identity/me.py"),
            "feedback.my_reports": ("mine", "api/feedback/citizen.py"),
            "feedback.create": ("create", "api/feedback/citizen.py"),
            "judicial.queue": ("queue", "api/judicial/staff.py"),
            "transit.pass_credential": ("credential", "api/transit/citizen.py"),
            "health.timeline": ("timeline", "api/health/citizen.py"),
            "judicial.draft": ("create", "api/judicial/citizen.py")}
# Named parts of a handler's own code (its statements excluded), shown apart from the rest of it.
HANDLER_PARTS = {
    "transit.pass_credential": {
        "credential signed (ECDSA P-256, `sign_credential`)": ("sign_credential", "domain/transit/issuing.py"),
        "transit wiring per request (`deps`: 12 adapters, the signer)": ("deps", "api/transit/common.py")},
    "health.timeline": {
        "health wiring per request (`health()`: adapters and use cases)": ("health", "api/health/wiring.py"),
        "rows decoded (`stored`: each item's JSON into RecordItem)": ("stored", "adapters/postgres/health/record.py")},
}


def _cum(st: dict[Any, Any], fn: str, path: str, n: int) -> float:
    return sum(v[3] for (f, _l, name), v in st.items() if name == fn and f.endswith(path)) / n * 1e6


def _plain(st: dict[Any, Any], n: int) -> float:
    """``Connection.execute`` without arguments (BEGIN, COMMIT): its time minus the bound statements it ran."""
    inner = sum(v[3] for (f, _l, name), (_cc, _nc, _tt, _ct, callers) in st.items()
                if name == "_execute" and f.endswith("asyncpg/connection.py")
                for (cf, _cl, cn), v in callers.items() if cn == "execute" and cf.endswith("asyncpg/connection.py"))
    return _cum(st, "execute", "asyncpg/connection.py", n) - inner / n * 1e6


def parts(st: dict[Any, Any], n: int, handler: tuple[str, str] | None,
          named: dict[str, tuple[str, str]] | None = None) -> dict[str, float]:
    """``handler`` None: a same-work row on the floor app. ``named``: parts of the handler shown apart."""
    c = lambda fn, path: _cum(st, fn, path, n)  # noqa: E731
    total = c("middleware", "api/platform/observability.py") if handler else c("__call__", "litestar/app.py")
    statements = c("_do_execute", "asyncpg/connection.py") + _plain(st, n)
    pool = c("_acquire", "asyncpg/pool.py") + c("release", "asyncpg/pool.py")
    out = {"total": total, "statements (asyncpg, socket send included)": statements, "pool acquire + release": pool,
           "observability middleware (request id, headers, metrics, access line)":
               total - c("__call__", "litestar/_asgi/asgi_router.py") if handler else 0.0,
           "before_request: text guard, token, content type (statements excluded)":
               c("before_request", "api/platform/app.py") - c("current", "adapters/postgres/identity/repositories.py")
               if handler else 0.0,
           "response encoding (to_response)": c("to_response", "litestar/handlers/http_handlers/base.py")}
    if handler:
        fn, path = handler
        # Its statements: through the read-only connection, else (a transactional handler) asyncpg's own.
        read_only = sum(c(m, "adapters/postgres/uow.py") for m in ("fetch", "fetchrow", "fetchval"))
        inside = (c("_do_execute", "asyncpg/connection.py") if fn == "create" else read_only or
                  sum(c(m, "asyncpg/connection.py") for m in ("fetch", "fetchrow", "fetchval")))
        apart = {label: c(*where) for label, where in (named or {}).items()}
        out["handler and domain code (its statements excluded)"] = c(fn, path) - inside - sum(apart.values())
        out.update({f"… {label}": v for label, v in apart.items()})
    else:
        handler_own = c("same_work", "bench/floor_app.py") - statements - pool
        out["handler and domain code (its statements excluded)"] = handler_own
    return out


def table(directory: Path, name: str, n: int, ours_cpu: float, ref_cpu: float) -> str:
    a = parts(pstats.Stats(str(directory / f"{name}.pstats")).stats, n, HANDLERS[name],  # type: ignore[attr-defined]
              HANDLER_PARTS.get(name))
    b = parts(pstats.Stats(str(directory / f"{name} (same work).pstats")).stats, n, None)  # type: ignore[attr-defined]
    fa, fb = ours_cpu / a["total"], ref_cpu / b["total"]
    rows = [f"`{name}`", "", "| Where | ours µs | same work µs |", "|---|---:|---:|"]
    rows += [f"| {k} | {a[k] * fa:.0f} | {b.get(k, 0.0) * fb:.0f} |" for k in a if k != "total"]
    rest_a = a["total"] - sum(v for k, v in a.items() if k != "total")
    rest_b = b["total"] - sum(v for k, v in b.items() if k != "total")
    rows.append(f"| the rest: Litestar (routing, middleware layers, DI, kwargs), unit of work | {rest_a * fa:.0f} | "
                f"{rest_b * fb:.0f} |")
    rows.append(f"| **whole request** | **{ours_cpu:.0f}** | **{ref_cpu:.0f}** |")
    return "\n".join(rows)


def _where(path: str) -> str:
    for marker in ("site-packages/", "/lib/python3."):
        if marker in path:
            tail = path.split(marker, 1)[1]
            return tail.split("/", 1)[1] if marker.startswith("/lib") else tail
    for top in ("api/", "domain/", "adapters/", "bench/"):
        if f"/{top}" in path:
            return top + path.split(f"/{top}", 1)[1]
    return path


def top(directory: Path, name: str, ours_cpu: float, count: int) -> str:
    """The functions with the largest cumulative share of the request (the profile's whole request: the
    observability middleware's cumulative time), each share also as µs of the measured CPU; the layers every
    request passes through whole (Litestar's middleware and routing layers, ≥ 85 %) are left out."""
    st = pstats.Stats(str(directory / f"{name}.pstats")).stats  # type: ignore[attr-defined]
    total = sum(v[3] for (f, _l, fn), v in st.items()
                if fn == "middleware" and f.endswith("api/platform/observability.py"))
    rows = []
    for (f, line, fn), (_cc, _nc, _tt, ct, _callers) in st.items():
        share = ct / total
        if share >= 0.85 or share < 0.02 or f == "~":
            continue
        rows.append((share, f"`{_where(f)}:{line}({fn})`"))
    rows.sort(reverse=True)
    out = [f"`{name}`: top functions by cumulative share of the request (whole request {ours_cpu:.0f} µs CPU)", "",
           "| Function | share | µs |", "|---|---:|---:|"]
    out += [f"| {where} | {share * 100:.1f} % | {share * ours_cpu:.0f} |" for share, where in rows[:count]]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.overhead_table", description=__doc__.split("\n")[0])
    p.add_argument("directory", type=Path)
    p.add_argument("--requests", type=int, required=True,
                   help="requests per profiled row (bench.inproc --requests × rounds)")
    p.add_argument("--cpu", nargs="+", required=True, metavar="NAME=OURS:SAME",
                   help="measured CPU µs per request of the scenario and of its same work")
    p.add_argument("--top", type=int, default=0, help="also list the N functions with the largest cumulative share")
    opts = p.parse_args(argv)
    for item in opts.cpu:
        name, _, pair = item.partition("=")
        ours, _, ref = pair.partition(":")
        print(table(opts.directory, name, opts.requests, float(ours), float(ref)) + "\n")
        if opts.top:
            print(top(opts.directory, name, float(ours), opts.top) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
