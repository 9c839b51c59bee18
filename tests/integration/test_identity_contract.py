"""Port contracts: the in-memory fakes and the Postgres adapters behave alike (keeps fakes honest)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from adapters.postgres.identity.repositories import PgAccounts, PgLoginTransactions, PgSessions
from domain.identity.eid import EIdIdentity
from domain.identity.ports import LoginTransaction
from tests.unit.identity_fakes import FakeAccounts, FakeSessions, FakeTransactions

pytestmark = pytest.mark.usefixtures("clean_db")
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(params=["fake", "postgres"])
async def ports(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[dict[str, Any]]:
    if request.param == "fake":
        yield {"tx": FakeTransactions(), "accounts": FakeAccounts(), "sessions": FakeSessions()}
        return
    conn = await asyncpg.connect(database_url)
    tr = conn.transaction()
    await tr.start()
    try:
        yield {"tx": PgLoginTransactions(conn), "accounts": PgAccounts(conn), "sessions": PgSessions(conn)}
    finally:
        await tr.rollback()
        await conn.close()


def _tx(now: dt.datetime, minutes: int = 10) -> LoginTransaction:
    return LoginTransaction(id=uuid.uuid4(), state="s", nonce="n", code_verifier="v", redirect_uri="app://cb",
                            level=2, expires_at=now + dt.timedelta(minutes=minutes))


async def test_login_transaction_is_single_use_and_expires(ports: dict[str, Any]) -> None:
    # The time of the test, not of the module's import: saving sweeps transactions that expired by the
    # database's clock, and a long suite can run this more than 10 minutes after collection.
    now = dt.datetime.now(dt.UTC)
    tx, old = _tx(now), _tx(now, -1)
    await ports["tx"].save(tx)
    await ports["tx"].save(old)
    assert (await ports["tx"].take(tx.id, now)).nonce == "n"
    assert await ports["tx"].take(tx.id, now) is None
    assert await ports["tx"].take(old.id, now) is None


async def test_same_person_is_one_account(ports: dict[str, Any]) -> None:
    who = EIdIdentity(issuer="https://eid.test", subject=uuid.uuid4().hex, personal_id="001085000101",
                      full_name="An", level=2)
    first = await ports["accounts"].upsert_from_eid(who, b"h-" + who.subject.encode(), b"enc")
    again = await ports["accounts"].upsert_from_eid(who, b"h-" + who.subject.encode(), b"enc")
    assert first.id == again.id
    assert (await ports["accounts"].load(first.id)).level == 2


async def test_rotation_and_reuse(ports: dict[str, Any]) -> None:
    who = EIdIdentity(issuer="https://eid.test", subject=uuid.uuid4().hex, personal_id="x", full_name="B", level=1)
    account = await ports["accounts"].upsert_from_eid(who, b"h-" + who.subject.encode(), b"enc")
    sid = uuid.uuid4()
    sessions = ports["sessions"]
    await sessions.create(session_id=sid, user_id=account.id, level=1, refresh_hash=b"r0", user_agent="",
                          expires_at=NOW + dt.timedelta(days=1))
    ok = await sessions.rotate(b"r0", b"r1", NOW)
    assert ok.session is not None
    assert ok.session.session_id == sid
    reused = await sessions.rotate(b"r0", b"r2", NOW)
    assert reused.session is None
    assert reused.reused_session_id == sid
    unknown = await sessions.rotate(b"nope", b"r3", NOW)
    assert unknown.session is None
    assert unknown.reused_session_id is None
    await sessions.revoke(sid, "test")
    revoked = await sessions.rotate(b"r1", b"r4", NOW)
    assert revoked.session is None
