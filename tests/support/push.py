"""Push outbox helpers of the multi-process and shutdown tests: many messages queued in one commit, and
the outbox's state read back."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg

USER = """INSERT INTO users (id, eid_issuer, eid_subject, personal_id_hash, personal_id_enc, full_name, level)
          VALUES (gen_random_uuid(), 'test', $1, sha256(convert_to($1, 'UTF8')), '\\x00', 'Push test', 2)
          RETURNING id"""
DEVICES = """INSERT INTO devices (id, user_id, fcm_token, platform, app_version)
             SELECT gen_random_uuid(), $1, t, 'android', '1.0' FROM unnest($2::text[]) t"""
MESSAGES = """INSERT INTO push_outbox (id, kind, idempotency_key, device_id, payload)
              SELECT gen_random_uuid(), 'token', 'test:' || d.id, d.id,
                     jsonb_build_object('title', 'Thông báo', 'body', 'Kiểm tra', 'data', '{}'::jsonb)
              FROM devices d WHERE d.user_id = $1"""


async def queue_messages(database_url: str, n: int, tag: str) -> list[str]:
    """``n`` push messages to ``n`` new devices whose tokens start with ``tag-``, committed at once (as a
    city-wide fan-out would be); returns the tokens."""
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            user = await conn.fetchval(USER, f"{tag}-{uuid.uuid4()}")
            tokens = [f"{tag}-{i}-{uuid.uuid4().hex}" for i in range(n)]
            await conn.execute(DEVICES, user, tokens)
            await conn.execute(MESSAGES, user)
        return tokens
    finally:
        await conn.close()


def query(database_url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    async def go() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(go())


def outbox_rows(database_url: str, where: str) -> int:
    """Message rows (not topic subscriptions) matching ``where``."""
    return int(query(database_url, f"SELECT count(*) AS n FROM push_outbox WHERE kind = 'token' AND {where}")[0]["n"])


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True
