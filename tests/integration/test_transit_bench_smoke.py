"""The transit benches run for a moment, so they cannot rot (their numbers come from real runs)."""

from __future__ import annotations

import asyncio

import pytest

from bench import transit_http, transit_taps, transit_verify


def test_verify_bench_runs_and_every_code_is_accepted() -> None:
    results = transit_verify.run(n_codes=20, rounds=1)
    assert set(results) == {"cold", "warm", transit_verify.SAME_TWO, "one bare ECDSA verify"}
    assert all(len(v) == 1 and v[0] > 0 for v in results.values())


def test_taps_bench_runs_against_the_test_database(database_url: str) -> None:
    results = asyncio.run(transit_taps.measure(database_url, rounds=1))
    assert len(results["bare"]) == len(results["ours"]) == 1


def test_http_bench_runs_against_the_test_database(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert transit_http.main(["--duration", "0.3", "--windows", "1", "--round-trip-requests", "2",
                              "--database-url", database_url]) == 0
    out = capsys.readouterr().out
    assert "| transit.validate | " in out
    assert "| transit.purchase | " in out
    assert "Batch ours / reference" in out


def test_purchase_round_trips_stay_at_four(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """quality.md: a write a mobile client retries makes at most four round trips to PostgreSQL. A
    purchase of a new order makes four, counted at the asyncpg connection for each request of the
    in-process app: BEGIN with the caller's session check (one round trip, api.identity.auth), the
    order's facts (one statement, ``PgOrders``), the payment intent with the request's idempotency
    row (one statement: api.platform.idempotency.idempotent_folded), COMMIT. Was 11–13 (a read per fact, the intent
    looked up before its insert, the session check on its own), then 5 (the row on its own). The same
    order bought again under a new key makes five: its intent exists, so the answer is known only
    after the insert and the row goes on its own. This pins the counts so a new statement on the path
    fails here. Online validation of a dynamic code: one (the live-state read and the tap in one
    statement, ``PgTaps.add_checked``; one write, so no BEGIN/COMMIT; was two, four before that). A pass
    credential: one (a read: the pass, the phone's binding and the caller's session check in one
    statement; was four: BEGIN with the session check, the pass, the binding, COMMIT)."""
    assert transit_http.main(["--round-trips-only", "--round-trip-requests", "2", "--database-url",
                              database_url]) == 0
    counts = dict(line.rsplit(": ", 1) for line in capsys.readouterr().out.splitlines() if "round trips" in line)
    assert float(counts["transit.purchase"].split()[0]) <= 4.0
    assert float(counts["transit.purchase (same order again)"].split()[0]) <= 5.0
    assert float(counts["transit.validate"].split()[0]) <= 1.5  # live state and tap: one statement, no transaction
    assert float(counts["transit.pass_credential"].split()[0]) == 1.0
