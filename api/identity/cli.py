"""``thudo grant-admin`` and ``thudo rotate-keys``: identity operations run by an operator."""

from __future__ import annotations

import argparse
import asyncio
import re

from adapters.postgres.identity.repositories import grant_by_personal_id_hash
from adapters.postgres.pool import connect
from adapters.signing.keys import add_signing_key
from api.identity.wiring import build_pii, token_keys_dir
from api.platform.context import Command
from api.platform.settings import Settings

_PERSONAL_ID = re.compile(r"^[0-9]{12}$")


async def _grant_admin(settings: Settings, personal_id: str) -> str:
    assert settings.database_url
    conn = await connect(settings.database_url)
    try:
        async with conn.transaction():
            return await grant_by_personal_id_hash(conn, build_pii(settings).lookup_hash(personal_id), "city_admin")
    finally:
        await conn.close()


def cmd_grant_admin(settings: Settings, args: argparse.Namespace) -> int:
    """Bootstrap a city admin. The personal id is never echoed (terminal scrollback, CI logs)."""
    personal_id = args.personal_id
    if not _PERSONAL_ID.match(personal_id):
        print("--personal-id must be 12 digits")
        return 2
    outcome = asyncio.run(_grant_admin(settings, personal_id))
    print("city admin granted" if outcome == "granted" else
          "city admin grant recorded; it applies at this person's first VNeID login")
    return 0


def cmd_rotate_keys(settings: Settings, _: argparse.Namespace) -> int:
    kid = add_signing_key(token_keys_dir(settings))
    print(f"new signing key {kid}; restart the servers, keep the old key files until tokens "
          f"signed with them expired ({settings.token_ttl_seconds} s)")
    return 0


def _personal_id_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--personal-id", required=True, help="12-digit personal identification number")


COMMANDS = (
    Command("grant-admin", "make a person a city admin (applies at their next login)", cmd_grant_admin,
            _personal_id_argument),
    Command("rotate-keys", "add a new access-token signing key (the old ones keep verifying)", cmd_rotate_keys),
)
