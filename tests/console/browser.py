"""Headless Chromium from the system packages, driven by Playwright, for the console's browser tests.

No browser is downloaded: Debian's ``chromium`` (``apt-get install chromium``; .ci/run installs it) is
launched from ``/usr/bin/chromium`` with a fresh profile and background networking off. ``Browser.page``
records every request the page makes and aborts any that leaves the app's own origin (the network "cut"
for third parties), so a test can assert that the console needs nothing from outside; it also collects
the console messages (a Content-Security-Policy violation shows up there).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "staff-guide"


def require_chromium() -> None:
    """.ci/run installs chromium; elsewhere the browser tests fail saying what to install (never skip silently)."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail("Debian's chromium is needed: apt-get install -y --no-install-recommends chromium")


@dataclass
class Watched:
    page: Any
    origin: str
    requests: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def off_loop(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn`` (a helper that calls ``asyncio.run``) on another thread: Playwright's sync API keeps an
    event loop running on this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args).result()


@contextmanager
def browser(base_url: str, *, lang: str = "vi-VN") -> Iterator[Watched]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="thudo-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                args=ARGS,
                headless=True,
                locale=lang,
                viewport={"width": 1280, "height": 900},
                ignore_default_args=["--enable-automation"],
            )
            watched = Watched(page=context.pages[0] if context.pages else context.new_page(), origin=base_url)

            def route(r: Any) -> None:
                url = r.request.url
                watched.requests.append(url)
                if url == base_url or url.startswith(base_url + "/"):
                    r.continue_()
                else:
                    watched.foreign.append(url)
                    r.abort()

            context.route("**/*", route)
            watched.page.on("console", lambda m: watched.console.append(f"{m.type}: {m.text}"))
            try:
                yield watched
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
