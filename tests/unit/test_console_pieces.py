"""The console's small pure pieces: map tiles, the page CSP, the tile-server setting, CSRF tokens, next URLs."""

from __future__ import annotations

import math

import pytest

from api.console.context import _url
from api.console.feedback import tile
from api.console.render import _csp
from api.console.session import csrf_token, safe_next
from api.console.texts import register, text


def test_tile_numbers_follow_openstreetmaps_tiling() -> None:
    assert tile(0.0, 0.0, 1) == (1, 1, 0, 0)
    assert tile(85.0, -179.999, 2)[:2] == (0, 0)
    x, y, px, py = tile(21.0287, 105.8545, 17)
    # The OpenStreetMap wiki's formula (slippy map tilenames), written independently here:
    n, lat = 2**17, math.radians(21.0287)
    assert (x, y) == (
        int((105.8545 + 180) / 360 * n),
        int((1 - math.log(math.tan(lat) + 1 / math.cos(lat)) / math.pi) / 2 * n),
    )
    assert 0 <= px < 256
    assert 0 <= py < 256


def test_the_csp_allows_the_configured_tile_host_only() -> None:
    assert "img-src 'self' data:;" in _csp("")
    policy = _csp("https://tiles.hanoi.example/osm/{z}/{x}/{y}.png")
    assert "img-src 'self' data: https://tiles.hanoi.example;" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


@pytest.mark.parametrize("bad", ["ftp://x/{z}/{x}/{y}", "https://tiles.example/{z}/{x}.png", "tiles/{z}/{x}/{y}"])
def test_the_tile_setting_must_be_an_http_url_with_z_x_y(bad: str) -> None:
    with pytest.raises(ValueError, match="CONSOLE_MAP_TILE_URL"):
        _url(bad)
    assert _url(" ") == ""


def test_csrf_tokens_are_bound_to_the_session_cookie() -> None:
    assert csrf_token("a") == csrf_token("a")
    assert csrf_token("a") != csrf_token("b")
    assert "a" not in csrf_token("a")


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/console/feedback/?status=pending", "/console/feedback/?status=pending"),
        ("https://evil.example/console/", "/console/"),
        ("//evil.example/console/", "/console/"),
        ("/api/v1/me", "/console/"),
        (None, "/console/"),
    ],
)
def test_next_stays_inside_the_console(target: str | None, kept: str) -> None:
    assert safe_next(target) == kept


def test_texts_need_both_languages_and_one_meaning() -> None:
    with pytest.raises(ValueError, match="vi and en"):
        register({"test.only_vi": {"vi": "chỉ tiếng Việt"}})
    with pytest.raises(ValueError, match="twice"):
        register({"app.logout": {"vi": "Thoát", "en": "Exit"}})
    assert text("app.logout", "en") == "Log out"
