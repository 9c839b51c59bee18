"""HTTP load bench: the real service against the bare floor app, in the same run.

    uv run python -m bench.run [--duration 15] [--connections 64] [--scenarios platform.ready ...] [--servers]

For each scenario: maximum throughput (closed loop, wrk), bracketed by floor runs before and after
(floor, scenario, floor, next scenario, floor, …) so that drift on a noisy machine hits both sides;
then p50/p95/p99 at half of that maximum (open loop, bench/rate.py). Writes the ``http`` section of
docs/performance.md (``--servers`` also the ``servers`` section, see bench/servers.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import procs, report, samework
from bench.database import postgres_version, run_database, vacuum_analyze
from bench.rate import RateResult, run_rate
from bench.scenarios import FLOOR, REFERENCES, BenchContext, RequestSpec, Scenario, select
from bench.wrk import WrkResult, ensure_wrk, run_wrk

# Above this share of failed requests a measurement says nothing about the endpoint.
MAX_ERROR_SHARE = 0.01
SAME_WORK_TARGET = 0.80  # quality.md: every endpoint ≥ 0.80 of its same-work reference
WRITE_ROUND_TRIPS = 4  # quality.md: a write that a mobile client retries, BEGIN/COMMIT and idempotency row included


@dataclass(frozen=True)
class Options:
    duration: float = 10.0
    connections: int = 64
    threads: int = 2
    warmup: float = 2.0
    wrk: str = "wrk"
    rounds: int = 1  # closed-loop measurements per scenario, each between two floor runs
    windows: int = 5  # open-loop windows per target (quality.md: each p99 verdict from ≥ 5)
    same_work: bool = True  # capture each scenario's statements and measure the bare app running them
    captured: int = 200  # requests captured per scenario (replayed in rotation)


@dataclass
class Measured:
    name: str
    kind: str
    note: str
    target_ratio: float
    p99_budget_ms: float
    runs: list[WrkResult] = field(default_factory=list)
    brackets: list[float] = field(default_factory=list)  # per run: mean of the floor runs just before and after
    opens: list[RateResult] = field(default_factory=list)  # open-loop windows at half the maximum rate
    reference: bool = False  # measured on the floor app for explanation; no verdict
    failure: str = ""  # setup or load generation failed; shown in the report instead of numbers
    floor_target: float | None = None  # single-object reads: ≥ this share of the one-row floor
    # Same work (bench/samework.py): the floor app running the statements this scenario's requests sent.
    same_runs: list[WrkResult] = field(default_factory=list)
    same_brackets: list[float] = field(default_factory=list)
    same_opens: list[RateResult] = field(default_factory=list)
    round_trips: float | None = None
    statements: list[str] = field(default_factory=list)

    @property
    def open(self) -> RateResult | None:
        """The window with the median p99."""
        return sorted(self.opens, key=lambda r: r.p99_ms)[len(self.opens) // 2] if self.opens else None

    @property
    def same_rps(self) -> float:
        return statistics.median(r.rps for r in self.same_runs)

    @property
    def same_ratios(self) -> list[float]:
        """Per round: the scenario's req/s ÷ its same-work reference's, each over its own floor bracket
        (so drift between the two runs cancels)."""
        return [(r.rps / b) / (s.rps / sb) for r, b, s, sb in
                zip(self.runs, self.brackets, self.same_runs, self.same_brackets, strict=True)]

    @property
    def rps(self) -> float:
        return statistics.median(r.rps for r in self.runs)

    @property
    def floor_rps(self) -> float:
        return statistics.median(self.brackets)

    @property
    def ratios(self) -> list[float]:
        return [r.rps / b for r, b in zip(self.runs, self.brackets, strict=True)]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.runs)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.runs)


@dataclass
class HttpRun:
    floors: list[WrkResult]
    floor_open: RateResult
    scenarios: list[Measured]
    order: list[tuple[str, WrkResult]]


def _closed(opts: Options, base_url: str, spec: RequestSpec, name: str, duration: float | None = None) -> WrkResult:
    r = run_wrk(base_url, spec, duration=duration or opts.duration, connections=opts.connections,
                threads=opts.threads, wrk=opts.wrk)
    if duration is None:
        print(f"  {name}: {r.rps:,.0f} req/s, p99 {r.p99_ms:.1f} ms, {r.errors} errors", file=sys.stderr, flush=True)
    return r


def _open(opts: Options, base_url: str, spec: RequestSpec, max_rps: float, name: str) -> RateResult:
    r = asyncio.run(run_rate(base_url, spec, rate=max(1.0, max_rps / 2), duration=opts.duration,
                             connections=opts.connections))
    print(f"  {name} at {r.target_rps:,.0f} req/s (open loop): p99 {r.p99_ms:.1f} ms, {r.errors} errors",
          file=sys.stderr, flush=True)
    return r


def measure(opts: Options, floor_url: str, service_url: str, database_url: str, data_dir: Path,
            scenarios: Sequence[Scenario], references: Sequence[Scenario] = ()) -> HttpRun:
    """floor, then per target (target, floor) × rounds, open loop at half rate after each scenario.

    A scenario's rounds run back to back right after its ``setup``, so its tokens stay fresh
    however many scenarios there are.
    """
    floor_spec = FLOOR.prepare(BenchContext(floor_url, database_url, data_dir))
    if opts.warmup:
        _closed(opts, floor_url, floor_spec, "floor", opts.warmup)
    floors = [_closed(opts, floor_url, floor_spec, "floor")]
    order: list[tuple[str, WrkResult]] = [("floor", floors[0])]
    measured: list[Measured] = []
    # References last: one of them reads the reports the scenarios created.
    targets = [*((sc, service_url, False) for sc in scenarios), *((sc, floor_url, True) for sc in references)]
    for sc, url, reference in targets:
        m = Measured(sc.name, sc.kind, sc.note, sc.target_ratio, sc.p99_budget_ms, reference=reference,
                     floor_target=sc.floor_target)
        measured.append(m)
        try:
            ctx = BenchContext(url, database_url, data_dir)
            spec = sc.prepare(ctx)
            if not reference:
                took = asyncio.run(vacuum_analyze(database_url))
                print(f"  {sc.name}: set up; VACUUM (ANALYZE) {took:.1f} s", file=sys.stderr, flush=True)
            same = None
            if not reference and opts.same_work and sc.same_work:
                got = samework.capture(ctx, sc.name, spec, opts.captured)
                m.round_trips, m.statements = got.round_trips, got.shape()
                same = RequestSpec("GET", samework.PATH.format(name=sc.name), ({},))
                print(f"  {sc.name}: captured {len(got.requests)} requests, {got.round_trips:.1f} round trips each",
                      file=sys.stderr, flush=True)
            if opts.warmup:
                _closed(opts, url, spec, sc.name, opts.warmup)
                if same:
                    _closed(opts, floor_url, same, sc.name + " (same work)", opts.warmup)
            for _ in range(1 if reference else opts.rounds):
                run = _closed(opts, url, spec, sc.name)
                floors.append(_closed(opts, floor_url, floor_spec, "floor"))
                m.runs.append(run)
                m.brackets.append((floors[-2].rps + floors[-1].rps) / 2)
                order += [(sc.name, run), ("floor", floors[-1])]
                if same:
                    ref = _closed(opts, floor_url, same, sc.name + " (same work)")
                    floors.append(_closed(opts, floor_url, floor_spec, "floor"))
                    m.same_runs.append(ref)
                    m.same_brackets.append((floors[-2].rps + floors[-1].rps) / 2)
                    order += [(f"{sc.name} (same work)", ref), ("floor", floors[-1])]
            explained = next((x for x in measured if x.name == sc.explains and x.open), None)
            if not reference:
                for _ in range(opts.windows):  # scenario and its same work by turns, at the scenario's rate
                    m.opens.append(_open(opts, url, spec, m.rps, sc.name))
                    if same:
                        m.same_opens.append(_open(opts, floor_url, same, m.rps, sc.name + " (same work)"))
            elif explained is not None and explained.open is not None:
                # The same work at the rate its scenario was offered: p99 of the work alone, same load.
                m.opens.append(_open(opts, url, spec, explained.open.target_rps * 2, sc.name))
        except Exception as exc:  # one broken scenario must not cost the others their numbers
            m.failure = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
            print(f"  {sc.name} FAILED: {m.failure}", file=sys.stderr, flush=True)
    floor_open = _open(opts, floor_url, floor_spec, statistics.median(f.rps for f in floors), "floor")
    return HttpRun(floors, floor_open, measured, order)


def _failed(requests: int, errors: int) -> bool:
    return requests == 0 or errors > MAX_ERROR_SHARE * requests


def _verdict(ok: bool, invalid: bool) -> str:
    return "invalid (errors)" if invalid else ("meets" if ok else "**misses**")


def render(run: HttpRun, opts: Options, machine: str) -> str:
    floor_median = statistics.median(f.rps for f in run.floors)
    spread = (max(f.rps for f in run.floors) - min(f.rps for f in run.floors)) / floor_median * 100
    out = [
        "## HTTP load: the service versus the floor",
        "",
        f"`uv run python -m bench.run --duration {opts.duration:g} --connections {opts.connections} "
        f"--rounds {opts.rounds}` — wrk {opts.threads} threads × {opts.connections} connections, "
        f"{opts.duration:g} s per measurement, {opts.warmup:g} s warm-up per target; floor app and service each "
        "served by granian with 1 worker; wrk, the open-loop client and PostgreSQL run on the same cores.",
        "",
        machine,
        "",
        "### Maximum throughput, in run order (closed loop)",
        "",
        "Latencies here are at saturation (every connection always busy), not the latency budget; "
        "see the open-loop table for that.",
        "",
        "| # | Target | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for i, (name, r) in enumerate(run.order, 1):
        out.append(f"| {i} | {name} | {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.errors} |")
    out += [
        "",
        f"Floor: median **{floor_median:,.0f} req/s** over {len(run.floors)} runs; spread between its runs "
        f"{spread:.0f} % of the median — the noise level of this run.",
        "",
        "### Versus the floor",
        "",
        "Per run, ratio = the scenario's req/s ÷ the mean of the floor runs just before and after it; "
        "the table shows medians over the runs. quality.md sets a floor target only for single-object reads "
        "(≥ 0.70); for the others the ratio shows what their work costs beside one indexed row.",
        "",
        "| Scenario | Kind | req/s | Floor req/s | Ratio | Ratio per run | Target | Verdict | What it exercises |",
        "|---|---|---:|---:|---:|---|---:|---|---|",
    ]
    for m in run.scenarios:
        if not m.runs:
            out.append(f"| {m.name} | {m.kind} | — | — | — | — | — | **failed**: {m.failure} | {m.note} |")
            continue
        invalid = _failed(m.requests, m.errors)
        verdict, target = "—", "—"
        if m.reference:
            verdict = "(reference)"
        elif m.floor_target is not None:
            verdict, target = _verdict(m.ratio >= m.floor_target, invalid), f"≥ {m.floor_target:.2f}"
        elif invalid:
            verdict = "invalid (errors)"
        out.append(f"| {m.name} | {m.kind} | {m.rps:,.0f} | {m.floor_rps:,.0f} | {m.ratio:.2f} | "
                   f"{' / '.join(f'{r:.2f}' for r in m.ratios)} | {target} | {verdict} | {m.note} |")
    out += [
        "",
        "### Versus the same work",
        "",
        "The same-work reference of each scenario is the floor app running exactly the statements that the "
        "scenario's requests sent, captured from the real endpoint (bench/samework.py: same queries and "
        "arguments, same transaction boundaries, new ids for what a write creates). Ratio per round = "
        "(scenario ÷ its floor bracket) ÷ (reference ÷ its floor bracket). quality.md: ≥ 0.80; a write "
        "that a mobile client retries makes ≤ 4 round trips.",
        "",
        "| Scenario | req/s | Same work req/s | Ratio | Ratio per run | Target | Verdict | Round trips/request "
        "| Statements (first captured request) |",
        "|---|---:|---:|---:|---|---:|---|---:|---|",
    ]
    for m in run.scenarios:
        if m.reference or not m.same_runs:
            continue
        ratio = statistics.median(m.same_ratios)
        verdict = _verdict(ratio >= SAME_WORK_TARGET, _failed(m.requests, m.errors)
                           or _failed(sum(r.requests for r in m.same_runs), sum(r.errors for r in m.same_runs)))
        trips = f"{m.round_trips:.1f}" if m.round_trips is not None else "—"
        if m.kind == "write" and m.round_trips is not None:
            trips += " (meets ≤ 4)" if m.round_trips <= WRITE_ROUND_TRIPS else " (**misses** ≤ 4)"
        statements = "<br>".join("`" + q.replace("|", "\\|") + "`" for q in m.statements)
        out.append(f"| {m.name} | {m.rps:,.0f} | {m.same_rps:,.0f} | {ratio:.2f} | "
                   f"{' / '.join(f'{r:.2f}' for r in m.same_ratios)} | ≥ {SAME_WORK_TARGET:.2f} | {verdict} | "
                   f"{trips} | {statements} |")
    out += [
        "",
        "### Latency at half of the maximum rate (open loop)",
        "",
        "Requests scheduled at a fixed rate (half of the scenario's own median maximum above) by bench/rate.py, "
        f"{opts.windows} windows of {opts.duration:g} s per target (scenario and its same work by turns, both at "
        "the scenario's rate), latency counted from the scheduled send time. The verdict takes the **worst** "
        "window; p50/p95/max are of the median window.",
        "",
        "| Target | Offered req/s | p50 ms | p95 ms | p99 ms per window | p99 median | p99 worst | max ms | errors "
        "| p99 budget | Verdict |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    rows = [("floor", [run.floor_open], None)]
    for m in run.scenarios:
        rows.append((m.name, m.opens, None if m.reference else m.p99_budget_ms))
        if m.same_opens:
            rows.append((f"{m.name} (same work)", m.same_opens, None))
    for name, windows, budget in rows:
        if not windows:
            continue
        mid = sorted(windows, key=lambda r: r.p99_ms)[len(windows) // 2]
        worst = max(r.p99_ms for r in windows)
        errors = sum(r.errors for r in windows)
        invalid = _failed(sum(r.completed for r in windows), errors)
        verdict = _verdict(worst < budget, invalid) if budget else "(reference)"
        out.append(f"| {name} | {mid.target_rps:,.0f} | {mid.p50_ms:.1f} | {mid.p95_ms:.1f} | "
                   f"{' / '.join(f'{r.p99_ms:.1f}' for r in windows)} | {mid.p99_ms:.1f} | {worst:.1f} | "
                   f"{mid.max_ms:.1f} | {errors} | {f'< {budget:g}' if budget else '—'} | {verdict} |")
    return "\n".join(out)


def run(opts: Options, scenarios: Sequence[Scenario], *, output: Path = report.DOC, database_url: str | None = None,
        service_env: dict[str, str] | None = None, servers: bool = False, json_path: Path | None = None,
        references: Sequence[Scenario] = REFERENCES, embedded: bool = False) -> HttpRun:
    with run_database(database_url, embedded=embedded) as (db, how), \
            tempfile.TemporaryDirectory(prefix="thudo-bench-data-") as tmp:
        data_dir = Path(tmp)
        pg = asyncio.run(postgres_version(db))
        load_before = report.load_average()
        with procs.running("floor app", procs.floor_app(db, data_dir=data_dir)) as floor, \
                procs.running("service", procs.service(db, data_dir, service_env)) as service:
            result = measure(opts, floor.base_url, service.base_url, db, data_dir, scenarios, references)
            if any(m.errors or m.failure or (m.open and m.open.errors) for m in result.scenarios):
                # Failed requests: the service's own log usually says why (it is discarded otherwise).
                print(f"service output (tail):\n{service.output_tail()}", file=sys.stderr)
        machine = report.machine(pg, {"Database": how, "Load average (1/5/15 min) before → after":
                                      f"{load_before} → {report.load_average()}"})
        report.write_section("http", render(result, opts, machine), output)
        if json_path:
            json_path.write_text(json.dumps(asdict(result), indent=2, default=str), encoding="utf-8")
        if servers:
            from bench.servers import compare_and_write

            compare_and_write(opts, db, pg, output, rounds=max(2, opts.rounds))
    return result


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measurement (default 10)")
    p.add_argument("--connections", type=int, default=64, help="concurrent connections (default 64)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2: one per core here)")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per target (default 2)")
    p.add_argument("--windows", type=int, default=5, help="open-loop windows per target (default 5)")
    p.add_argument("--captured", type=int, default=200, help="requests captured per scenario for its same work")
    p.add_argument("--no-same-work", action="store_true", help="skip the same-work references (bench/samework.py)")
    p.add_argument("--rounds", type=int, default=1,
                   help="closed-loop runs per scenario, each followed by a floor run (default 1)")
    p.add_argument("--scenarios", nargs="*", help="scenario names (default: all in bench/scenarios.py)")
    p.add_argument("--servers", action="store_true", help="also compare granian and uvicorn (bench/servers.py)")
    p.add_argument("--output", type=Path, default=report.DOC, help="report file (default docs/performance.md)")
    p.add_argument("--json", type=Path, help="also write the raw results as JSON")
    p.add_argument("--database-url", help="use this already migrated database instead of creating one")
    p.add_argument("--embedded-postgres", action="store_true",
                   help="an embedded PostgreSQL of this run's own instead of the machine's server (others' "
                        "connections and checkpoints stay out of the measurement)")
    p.add_argument("--no-references", action="store_true", help="skip the reference rows (bench/scenarios.py)")
    p.add_argument("--service-env", action="append", default=[], metavar="KEY=VALUE",
                   help="extra environment for the service (repeatable)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = ensure_wrk()
    if wrk is None:
        raise SystemExit("wrk not found (Debian: apt-get install wrk)")
    opts = Options(args.duration, args.connections, args.threads, args.warmup, wrk, args.rounds, args.windows,
                   not args.no_same_work, args.captured)
    env = dict(kv.split("=", 1) for kv in args.service_env)
    chosen = select(args.scenarios)
    names = {s.name for s in chosen}
    # A reference that explains one scenario only runs with it (it may read what that scenario made).
    references = [] if args.no_references else [r for r in REFERENCES if not r.explains or r.explains in names]
    result = run(opts, chosen, output=args.output, database_url=args.database_url,
                 service_env=env, servers=args.servers, json_path=args.json, references=references,
                 embedded=args.embedded_postgres)
    for m in result.scenarios:
        if m.reference:
            continue
        if not m.runs:
            print(f"{m.name}: FAILED ({m.failure})")
            continue
        print(f"{m.name}: {m.rps:,.0f} req/s = {m.ratio:.2f} × floor; "
              f"p99 at half rate {m.open.p99_ms if m.open else float('nan'):.1f} ms")
    print(f"wrote {args.output}")
    return 1 if any(m.failure for m in result.scenarios) else 0


if __name__ == "__main__":
    raise SystemExit(main())
