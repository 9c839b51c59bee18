"""Facilities send visits: one encounter per FHIR Bundle, with their client token (private_key_jwt)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post

from api.health.citizen import BEARER
from api.health.fhir import fhir_error, ingest
from api.platform.deps import AppContainer, UnitOfWork


class FacilityIngestController(Controller):
    path = "/health-ingest"
    tags = ["health-facility"]
    security = BEARER
    exception_handlers = {Exception: fhir_error}  # FHIR clients: errors are OperationOutcomes here too

    @post("/bundles", operation_id="healthFacilityBundle", status_code=200, media_type="application/fhir+json",
          include_in_schema=False,  # a FHIR endpoint: documented in docs/health-api.md and /fhir/r4/metadata
          summary="One encounter as a FHIR Bundle (transaction or collection); stored whole or not at all",
          description="201 for a new visit, 200 for a resend (updates in place, never duplicates); 422 with an "
                      "OperationOutcome listing every issue and nothing stored.")
    async def bundle(self, request: Request[Any, Any, Any], container: AppContainer,
                     uow: UnitOfWork) -> Response[bytes]:
        return await ingest(request, container, uow)
