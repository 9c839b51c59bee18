"""The judicial context's registration: citizen requests and certificates, the authority's staff,
public verification (share codes, JWKS, status lists)."""

from __future__ import annotations

from api.judicial.citizen import CitizenJudicialController
from api.judicial.public import PublicJudicialController
from api.judicial.staff import StaffJudicialController
from api.judicial.wiring import build_judicial
from api.platform.context import Context

JUDICIAL = Context(
    name="judicial",
    api_v1=[CitizenJudicialController, StaffJudicialController, PublicJudicialController],
    services=build_judicial,
)
