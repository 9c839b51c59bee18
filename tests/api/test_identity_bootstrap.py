"""Bootstrapping admins: `thudo grant-admin` and the demo seed's grants, applied at login."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import httpx
import jwt
import pytest

from adapters.postgres.pool import connect
from api.platform.cli import seed_demo
from api.platform.settings import Settings
from tests.support.auth import login, random_personal_id, refresh, unit_id


def _thudo(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": str(settings.database_url), "DATA_DIR": str(settings.data_dir),
           "ENVIRONMENT": "test", "LOG_LEVEL": "WARNING"}
    return subprocess.run([sys.executable, "-m", "api.platform.cli", *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def _roles(token: str) -> list[str]:
    return list(jwt.decode(token, options={"verify_signature": False})["roles"])


@pytest.mark.usefixtures("clean_db")
def test_grant_admin_before_and_after_first_login(http: httpx.Client, settings: Settings) -> None:
    newcomer = random_personal_id()
    r = _thudo(settings, "grant-admin", "--personal-id", newcomer)
    assert r.returncode == 0, r.stderr
    assert "first VNeID login" in r.stdout
    assert newcomer not in r.stdout + r.stderr
    assert "city_admin" in _roles(login(http, personal_id=newcomer).access_token)

    existing = login(http)
    assert "city_admin" not in _roles(existing.access_token)
    r = _thudo(settings, "grant-admin", "--personal-id", existing.personal_id)
    assert r.returncode == 0, r.stderr
    assert "city_admin" in _roles(refresh(http, existing).access_token)


def test_grant_admin_rejects_a_malformed_id(settings: Settings) -> None:
    r = _thudo(settings, "grant-admin", "--personal-id", "12345")
    assert r.returncode == 2


@pytest.mark.usefixtures("clean_db")
def test_demo_seed_grants_apply_when_demo_people_log_in(http: httpx.Client, settings: Settings) -> None:
    async def seed() -> None:
        conn = await connect(str(settings.database_url))
        try:
            await seed_demo(conn, settings)
        finally:
            await conn.close()
    asyncio.run(seed())
    admin = login(http, personal_id="001175000404")  # Phạm Thị Dung in the stand-in's demo people
    assert "city_admin" in _roles(admin.access_token)
    officer = login(http, personal_id="001080000303")  # Lê Văn Cường
    assert f"handler@{unit_id(str(settings.database_url), 'W00004')}" in _roles(officer.access_token)
