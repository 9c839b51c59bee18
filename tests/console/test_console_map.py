"""With CONSOLE_MAP_TILE_URL set, a report's page shows the tile around the place with a pin, and its CSP
allows images from that tile server only (docs/staff-guide.md, "For the city's IT team")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from api.console.feedback import tile
from api.platform.app import create_app
from api.platform.settings import Settings
from tests.support.auth import login
from tests.support.console import console_login
from tests.support.feedback import HOAN_KIEM, submit
from tests.support.live import free_port, serve

TILES = "https://tiles.hanoi.example/osm/{z}/{x}/{y}.png"


@pytest.fixture(scope="module")
def mapped(settings: Settings) -> Iterator[httpx.Client]:
    port = free_port()
    # Its own base URL: the VNeID stand-in of this app registers this port's console callback.
    with_map = replace(settings, port=port, extra={**settings.extra, "console_map_tile_url": TILES})
    with serve(create_app(with_map), port) as base, httpx.Client(base_url=base, timeout=15) as client:
        yield client


def test_the_report_page_shows_the_configured_tile_with_a_pin(mapped: httpx.Client, clean_db: str) -> None:
    report = submit(mapped, login(mapped))
    staff = console_login(mapped, clean_db, "W00058")
    page = staff.get(f"/console/feedback/reports/{report['id']}")
    assert page.status_code == 200, page.text
    x, y, px, py = tile(HOAN_KIEM["lat"], HOAN_KIEM["lon"])
    assert f'href="https://tiles.hanoi.example/osm/17/{x}/{y}.png"' in page.text
    assert re.search(rf'<circle cx="{px}" cy="{py}"', page.text)
    assert "img-src 'self' data: https://tiles.hanoi.example;" in page.headers["content-security-policy"]
