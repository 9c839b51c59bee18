"""Shared pieces of the transit controllers: services and per-request deps."""

from __future__ import annotations

from typing import Any

from api.platform.container import Container
from api.transit import texts as _texts  # noqa: F401  (registers the error texts)
from api.transit.wiring import TransitServices, transit_deps
from domain.transit.usecases.common import Deps

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def services(container: Container) -> TransitServices:
    return container.get(TransitServices)


async def deps(container: Container, conn: Any, *, staff: bool = False) -> Deps:
    s = services(container)
    await s.publish_keys()
    return transit_deps(s, conn, container.clock, staff_unit=await s.staff_unit(conn) if staff else None)
