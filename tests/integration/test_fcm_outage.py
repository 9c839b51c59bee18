"""An FCM outage over real HTTP (the local stand-in answering 503 UNAVAILABLE to every call): the gateway
returns promptly with every message "unavailable" instead of hanging, and sends normally once FCM is back.

respx (tests/integration/test_notifications_fcm.py) replaces the transport, so it cannot show what the
SDK's connection handling does with hundreds of refused requests; this test can.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.fcm.gateway import FcmGateway
from domain.notifications.delivery_model import PushMessage
from tests.support.fcm_recorder import PROJECT, Recorder, fcm_recorder

BOUND_S = 60.0


@pytest.fixture
def fcm(tmp_path: Path) -> Iterator[Recorder]:
    with fcm_recorder(tmp_path) as recorder:
        yield recorder


def _messages(n: int, tag: str) -> list[PushMessage]:
    return [PushMessage(token=f"{tag}-{i}", title="t", body="b", collapse_key=f"{i:032x}") for i in range(n)]


async def test_an_outage_answers_at_once_and_leaves_no_connection_stuck(fcm: Recorder) -> None:
    gateway = FcmGateway(
        project_id=PROJECT, credentials_file=str(fcm.credentials_file), endpoint=fcm.endpoint, max_in_flight=100
    )
    try:
        fcm.failing = True
        # Three passes: more refused requests than the SDK's connection pool holds. Before the fix the
        # first pass never returned. The bound is generous (a loaded CI machine), a hang is not.
        for _ in range(3):
            outcomes = await asyncio.wait_for(gateway.send(_messages(500, "down")), timeout=BOUND_S)
            assert {o.outcome for o in outcomes} == {"unavailable"}
        fcm.failing = False
        outcomes = await asyncio.wait_for(gateway.send(_messages(500, "up")), timeout=BOUND_S)
        assert {o.outcome for o in outcomes} == {"sent"}
        assert fcm.total() == 500
    finally:
        await gateway.close()
