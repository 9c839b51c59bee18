"""The per-request and hot identity queries are index-backed (checked with EXPLAIN)."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

HOT_QUERIES = {
    "session gate": ("SELECT true FROM sessions WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()",
                     [uuid.uuid4()]),
    "refresh rotation": ("SELECT session_id FROM refresh_tokens WHERE token_hash = $1", [b"x"]),
    "my sessions": ("SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC",
                    [uuid.uuid4()]),
    "my devices": ("SELECT id FROM devices WHERE user_id = $1 ORDER BY created_at, id LIMIT 100", [uuid.uuid4()]),
    "user by personal id": ("SELECT id FROM users WHERE personal_id_hash = $1", [b"x"]),
    "user by eid subject": ("SELECT id FROM users WHERE eid_issuer = $1 AND eid_subject = $2", ["i", "s"]),
    "my consents": ("SELECT id FROM consents WHERE user_id = $1 ORDER BY created_at DESC", [uuid.uuid4()]),
    "partner key": ("SELECT id FROM open311_keys WHERE key_hash = $1 AND revoked_at IS NULL", [b"x"]),
    "staff of a unit": ("SELECT user_id FROM staff_grants WHERE unit_id = $1", [uuid.uuid4()]),
}


@pytest.mark.parametrize("name", sorted(HOT_QUERIES))
async def test_hot_query_uses_an_index(database_url: str, name: str) -> None:
    sql, args = HOT_QUERIES[name]
    conn = await asyncpg.connect(database_url)
    try:
        # Tiny test tables make sequential scans cheapest; forbidding them shows whether an index exists.
        await conn.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN " + sql, *args))
    finally:
        await conn.close()
    assert "Index" in plan, plan
    assert "Seq Scan" not in plan, plan
