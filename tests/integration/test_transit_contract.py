"""One contract, two implementations: the in-memory fakes of the deny list, taps and passes behave
like their Postgres adapters, so unit tests on the fakes mean something."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.postgres.pool import connect
from adapters.postgres.transit.gates import PgDenyList, PgTaps
from domain.transit.codes import Direction, Network
from domain.transit.denylist import DenyEntry, DenyKind
from domain.transit.model import Medium, Tap
from domain.transit.repositories import LIVE_STATES, DenyList, LiveState, Taps
from tests.support.transit import FakeDenyList, FakeTaps

NOW = 1_790_000_000
T = datetime(2026, 10, 1, tzinfo=UTC)


@asynccontextmanager
async def implementations(database_url: str, kind: str) -> AsyncIterator[tuple[DenyList, Taps]]:
    if kind == "fake":
        deny = FakeDenyList()
        yield deny, FakeTaps(deny)
        return
    conn = await connect(database_url)
    tx = conn.transaction()
    await tx.start()
    try:
        yield PgDenyList(conn), PgTaps(conn)
    finally:
        await tx.rollback()
        await conn.close()


def run(database_url: str, kind: str, body: Callable[[DenyList, Taps], Awaitable[None]]) -> None:
    async def go() -> None:
        async with implementations(database_url, kind) as (deny, taps):
            await body(deny, taps)
    asyncio.run(go())


def _tap(subject: uuid.UUID, minutes: int, accepted: bool = True, counter: int = 0, **kw: Any) -> Tap:
    return Tap(id=kw.get("id", uuid.uuid4()), validator_id=uuid.uuid4(), medium=Medium.PASS, subject_id=subject,
               direction=kw.get("direction", Direction.IN), network=Network.METRO, route=3, stop="S1",
               occurred_at=T + timedelta(minutes=minutes), code_timestamp=NOW + minutes * 60, counter=counter,
               accepted=accepted, reason=None if accepted else "replay")


# Every state's reason is a rejection, so a probe's tap is stored as rejected and changes nothing that
# later reads see (the live state counts accepted taps only).
PROBE_REASONS = tuple(f"probe-{n}" for n in range(len(LIVE_STATES)))


async def live_state(taps: Taps, subject: uuid.UUID, deny: list[tuple[int, bytes]], now: int, code_timestamp: int,
                     counter: int, entry_since: datetime | None) -> LiveState:
    """The live state that online validation reads with its tap's insert (``Taps.add_checked``)."""
    probe = Tap(id=uuid.uuid4(), validator_id=uuid.uuid4(), medium=Medium.PASS, subject_id=subject,
                direction=Direction.IN, network=Network.METRO, route=3, stop="S1", occurred_at=T - timedelta(days=1),
                code_timestamp=code_timestamp, counter=counter, accepted=False, reason="probe")
    state, inserted = await taps.add_checked(probe, deny, now, entry_since, PROBE_REASONS)
    assert inserted
    return state


@pytest.mark.parametrize("kind", ["fake", "postgres"])
def test_deny_list_contract(database_url: str, kind: str) -> None:
    async def body(deny: DenyList, taps: Taps) -> None:
        start = await deny.current_seq()
        a, b = uuid.uuid4().bytes, uuid.uuid4().bytes
        await deny.add([DenyEntry(DenyKind.PASS, a, NOW + 100), DenyEntry(DenyKind.DEVICE, b, NOW - 1)])
        assert await deny.current_seq() == start + 2
        assert [(e.kind, e.subject, e.seq) for e in await deny.since(start, NOW)] == [(DenyKind.PASS, a, start + 1)]
        await deny.add([DenyEntry(DenyKind.PASS, a, NOW + 10)])
        [entry] = await deny.since(start + 2, NOW)
        assert (entry.drop_after, entry.seq) == (NOW + 100, start + 3)
        assert await deny.denied([(2, b), (1, a)], NOW)
        assert not await deny.denied([(2, b)], NOW)
        assert not await deny.denied([(2, a)], NOW)
        # Online validation reads the deny list through the taps' live state, in the same statement.
        assert (await live_state(taps, uuid.uuid4(), [(2, b), (1, a)], NOW, 0, 0, None)).denied
        assert not (await live_state(taps, uuid.uuid4(), [(2, b)], NOW, 0, 0, None)).denied
    run(database_url, kind, body)


@pytest.mark.parametrize("kind", ["fake", "postgres"])
def test_taps_contract(database_url: str, kind: str) -> None:
    async def body(_: DenyList, taps: Taps) -> None:
        p, q = uuid.uuid4(), uuid.uuid4()
        first = [_tap(p, 5), _tap(p, 1, counter=3), _tap(q, 2)]
        assert await taps.add_batch(first) == 3
        assert await taps.add_batch([*first, _tap(p, 9, accepted=False)]) == 1
        assert [t.occurred_at for t in await taps.for_passes([p], T)] == [T + timedelta(minutes=m) for m in (1, 5, 9)]
        assert await taps.for_passes([p], T + timedelta(minutes=6)) != []
        assert (await live_state(taps, p, [], NOW, NOW + 60, 3, None)).code_seen
        assert not (await live_state(taps, p, [], NOW, NOW + 60, 4, None)).code_seen
        assert not (await live_state(taps, p, [], NOW, NOW + 9 * 60, 0, None)).code_seen  # a rejected tap is no use
        await taps.add_batch([_tap(p, 7, direction=Direction.OUT), _tap(p, 8, direction=Direction.IN, accepted=False)])
        state = await live_state(taps, p, [], NOW, 0, 0, T)
        assert state.last_direction is Direction.OUT              # latest accepted (7 min), not the rejected one
        assert (await live_state(taps, p, [], NOW, 0, 0, T + timedelta(minutes=2))).last_direction is Direction.OUT
        assert (await live_state(taps, p, [], NOW, 0, 0, T + timedelta(minutes=10))).last_direction is None
        assert (await live_state(taps, p, [], NOW, 0, 0, None)).last_direction is None   # not asked
        assert not state.denied
    run(database_url, kind, body)
