"""THE list of console pages: add a page module's controllers to ``PAGES`` and its menu entry to ``NAV``.

Everything in ``PAGES`` is mounted under ``/console`` behind ``session_guard`` (a live session of a
staff member or city admin, checked on every request) and ``csrf_guard`` (every unsafe request),
with HTML error pages. See docs/console-dev.md for how to write a page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from litestar.types import ControllerRouterHandler

from api.console.admin import AdminPages, may_administer
from api.console.feedback import FEEDBACK_NAV, FEEDBACK_PAGES
from api.console.home import HomeController
from api.console.judicial import JudicialPages
from api.console.login import ConsoleLogoutController
from api.console.stats import StatsPages
from domain.identity.principal import Principal


@dataclass(frozen=True)
class NavItem:
    """A menu entry: ``href`` under /console, its text key, and who sees it (hiding is comfort, not access
    control: every page still checks the caller through the use cases it calls)."""

    href: str
    label: str  # a key of api.console.texts
    visible: Callable[[Principal], bool] = lambda staff: True


PAGES: list[ControllerRouterHandler] = [
    HomeController,
    ConsoleLogoutController,
    *FEEDBACK_PAGES,
    JudicialPages,
    StatsPages,
    AdminPages,
]

NAV: list[NavItem] = [
    NavItem("/console/", "app.home"),
    *(NavItem(href, label, visible) for href, label, visible in FEEDBACK_NAV),
    NavItem("/console/judicial/", "judicial.nav", lambda staff: staff.is_staff),
    NavItem("/console/stats/", "stats.nav"),
    NavItem("/console/admin/", "admin.nav", may_administer),
]


def nav_for(staff: Principal) -> Sequence[NavItem]:
    return [item for item in NAV if item.visible(staff)]
