"""Migrations: ``thudo migrate`` builds the schema once, is a no-op the second time, refuses edits.

Each test gets its own empty database on the test server, so runs never see each other's schema.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from adapters.postgres.migrator import MIGRATIONS_DIR, MigrationError, load_migrations, migrate
from adapters.postgres.scratch import scratch_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def empty_db(database_url: str) -> Iterator[str]:
    with scratch_database(database_url, "thudo_mig_") as url:
        yield url


def fetch(url: str, sql: str) -> list[Any]:
    async def run() -> list[Any]:
        conn = await asyncpg.connect(url)
        try:
            return list(await conn.fetch(sql))
        finally:
            await conn.close()
    return asyncio.run(run())


def run_migrate(path: Path, url: str) -> list[str]:
    async def run() -> list[str]:
        conn = await asyncpg.connect(url)
        try:
            return await migrate(conn, path)
        finally:
            await conn.close()
    return asyncio.run(run())


def thudo_migrate(url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATA_DIR",)}
    env.update(DATABASE_URL=url, LOG_LEVEL="WARNING")
    return subprocess.run([sys.executable, "-m", "api.platform.cli", "migrate"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_cli_migrate_creates_schema_then_is_a_no_op(empty_db: str) -> None:
    files = [m.name for m in load_migrations()]
    first = thudo_migrate(empty_db)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "applied: " + ", ".join(files)
    tables = {r["tablename"] for r in fetch(empty_db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"schema_migrations", "idempotency_keys", "units"} <= tables
    recorded = fetch(empty_db, "SELECT name, checksum, applied_at FROM schema_migrations ORDER BY version")
    assert [r["name"] for r in recorded] == files

    second = thudo_migrate(empty_db)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "schema is up to date"
    assert fetch(empty_db, "SELECT name, checksum, applied_at FROM schema_migrations ORDER BY version") == recorded


def test_cli_refuses_an_edited_applied_migration(empty_db: str) -> None:
    assert thudo_migrate(empty_db).returncode == 0
    # What the runner sees when someone edits 0001 after it ran: its recorded checksum no longer matches.
    fetch(empty_db, "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
    refused = thudo_migrate(empty_db)
    assert refused.returncode == 2
    assert "0001_foundation.sql was edited after it was applied" in refused.stderr
    assert "add a new migration" in refused.stderr
    assert "Traceback" not in refused.stderr


def copy_migrations(target: Path, count: int) -> list[Path]:
    target.mkdir(exist_ok=True)
    sources = sorted(MIGRATIONS_DIR.glob("*.sql"))[:count]
    for src in sources:
        (target / src.name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    return [target / s.name for s in sources]


def test_edited_file_is_refused_and_nothing_runs(empty_db: str, tmp_path: Path) -> None:
    (first,) = copy_migrations(tmp_path, 1)
    assert run_migrate(tmp_path, empty_db) == [first.name]
    first.write_text(first.read_text(encoding="utf-8") + "\n-- harmless looking edit\n", encoding="utf-8")
    (tmp_path / "0009_later.sql").write_text("CREATE TABLE later_one (id int);", encoding="utf-8")
    with pytest.raises(MigrationError, match=r"0001_foundation\.sql was edited after it was applied"):
        run_migrate(tmp_path, empty_db)
    # Refused before applying anything pending.
    assert not fetch(empty_db, "SELECT 1 FROM pg_tables WHERE tablename = 'later_one'")


def test_failing_migration_rolls_back_alone(empty_db: str, tmp_path: Path) -> None:
    copy_migrations(tmp_path, 1)
    (tmp_path / "0002_broken.sql").write_text(
        "CREATE TABLE half_done (id int);\nALTER TABLE no_such_table ADD COLUMN x int;", encoding="utf-8")
    with pytest.raises(MigrationError, match=r"0002_broken\.sql failed and was rolled back"):
        run_migrate(tmp_path, empty_db)
    assert [r["version"] for r in fetch(empty_db, "SELECT version FROM schema_migrations")] == [1]
    assert not fetch(empty_db, "SELECT 1 FROM pg_tables WHERE tablename = 'half_done'")


def test_bad_file_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "1_Initial.sql").write_text("SELECT 1;", encoding="utf-8")
    with pytest.raises(MigrationError, match="NNNN_snake_case"):
        load_migrations(tmp_path)


def test_concurrent_runners_apply_each_file_once(empty_db: str) -> None:
    async def one() -> list[str]:
        conn = await asyncpg.connect(empty_db)
        try:
            return await migrate(conn)
        finally:
            await conn.close()

    async def both() -> list[list[str]]:
        return list(await asyncio.gather(one(), one(), one()))

    results = asyncio.run(both())
    files = [m.name for m in load_migrations()]
    # The advisory lock serialises the runners: one applies everything, the others find nothing to do.
    assert sorted(results, key=len) == [[], [], files]
    assert len(fetch(empty_db, "SELECT version FROM schema_migrations")) == len(files)
