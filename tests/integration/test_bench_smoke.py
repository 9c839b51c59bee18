"""The bench harness in a tiny mode, so it cannot rot silently between real bench runs.

Not a performance test (nothing here asserts speed): it checks that the wrk script sends what a
scenario describes, that the open-loop generator keeps its rate, that the report writer edits only
its own section, and that ``bench.run`` measures the floor and every scenario end to end.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench import citizen_data, console_pages, inproc, scale
from bench.database import bench_database
from bench.rate import run_rate
from bench.report import write_section
from bench.run import Options, run
from bench.scenarios import REFERENCES, SCENARIOS, BenchContext, Scenario, select
from bench.wrk import ensure_wrk, run_wrk

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wrk() -> str:
    found = ensure_wrk()
    if found is None:
        pytest.skip("wrk is not installed and cannot be installed here (apt-get install wrk)")
    return found


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real servers
    seen: list[tuple[str, str, dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(201)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[tuple[str, str, dict[str, str], bytes]]]]:
    seen: list[tuple[str, str, dict[str, str], bytes]] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


WRITE = Scenario("test.write", "write", "POST", "/things/{kind}", body=lambda i: {"n": i, "text": "Hà Nội ]]"},
                 setup=lambda ctx: [{"Authorization": "Bearer a"}, {"Authorization": "Bearer b"}], body_variants=3)


def _spec(base_url: str):
    ctx = BenchContext(base_url, "postgresql://unused", Path("."), values={"kind": "reports"})
    return WRITE.prepare(ctx)


def test_wrk_script_sends_the_scenario_with_a_fresh_idempotency_key_each_time(wrk, recorder) -> None:
    base_url, seen = recorder
    result = run_wrk(base_url, _spec(base_url), duration=1, connections=2, threads=2, wrk=wrk)

    assert result.requests > 10
    assert result.errors == 0
    assert len(seen) >= result.requests
    keys = [h["idempotency-key"] for _, _, h, _ in seen]
    assert len(set(keys)) == len(keys)
    assert {(m, p) for m, p, _, _ in seen} == {("POST", "/things/reports")}
    assert {h["authorization"] for _, _, h, _ in seen} == {"Bearer a", "Bearer b"}
    assert {h["content-type"] for _, _, h, _ in seen} == {"application/json"}
    assert {json.loads(b)["n"] for _, _, _, b in seen} == {0, 1, 2}
    assert json.loads(seen[0][3])["text"] == "Hà Nội ]]"


PER_CITIZEN = Scenario("test.per_citizen", "read", "POST", "/passes/{pass_id}/credential", idempotent=False,
                       setup=lambda ctx: ctx.values.update(each=[{"pass_id": f"p{i}"} for i in range(3)])
                       or [{"Authorization": f"Bearer t{i}"} for i in range(3)])


def _per_citizen(base_url: str):
    return PER_CITIZEN.prepare(BenchContext(base_url, "postgresql://unused", Path(".")))


def test_each_citizen_is_sent_to_their_own_path_by_wrk_and_the_open_loop(wrk, recorder) -> None:
    """Per-citizen paths (their pass, their patient) pair with their tokens in both load generators."""
    base_url, seen = recorder
    spec = _per_citizen(base_url)
    assert spec.paths == ("/passes/p0/credential", "/passes/p1/credential", "/passes/p2/credential")
    run_wrk(base_url, spec, duration=1, connections=2, threads=2, wrk=wrk)
    asyncio.run(run_rate(base_url, spec, rate=50, duration=0.5, connections=2))

    pairs = {(p, h["authorization"]) for _, p, h, _ in seen}
    assert pairs == {(f"/passes/p{i}/credential", f"Bearer t{i}") for i in range(3)}
    assert "idempotency-key" not in seen[0][2]


def test_per_citizen_values_must_match_the_header_sets() -> None:
    lopsided = Scenario("test.lopsided", "read", "GET", "/x/{id}",
                        setup=lambda ctx: ctx.values.update(each=[{"id": 1}]) or [{}, {}])
    with pytest.raises(ValueError, match="1 per-request values for 2 header sets"):
        lopsided.prepare(BenchContext("http://unused", "postgresql://unused", Path(".")))


def test_open_loop_generator_keeps_the_offered_rate(recorder) -> None:
    base_url, seen = recorder
    result = asyncio.run(run_rate(base_url, _spec(base_url), rate=50, duration=1, connections=4))

    assert result.sent == result.completed == len(seen) == 50
    assert result.errors == 0
    assert 35 <= result.achieved_rps <= 60
    assert 0 < result.p50_ms <= result.p99_ms <= result.max_ms
    assert len({h["idempotency-key"] for _, _, h, _ in seen}) == 50


def test_open_loop_generator_keeps_its_own_garbage_collector_out_of_the_window(recorder) -> None:
    # The bench process holds the whole service app (same-work capture): one full collection of it stopped
    # the client for 555 ms inside a window (docs/performance.md, "The my-reports stall").
    base_url, _ = recorder
    before = gc.get_freeze_count()

    async def window(pause_gc: bool) -> tuple[bool, int]:
        task = asyncio.create_task(run_rate(base_url, _spec(base_url), rate=50, duration=0.6, connections=2,
                                            pause_gc=pause_gc))
        await asyncio.sleep(0.3)
        during = gc.isenabled(), gc.get_freeze_count()
        result = await task
        assert result.errors == 0
        return during

    try:
        enabled, frozen = asyncio.run(window(pause_gc=False))
        # The before: collections run in the window and nothing new is frozen (the count may fall: a frozen object
        # that dies by reference count leaves the permanent generation, as the full suite's earlier tests show).
        assert enabled
        assert frozen <= before
        enabled, frozen = asyncio.run(window(pause_gc=True))
        assert not enabled  # no collection during the window …
        assert frozen > before  # … after one before it, whose survivors are frozen
        assert gc.isenabled()  # on again after it
    finally:
        gc.unfreeze()


def test_served_floor_app_freezes_its_start_up_heap(database_url: str) -> None:
    # As the service's workers do: without it the floor's full collections (60-470 ms at load 9) stalled the
    # same-work reference windows.
    from bench.floor_app import create_app
    from bench.inproc import Lifespan

    async def started(freeze_heap: bool) -> int:
        async with Lifespan(create_app(database_url, freeze_heap=freeze_heap)):
            return gc.get_freeze_count()

    before = gc.get_freeze_count()
    try:
        assert asyncio.run(started(False)) == before  # in-process users (bench.inproc, ablate) do not freeze
        assert asyncio.run(started(True)) > before + 50_000  # Litestar + the adapters its reference routes use
    finally:
        gc.unfreeze()


def test_write_section_replaces_only_its_own_block(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\nHand-written method.\n\n<!-- bench:other -->\nkeep\n<!-- /bench:other -->\n")

    write_section("http", "first", doc)
    write_section("http", "second", doc)

    text = doc.read_text()
    assert "Hand-written method." in text
    assert "<!-- bench:other -->\nkeep\n<!-- /bench:other -->" in text
    assert text.count("<!-- bench:http -->") == 1
    assert "<!-- bench:http -->\nsecond\n<!-- /bench:http -->" in text
    assert "first" not in text


def test_bench_run_measures_the_floor_and_every_scenario(wrk, database_url: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    doc = tmp_path / "performance.md"
    monkeypatch.setattr(citizen_data, "CITIZENS", 40)  # health records and passes for 40 citizens, not 1,000
    opts = Options(duration=1, connections=4, threads=1, warmup=0, wrk=wrk, windows=2, captured=5)

    # Its own database: the judicial queue decrypts every listed request with this run's PII key, so
    # requests that other tests stored under their own key must not be in it.
    with bench_database(database_url) as scratch:
        result = run(opts, SCENARIOS, output=doc, database_url=scratch, json_path=tmp_path / "r.json")

    targets = [*SCENARIOS, *REFERENCES]  # references last: one reads what the scenarios created
    with_same_work = sum(1 for s in SCENARIOS if s.same_work)  # each adds (same work, floor) to the order
    assert [name for name, _ in result.order][::2] == ["floor"] * (len(targets) + with_same_work + 1)
    assert all(f.requests > 0 and f.errors == 0 for f in result.floors)
    assert [m.name for m in result.scenarios] == [s.name for s in targets]
    for m in result.scenarios:
        assert m.requests > 0
        assert m.errors == 0, m.name
        assert m.ratio > 0
        if m.reference:
            continue
        assert len(m.opens) == opts.windows
        assert m.open is not None
        assert m.open.completed == m.open.sent
        assert m.open.errors == 0
        if next(s for s in SCENARIOS if s.name == m.name).same_work:  # its captured statements, replayed
            assert m.round_trips is not None, m.name
            assert m.round_trips >= 1, m.name
            assert m.statements, m.name
            assert m.same_runs, m.name
            assert m.same_runs[0].requests > 0, m.name
            assert m.same_runs[0].errors == 0, m.name
            assert len(m.same_opens) == opts.windows, m.name
            assert all(r.errors == 0 for r in m.same_opens), m.name
    text = doc.read_text()
    assert "<!-- bench:http -->" in text
    assert "| PostgreSQL |" in text
    assert all(f"| {s.name} |" in text for s in SCENARIOS)
    assert "### Versus the same work" in text
    assert json.loads((tmp_path / "r.json").read_text())["scenarios"][-1]["name"] == REFERENCES[-1].name


def test_inproc_bench_measures_cpu_per_request_of_every_row(database_url: str, tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    opts = argparse.Namespace(requests=20, rounds=1, concurrency=4, references=True, output=doc, same_work=True,
                              captured=3, profile=tmp_path / "profiles")

    with bench_database(database_url) as scratch:  # own database, as above
        rows = inproc.run(opts, select(["identity.me", "feedback.my_reports", "feedback.create"]),
                          database_url=scratch)

    names = ["identity.me", "feedback.my_reports", "feedback.create"]
    assert [r.name for r in rows] == ["floor", *(n for name in names for n in (name, f"{name} (same work)")),
                                      *(r.name for r in REFERENCES)]
    assert {r.same_work_of: r.round_trips for r in rows if r.same_work_of}["identity.me"] == 1  # /me: one statement
    assert sorted(p.name for p in (tmp_path / "profiles").iterdir()) == sorted(
        f"{n}.pstats" for name in names for n in (name, f"{name} (same work)"))
    from bench import overhead_table

    text = overhead_table.table(tmp_path / "profiles", "identity.me", 20, 300.0, 200.0)
    assert "| **whole request** | **300** | **200** |" in text
    assert "| observability middleware (request id, headers, metrics, access line) |" in text
    top = overhead_table.top(tmp_path / "profiles", "identity.me", 300.0, 5)
    assert top.count("\n| `") == 5  # the five largest cumulative shares below Litestar's layers
    assert "api/identity/me.py" in top
    for row in rows:
        [sample] = row.samples
        assert sum(sample.statuses.values()) == 20
        assert set(sample.statuses) <= {200, 201}, (row.name, sample.statuses)
        assert 0 < row.cpu_us < 1_000_000
    text = doc.read_text()
    assert "<!-- bench:inproc -->" in text
    assert all(f"| {r.name} |" in text for r in rows)


def test_scale_bench_measures_both_phases_and_loads_the_synthetic_rows(database_url: str, tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    opts = argparse.Namespace(citizens=50, reports=500, rate=20, duration=1.0, rounds=1, output=doc)

    with bench_database(database_url) as scratch:  # its own database: the synthetic rows stay out of the tests'
        rows = scale.run(opts, database_url=scratch)

    assert [r.name for r in rows] == [s.name for s in scale.SCALE_SCENARIOS]
    for row in rows:
        assert [r.errors for r in row.small + row.large] == [0, 0], row.name
        assert row.ratio > 0
    text = doc.read_text()
    assert "<!-- bench:scale -->" in text
    assert "| large |" in text


def test_console_pages_bench_measures_every_page_and_its_reference(database_url: str, tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    with bench_database(database_url) as scratch:
        code = console_pages.main(["--samples", "3", "--warmup", "1", "--reports", "3", "--requests", "2",
                                   "--database-url", scratch, "--output", str(doc)])
    assert code == 0
    text = doc.read_text()
    assert "<!-- bench:console -->" in text
    for page in ("feedback queue", "judicial queue", "judicial request page", "statistics (city, month)",
                 "api: judicial request"):
        assert f"| {page} |" in text
    # Every page and reference measured three times (the two statistics pages share a route, and are told apart).
    assert text.count("` | 3 | ") == 11


def test_open_app_and_topics_benches_run_end_to_end(tmp_path: Path) -> None:
    """City-scale generators, the alternating open-loop "open the app" run and the topics bench, tiny."""
    from bench import open_app, topics_bench

    out = tmp_path / "perf.md"
    assert open_app.main(["--citizens", "300", "--reports", "600", "--health", "700", "--passes", "100",
                          "--inbox-per-citizen", "2", "--rate", "5", "--duration", "1", "--rounds", "1",
                          "--probes", "1", "--output", str(out)]) == 0
    text = out.read_text()
    assert "<!-- bench:open-app -->" in text
    assert "| whole open |" in text
    assert "Failed calls: small 0, large 0." in text
    assert "| transit_taps | 0 | 1,000 |" in text  # 100 passes × 10 taps, generated in the database
    topics_bench.main(["--devices", "200", "--sample", "20", "--move", "2", "--output", str(out)])
    topics = out.read_text().split("<!-- bench:topics -->")[1]
    assert "| city-wide announcement: queue | 1 |" in topics  # one outbox row, whatever the devices
    assert "| register 200 devices (trigger queues `city` + district subscriptions) | 400 |" in topics
