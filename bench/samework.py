"""Same-work references, captured from the real endpoints so they cannot drift from them.

quality.md judges each endpoint against "the bare app running exactly the SQL statements that the
scenario's endpoint sends (same rows in, same rows out, in one transaction where ours uses one)".
Rather than hand-copying SQL, the bench records it:

1. **Capture** (this module, in the bench process). The real service app (``create_app``, same
   database, ``DATA_DIR`` and issuer as the running service, so the scenario's tokens verify) is
   called in-process as an ASGI app with the scenario's own requests, one at a time. A hook on
   asyncpg's connection records every statement each request sends — query text, arguments, whether
   rows or a status came back — plus ``BEGIN``/``COMMIT``. A write's ``COMMIT`` is sent to PostgreSQL
   as ``ROLLBACK`` (and recorded as ``COMMIT``), so capturing leaves the database as it was.
2. **Replay** (``bench/floor_app.py``, ``GET /same-work/{name}``). The bare app runs request i's
   statements (i rotating over the captured requests) on its pool with the same methods (``fetch``,
   ``fetchrow``, ``execute``), in the same transaction boundaries, and answers the rows it got as JSON.
   What the request created gets new identities on every replay, so a write inserts new rows each
   time as the endpoint does: every UUIDv7 argument minted during the captured request (its
   timestamp lies within the request; ids of older objects do not) becomes a fresh UUIDv7, the same
   one wherever it recurs in that replay, and the request's ``Idempotency-Key`` becomes a fresh key.

The number of statements per request is the scenario's round trips to PostgreSQL (quality.md: a
retried write ≤ 4, ``BEGIN``/``COMMIT`` and the idempotency row included).
"""

from __future__ import annotations

import contextvars
import pickle
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg

if TYPE_CHECKING:  # bench.scenarios imports the floor app, which imports this module
    from bench.scenarios import BenchContext, RequestSpec

PATH = "/same-work/{name}"
_CAPTURING: contextvars.ContextVar[list[Statement] | None] = contextvars.ContextVar("capturing", default=None)


@dataclass(frozen=True)
class Statement:
    kind: str  # "fetch" (rows), "row" (first row), "status" (execute with arguments), "plain" (no arguments), "many"
    query: str
    args: tuple[Any, ...] = ()


@dataclass
class Captured:
    """One scenario's requests as statements, and what a replay must renew."""

    name: str
    requests: list[list[Statement]] = field(default_factory=list)
    minted: list[tuple[int, int]] = field(default_factory=list)  # per request: UUIDv7 ms window (start, end)
    keys: list[str] = field(default_factory=list)  # per request: its Idempotency-Key ("" if none)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def round_trips(self) -> float:
        return sum(len(r) for r in self.requests) / max(1, len(self.requests))

    def shape(self) -> list[str]:
        """The first request's statements, abbreviated, for the report."""
        return [" ".join(s.query.split())[:90] for s in self.requests[0]] if self.requests else []


def file_for(data_dir: Path, name: str) -> Path:
    return Path(data_dir) / "same-work" / f"{name}.pickle"


@contextmanager
def recording(rollback_commits: bool) -> Iterator[None]:
    """Record the statements of the requests that run under ``_CAPTURING``; leave others alone."""
    conn_cls = asyncpg.connection.Connection
    orig_exec, orig_many, orig_plain = conn_cls._execute, conn_cls._executemany, conn_cls.execute

    async def rec_execute(conn: Any, query: str, args: Any, limit: int, wait: Any, **kw: Any) -> Any:
        if (out := _CAPTURING.get()) is not None:
            kind = "status" if kw.get("return_status") else ("row" if limit == 1 else "fetch")
            out.append(Statement(kind, query, tuple(args)))
        return await orig_exec(conn, query, args, limit, wait, **kw)

    async def rec_many(conn: Any, query: str, args: Any, *a: Any, **kw: Any) -> Any:
        if (out := _CAPTURING.get()) is not None:
            args = list(args)
            out.append(Statement("many", query, tuple(tuple(x) for x in args)))
        return await orig_many(conn, query, args, *a, **kw)

    async def rec_plain(conn: Any, query: str, *args: Any, **kw: Any) -> Any:
        out = _CAPTURING.get()
        if args or out is None or query == conn.get_reset_query():
            return await orig_plain(conn, query, *args, **kw)
        out.append(Statement("plain", query))
        if rollback_commits and query.strip().rstrip(";").upper() == "COMMIT":
            query = "ROLLBACK;"
        return await orig_plain(conn, query, **kw)

    conn_cls._execute, conn_cls._executemany, conn_cls.execute = rec_execute, rec_many, rec_plain  # type: ignore[method-assign]
    try:
        yield
    finally:
        conn_cls._execute, conn_cls._executemany, conn_cls.execute = orig_exec, orig_many, orig_plain  # type: ignore[method-assign]


def _ms_now() -> int:
    return time.time_ns() // 1_000_000


WARM_UP = 3  # first requests not kept: they fill the app's caches (categories, centroids, statements)


