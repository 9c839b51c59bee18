-- Periodic worker jobs (purges, escalation, reconciliation...) run once per period whichever of several
-- worker processes gets there first: each period is claimed by moving next_run_at forward, under the
-- row's lock (api/platform/worker.py). first_run_at/runs/holder are there for operators and tests.
CREATE TABLE worker_periods (
    job          text             PRIMARY KEY,
    period_s     double precision NOT NULL,
    next_run_at  timestamptz      NOT NULL,
    first_run_at timestamptz      NOT NULL DEFAULT now(),
    last_run_at  timestamptz      NOT NULL DEFAULT now(),
    holder       text             NOT NULL,
    runs         bigint           NOT NULL DEFAULT 1
);
