"""The judicial bench in a tiny mode, so it cannot rot between real runs (not a performance test).

``bench.run``'s own smoke test (test_bench_smoke.py) already sends every scenario of
bench/scenarios.py, ``judicial.draft`` and ``judicial.queue`` included, and the references
(``floor.judicial_queue_query``). This one runs ``bench.judicial_submit``: every row answers 2xx,
the submit row and its same-work reference really submit distinct drafts, each path makes exactly
the round trips docs/performance.md lists, and the report section is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bench import judicial_submit
from bench.database import bench_database

pytestmark = pytest.mark.slow


def test_judicial_bench_measures_submit_and_queue_with_round_trips(database_url: str, tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    opts = argparse.Namespace(requests=12, rounds=1, concurrency=3, output=doc)

    # Its own database: the queue decrypts every listed request with this run's PII key.
    with bench_database(database_url) as scratch:
        rows = judicial_submit.run(opts, database_url=scratch)

    assert [r.name for r in rows] == ["floor", "floor.in_transaction", "judicial.draft", "judicial.submit",
                                      "judicial.queue", "floor.judicial_queue_query", "floor.judicial_submit_sql",
                                      "floor.judicial_draft_sql"]
    by = {r.name: r for r in rows}
    for row in rows:
        [sample] = row.samples
        assert sum(sample.statuses.values()) == 12, row.name
        assert set(sample.statuses) <= {200, 201}, (row.name, sample.statuses)
        assert 0 < sample.cpu_us < 1_000_000
    # The counter sees what each request sends: the floor's one query; BEGIN + query + COMMIT.
    assert by["floor"].samples[0].round_trips == pytest.approx(1.0)
    assert by["floor.in_transaction"].samples[0].round_trips == pytest.approx(3.0)
    # Exact counts, so that a statement added to these paths shows here (quality.md: a retried write
    # makes at most 4). The session check rides with BEGIN (api.identity.auth). Draft (4, meets; was 5):
    # BEGIN + session check, the population stand-in's pre-fill, request + first step + idempotency row
    # in one statement (the reference filled into the row in SQL), COMMIT. Submit (4, meets): BEGIN + session check,
    # the draft FOR UPDATE, update + step + inbox + push rows + preferences in one statement, COMMIT.
    # Queue: the session check, the page (one statement, read-only: no BEGIN/COMMIT, so the check is a
    # statement of its own).
    assert by["judicial.draft"].samples[0].round_trips == pytest.approx(4.0)
    assert by["floor.judicial_draft_sql"].samples[0].round_trips == pytest.approx(4.0)
    assert by["judicial.submit"].samples[0].round_trips == pytest.approx(4.0)
    assert by["judicial.queue"].samples[0].round_trips == pytest.approx(2.0)
    assert by["floor.judicial_queue_query"].samples[0].round_trips == pytest.approx(1.0)
    assert by["floor.judicial_submit_sql"].samples[0].round_trips == pytest.approx(4.0)
    text = doc.read_text()
    assert "<!-- bench:judicial -->" in text
    assert "| judicial.submit |" in text
    assert "| judicial.draft ÷ its same-work reference (CPU per request) |" in text
    assert "round trips per request" in text
