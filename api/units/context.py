"""The units context's registration: the public directory only (the units are reference data of the
foundation migration, loaded by ``adapters.postgres.seed``)."""

from __future__ import annotations

from api.platform.context import Context
from api.units.directory import UnitsController

UNITS = Context(name="units", api_v1=[UnitsController])
