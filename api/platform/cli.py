"""``thudo`` command line: serve, migrate, seed, worker.

Without ``DATABASE_URL`` every command uses the embedded PostgreSQL under ``DATA_DIR`` (started on
demand), so ``uv run thudo serve`` is all a developer needs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from dataclasses import replace
from typing import Any

import asyncpg

from adapters.postgres.embedded import EmbeddedPostgres
from adapters.postgres.migrator import MigrationError, migrate
from adapters.postgres.pool import connect
from adapters.postgres.seed import seed_units
from api.platform.observability import configure_logging, granian_log_config
from api.platform.registry import CONTEXTS
from api.platform.settings import Settings, SettingsError, load_settings

log = logging.getLogger("thudo.cli")


def _resolve_database(settings: Settings) -> tuple[Settings, EmbeddedPostgres | None]:
    if settings.database_url:
        return settings, None
    embedded = EmbeddedPostgres(settings.data_dir.resolve())
    url = embedded.start()
    # Child processes (granian workers) read settings from the environment.
    os.environ["DATABASE_URL"] = url
    for name, value in (("STANDINS", settings.standins_enabled), ("RUN_WORKER", settings.worker_inline),
                        ("SEED_DEMO", settings.seed_enabled)):
        os.environ.setdefault(name, "true" if value else "false")
    resolved = replace(settings, database_url=url, standins=settings.standins_enabled,
                       run_worker=settings.worker_inline, seed_demo=settings.seed_enabled)
    return resolved, embedded


async def _migrate(url: str) -> list[str]:
    conn = await connect(url)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


async def seed_demo(conn: asyncpg.Connection[Any], settings: Settings) -> None:
    """Reference data (units, each context's catalogues), then each context's demo data, in one transaction."""
    async with conn.transaction():
        await seed_reference(conn)
        for context in CONTEXTS:
            if context.seed is not None:
                await context.seed(conn, settings)


async def seed_reference(conn: asyncpg.Connection[Any]) -> None:
    await seed_units(conn)
    for context in CONTEXTS:
        if context.reference is not None:
            await context.reference(conn)


async def _seed(url: str, settings: Settings) -> None:
    conn = await connect(url)
    try:
        await seed_demo(conn, settings)
    finally:
        await conn.close()


def cmd_migrate(settings: Settings) -> int:
    assert settings.database_url
    try:
        applied = asyncio.run(_migrate(settings.database_url))
    except MigrationError as exc:
        log.error("migration refused: %s", exc)
        print(f"migration refused: {exc}", file=sys.stderr)
        return 2
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        print(f"cannot migrate: database unreachable or refused the connection ({type(exc).__name__}: {exc})",
              file=sys.stderr)
        return 2
    print("applied: " + ", ".join(applied) if applied else "schema is up to date")
    return 0


def cmd_seed(settings: Settings) -> int:
    assert settings.database_url
    asyncio.run(_seed(settings.database_url, settings))
    print("demo data loaded")
    return 0


def cmd_serve(settings: Settings, embedded: EmbeddedPostgres | None) -> int:
    from granian.constants import Interfaces
    from granian.server import Server

    assert settings.database_url
    if embedded is not None or settings.seed_enabled:
        # The embedded default is self-contained: schema and demo data come with it. Production
        # runs `thudo migrate` as its own release step instead.
        if embedded is not None and cmd_migrate(settings) != 0:
            return 2
        if settings.seed_enabled:
            cmd_seed(settings)
    for context in CONTEXTS:  # keys and the like, created once before the workers start so they all share them
        if context.prepare is not None:
            context.prepare(settings)
    print(f"serving on {settings.base_url} (OpenAPI: {settings.base_url}/schema)", flush=True)
    Server(
        "api.platform.app:app_factory", address=settings.host, port=settings.port, interface=Interfaces.ASGI,
        workers=settings.workers, factory=True, log_access=False, backlog=2048,
        log_dictconfig=granian_log_config(),
    ).serve()
    return 0


def cmd_worker(settings: Settings) -> int:
    from api.platform.worker import run_worker_forever

    asyncio.run(run_worker_forever(settings))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="thudo", description="Thủ Đô Số backend")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="serve the HTTP API (embedded PostgreSQL when DATABASE_URL is unset)")
    sub.add_parser("migrate", help="apply pending database migrations")
    sub.add_parser("seed", help="load demo data (districts, wards, units, demo people)")
    sub.add_parser("worker", help="run the background worker (outbox, deadlines)")
    commands = {command.name: command for context in CONTEXTS for command in context.commands}
    for command in commands.values():
        command.arguments(sub.add_parser(command.name, help=command.help))
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    settings, embedded = _resolve_database(settings)
    try:
        if args.command == "migrate":
            return cmd_migrate(settings)
        if args.command == "seed":
            return cmd_seed(settings)
        if args.command == "worker":
            return cmd_worker(settings)
        if args.command in commands:
            return commands[args.command].run(settings, args)
        return cmd_serve(settings, embedded)
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    raise SystemExit(main())
