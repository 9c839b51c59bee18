"""Session storage on real PostgreSQL: racing refreshes, reuse detection, the session gate."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import asyncpg
import pytest

from adapters.postgres.identity.repositories import PgAccounts, PgSessions, SessionGate
from adapters.postgres.pool import create_pool
from adapters.postgres.uow import PgUnitOfWork
from domain.identity.eid import EIdIdentity
from domain.identity.login import hash_refresh_token
from domain.identity.principal import StaffGrant, StaffRole

pytestmark = pytest.mark.usefixtures("clean_db")


async def _user_and_session(pool: asyncpg.Pool) -> tuple[uuid.UUID, uuid.UUID]:
    async with pool.acquire() as conn, conn.transaction():
        pid = uuid.uuid4().hex[:12]
        account = await PgAccounts(conn).upsert_from_eid(
            EIdIdentity(issuer="https://eid.test", subject=pid, personal_id=pid, full_name="Test", level=2),
            pid.encode(), b"enc")
        sid = uuid.uuid4()
        await PgSessions(conn).create(session_id=sid, user_id=account.id, level=2,
                                      refresh_hash=hash_refresh_token("r0"),
                                      user_agent="t", expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    return account.id, sid


async def _rotate(pool: asyncpg.Pool, old: str, new: str) -> tuple[bool, uuid.UUID | None]:
    async with pool.acquire() as conn, conn.transaction():
        outcome = await PgSessions(conn).rotate(hash_refresh_token(old), hash_refresh_token(new),
                                                dt.datetime.now(dt.UTC))
        return outcome.session is not None, outcome.reused_session_id


async def test_two_racing_refreshes_only_one_wins(database_url: str) -> None:
    pool = await create_pool(database_url, min_size=2, max_size=4)
    try:
        _, sid = await _user_and_session(pool)
        results = await asyncio.gather(_rotate(pool, "r0", "a1"), _rotate(pool, "r0", "b1"))
        assert sorted(ok for ok, _ in results) == [False, True]
        loser = next(r for r in results if not r[0])
        assert loser[1] == sid  # the loser sees reuse, and the caller then revokes the family
    finally:
        await pool.close()


async def test_gate_reads_current_grants_and_revocation(database_url: str) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        user_id, sid = await _user_and_session(pool)
        gate = SessionGate(pool)
        live = await gate.current(sid)
        assert live is not None
        assert live.grants == ()
        assert not live.city_admin
        unit = await pool.fetchval("SELECT id FROM units WHERE code = 'W00001'")
        await pool.execute("INSERT INTO staff_grants (user_id, unit_id, role) VALUES ($1, $2, 'handler'), "
                           "($1, $2, 'supervisor')", user_id, unit)
        live = await gate.current(sid)
        assert live is not None
        assert {g.role.value for g in live.grants} == {"handler", "supervisor"}
        # Written through another connection (another worker): seen at once, nothing cached.
        await pool.execute("DELETE FROM staff_grants WHERE user_id = $1 AND role = 'handler'", user_id)
        live = await gate.current(sid)
        assert live is not None
        assert [g.role.value for g in live.grants] == ["supervisor"]
        async with pool.acquire() as conn:
            await PgSessions(conn).revoke(sid, "test")
        assert await gate.current(sid) is None
        assert await gate.current(uuid.uuid4()) is None
    finally:
        await pool.close()


async def test_pending_grants_apply_at_first_login(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("INSERT INTO pending_grants (personal_id_hash, role, unit_code) VALUES "
                           "($1, 'city_admin', ''), ($1, 'handler', 'W00001')", b"hash-1")
        account = await PgAccounts(conn).upsert_from_eid(
            EIdIdentity(issuer="https://eid.test", subject="s1", personal_id="x", full_name="Admin", level=2),
            b"hash-1", b"enc")
        assert account.city_admin
        assert [g.role.value for g in account.grants] == ["handler"]
        assert await conn.fetchval("SELECT count(*) FROM pending_grants") == 0
    finally:
        await conn.close()


async def _confirms(pool: asyncpg.Pool, sid: uuid.UUID, city_admin: bool, grants: tuple[StaffGrant, ...]) -> bool:
    # As the unit of work sends it: with BEGIN, by the simple-query protocol, judged by the status tag.
    async with PgUnitOfWork(pool, begin_check=SessionGate.confirmation(sid, city_admin, grants)) as uow:
        return uow.confirmed


async def test_the_check_sent_with_begin_confirms_exactly_the_live_access(database_url: str) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        user_id, sid = await _user_and_session(pool)
        assert await _confirms(pool, sid, False, ())
        units = [await pool.fetchval("SELECT id FROM units WHERE code = $1", c) for c in ("W00001", "W00004")]
        await pool.execute("INSERT INTO staff_grants (user_id, unit_id, role) VALUES ($1, $2, 'supervisor'), "
                           "($1, $2, 'handler'), ($1, $3, 'unit_admin')", user_id, *units)
        # The grants as the token lists them, in any order, match; a token missing one, holding one more or
        # claiming the admin flag does not (the request then reads the live access, api.identity.auth).
        live = (StaffGrant(units[1], StaffRole.UNIT_ADMIN), StaffGrant(units[0], StaffRole.HANDLER),
                StaffGrant(units[0], StaffRole.SUPERVISOR))
        assert await _confirms(pool, sid, False, live)
        assert not await _confirms(pool, sid, False, live[:2])
        assert not await _confirms(pool, sid, False, (*live, StaffGrant(units[1], StaffRole.HANDLER)))
        assert not await _confirms(pool, sid, True, live)
        await pool.execute("UPDATE users SET suspended_at = now() WHERE id = $1", user_id)
        assert not await _confirms(pool, sid, False, live)
        await pool.execute("UPDATE users SET suspended_at = NULL WHERE id = $1", user_id)
        async with pool.acquire() as conn:
            await PgSessions(conn).revoke(sid, "test")
        assert not await _confirms(pool, sid, False, live)
        # Nothing is left open: the unit of work rolled back, the pooled connection is idle.
        assert await pool.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                   "AND state LIKE 'idle in%'") == 0
    finally:
        await pool.close()
