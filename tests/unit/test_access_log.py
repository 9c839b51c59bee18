"""The access log writes JSON lines in batches: one sink call per flush interval, nothing lost on flush."""

from __future__ import annotations

import asyncio
import json
import logging

from api.platform.access_log import LOGGER, AccessLog


def test_lines_are_batched_into_one_write_per_interval() -> None:
    writes: list[bytes] = []
    log = AccessLog(sink=writes.append, interval_s=0.02)

    async def scenario() -> None:
        for i in range(100):
            log.record(f"req-{i}", "GET", "/api/v1/me", 200, 0.00123)
        assert writes == []  # nothing written per request
        await asyncio.sleep(0.1)

    asyncio.run(scenario())
    assert len(writes) == 1
    lines = [json.loads(x) for x in writes[0].splitlines()]
    assert [x["request_id"] for x in lines] == [f"req-{i}" for i in range(100)]
    assert lines[0] | {"ts": None} == {"ts": None, "level": "info", "logger": LOGGER, "msg": "request",
                                       "request_id": "req-0", "method": "GET", "route": "/api/v1/me",
                                       "status": 200, "duration_ms": 1.23}
    assert lines[0]["ts"].endswith("Z")
    assert len(lines[0]["ts"]) == len("2026-11-25T09:21:42.123Z")


def test_flush_writes_what_is_pending_and_outside_a_loop_writes_at_once() -> None:
    writes: list[bytes] = []
    log = AccessLog(sink=writes.append, interval_s=60)

    async def scenario() -> None:
        log.record("a", "POST", "/x", 201, 0.0)
        log.flush()  # what the lifespan shutdown hook does

    asyncio.run(scenario())
    assert [json.loads(x)["request_id"] for x in b"".join(writes).splitlines()] == ["a"]
    log.record("b", "GET", "/y", 404, 0.0)  # no running loop: not held back
    assert json.loads(writes[-1])["request_id"] == "b"


def test_log_level_governs_the_access_log() -> None:
    logger = logging.getLogger(LOGGER)
    before = logger.level
    try:
        logger.setLevel(logging.WARNING)
        assert not AccessLog().enabled
        logger.setLevel(logging.INFO)
        assert AccessLog().enabled
    finally:
        logger.setLevel(before)