async def capture_async(app: Any, name: str, spec: RequestSpec, requests: int) -> Captured:
    """Call ``app`` with ``requests`` of ``spec``'s requests, one at a time; record their statements."""
    from bench.inproc import Lifespan, _call, _scope

    out = Captured(name)
    kept = Captured(name)
    run_id = secrets.token_hex(4)
    write = spec.method != "GET"
    async with Lifespan(app):
        with recording(rollback_commits=write):
            for i in range(requests + WARM_UP):
                headers = dict(spec.headers[i % len(spec.headers)])
                key = f"samework-{run_id}-{i}" if spec.idempotency_keys else ""
                if key:
                    headers["Idempotency-Key"] = key
                body = spec.bodies[i % len(spec.bodies)] if spec.bodies else b""
                statements: list[Statement] = []
                token = _CAPTURING.set(statements)
                start = _ms_now()
                try:
                    status = await _call(app, _scope(spec.method, spec.path_at(i), headers, body), body)
                finally:
                    _CAPTURING.reset(token)
                out.requests.append(statements)
                out.minted.append((start, _ms_now() + 1))
                out.keys.append(key)
                out.statuses[status] = out.statuses.get(status, 0) + 1
    kept.requests, kept.minted, kept.keys = out.requests[WARM_UP:], out.minted[WARM_UP:], out.keys[WARM_UP:]
    kept.statuses = out.statuses
    return kept


def capture(ctx: BenchContext, name: str, spec: RequestSpec, requests: int) -> Captured:
    """Capture on the service app built in this process like ``bench.inproc`` does; save for the floor app."""
    import uvloop

    from api.platform.access_log import ACCESS_LOG
    from api.platform.app import create_app
    from api.platform.settings import load_settings
    from bench.procs import BENCH_QUOTAS

    settings = load_settings({**BENCH_QUOTAS, "DATABASE_URL": ctx.database_url, "DATA_DIR": str(ctx.data_dir),
                              "PUBLIC_BASE_URL": ctx.base_url, "ENVIRONMENT": "development", "STANDINS": "true",
                              "RUN_WORKER": "false", "SEED_DEMO": "false", "LOG_LEVEL": "INFO"})
    sink, ACCESS_LOG.sink = ACCESS_LOG.sink, lambda _data: None
    try:
        got = uvloop.run(capture_async(create_app(settings), name, spec, requests))
    finally:
        ACCESS_LOG.sink = sink
    ok = sum(n for s, n in got.statuses.items() if 200 <= s < 300)
    if ok < len(got.requests):
        raise RuntimeError(f"capture of {name}: statuses {got.statuses}")
    path = file_for(ctx.data_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(got))
    return got


# --- replay (imported by bench/floor_app.py) ---------------------------------------------------------

def _uuid7_ms(value: uuid.UUID) -> int:
    return value.int >> 80 if value.version == 7 else -1


class Replayer:
    """Request i of a captured scenario, renewed (see the module doc), run on a connection."""

    def __init__(self, captured: Captured) -> None:
        self.captured = captured
        self._next = 0
        self._run = secrets.token_hex(4)

    def _renew(self, i: int) -> list[Statement]:
        from domain.shared.ids import new_id

        start, end = self.captured.minted[i]
        key = self.captured.keys[i]
        fresh: dict[Any, Any] = {}
        if key:
            fresh[key] = f"{key}-{self._run}-{self._next}"

        def renew(v: Any) -> Any:
            if isinstance(v, uuid.UUID) and start <= _uuid7_ms(v) <= end:
                if v not in fresh:
                    fresh[v] = new_id()
                return fresh[v]
            if isinstance(v, str) and key and v == key:
                return fresh[key]
            if isinstance(v, list | tuple):
                return type(v)(renew(x) for x in v)
            return v

        return [Statement(s.kind, s.query, tuple(renew(a) for a in s.args)) for s in self.captured.requests[i]]

    async def run(self, conn: Any) -> list[Any]:
        i = self._next % len(self.captured.requests)
        statements = self._renew(i)
        self._next += 1
        rows: list[Any] = []
        try:
            await self._each(conn, statements, rows)
        except BaseException:
            if conn.is_in_transaction():  # the pool has no reset query: leave the connection clean
                await conn.execute("ROLLBACK")
            raise
        return rows

    @staticmethod
    async def _each(conn: Any, statements: list[Statement], rows: list[Any]) -> None:
        for s in statements:
            if s.kind == "plain":
                await conn.execute(s.query)
            elif s.kind == "status":
                await conn.execute(s.query, *s.args)
            elif s.kind == "many":
                await conn.executemany(s.query, s.args)
            elif s.kind == "row":
                row = await conn.fetchrow(s.query, *s.args)
                rows.append(dict(row) if row is not None else None)
            else:
                rows.append([dict(r) for r in await conn.fetch(s.query, *s.args)])


def load(data_dir: Path, name: str) -> Replayer:
    return Replayer(pickle.loads(file_for(data_dir, name).read_bytes()))  # noqa: S301 - written by this bench


