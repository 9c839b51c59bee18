"""Claiming a periodic job's period (``worker_periods``, migration 0003), so that several worker
processes run it once per period between them."""

from __future__ import annotations

from typing import Any

_CLAIM = """
INSERT INTO worker_periods AS w (job, period_s, next_run_at, holder)
VALUES ($1, $2, now() + make_interval(secs => $2), $3)
ON CONFLICT (job) DO UPDATE
    SET period_s = EXCLUDED.period_s, next_run_at = EXCLUDED.next_run_at, last_run_at = now(),
        holder = EXCLUDED.holder, runs = w.runs + 1
    WHERE w.next_run_at <= now()
RETURNING 1
"""
_WAIT = "SELECT greatest(0, extract(epoch FROM next_run_at - now()))::float8 FROM worker_periods WHERE job = $1"


async def claim_period(conn: Any, job: str, period_s: float, holder: str) -> float:
    """0 when this caller won the current period (run the job now); otherwise the seconds until the
    next period starts. Two callers at once: the second waits for the first's row lock and then sees
    ``next_run_at`` already moved on."""
    if await conn.fetchval(_CLAIM, job, period_s, holder):
        return 0.0
    return float(await conn.fetchval(_WAIT, job) or 0.0)
