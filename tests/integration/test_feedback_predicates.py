"""The partial indexes of the feedback migrations use the domain's definitions of "open" and "public".

The planner only uses a partial index when a query's WHERE implies the index predicate, so a
definition changed in the domain (``OPEN_STATUSES``, ``Report.is_public``) without a migration
would silently turn indexed reads into scans. PostgreSQL normalises both sides for the comparison.
"""

from __future__ import annotations

import asyncpg

from adapters.postgres.feedback.queries import OPEN_SQL, PUBLIC_SQL
from domain.feedback.model import OPEN_STATUSES, Report, Status

PARTIAL_INDEXES = {
    "feedback_reports_unit_open": OPEN_SQL,
    "feedback_reports_public_ward": PUBLIC_SQL,
    "feedback_reports_public_cell": PUBLIC_SQL,
}


async def _normalised(conn: asyncpg.Connection, predicate: str) -> str:
    """The predicate as PostgreSQL stores it for an index (a throw-away one, rolled back)."""
    tx = conn.transaction()
    await tx.start()
    try:
        await conn.execute(f"CREATE INDEX predicate_probe ON feedback_reports (id) WHERE {predicate}")
        return str(await conn.fetchval(
            "SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indexrelid = 'predicate_probe'::regclass"))
    finally:
        await tx.rollback()


async def test_partial_index_predicates_match_the_domain_definitions(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        for index, predicate in PARTIAL_INDEXES.items():
            stored = await conn.fetchval(
                "SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indexrelid = $1::regclass", index)
            assert stored == await _normalised(conn, predicate), index
    finally:
        await conn.close()


def test_sql_predicates_name_exactly_the_domain_statuses() -> None:
    assert {s for s in Status if f"'{s.value}'" in OPEN_SQL} == OPEN_STATUSES
    public = [s for s in Status if f"'{s.value}'" in PUBLIC_SQL]
    assert public == [Status.HANDLED]
    assert "publishable" in PUBLIC_SQL
    assert "NOT hidden" in PUBLIC_SQL
    assert "publishable" in Report.is_public.fget.__code__.co_names  # type: ignore[attr-defined]
    assert "hidden" in Report.is_public.fget.__code__.co_names  # type: ignore[attr-defined]
