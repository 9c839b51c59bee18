"""Wiring of the health context: validators, caches, the social-insurance gateway, and the use
cases of one unit of work (all ports on the request's connection = one transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.dev.health_insurance_standin import RecordingInsuranceGateway
from adapters.fhir.structure import CompiledValidator, LibraryValidator
from adapters.postgres.health.record import PgRecord
from adapters.postgres.health.repositories import (
    FacilityCache,
    PgAccessLog,
    PgEncounters,
    PgFacilities,
    PgPatients,
    PgShares,
)
from adapters.postgres.notifications.notifier import PgNotifier
from api.platform.container import Container
from api.platform.settings import Settings
from domain.health.access import AccessPolicy
from domain.health.facilities import FacilityRegistry
from domain.health.ingest import IngestEncounterBundle, ValidateEncounterBundle
from domain.health.model import ACCEPTED_TYPES
from domain.health.reading import CitizenRecord, ExportRecord, FhirReads
from domain.health.sharing import AccessHistory, Sharing


@dataclass(frozen=True)
class HealthServices:
    validator: CompiledValidator   # ingestion (fast; definitions compiled from fhir.resources)
    library: LibraryValidator      # $validate (fhir.resources itself)
    facilities: FacilityCache
    # BHXH receiver: the local stand-in (records what it gets) until the real endpoint is contracted.
    insurance: RecordingInsuranceGateway


def build_health(settings: Settings) -> HealthServices:
    return HealthServices(CompiledValidator(ACCEPTED_TYPES), LibraryValidator(), FacilityCache(),
                          RecordingInsuranceGateway())


@dataclass(frozen=True)
class Health:
    policy: AccessPolicy
    ingest: IngestEncounterBundle
    validate: ValidateEncounterBundle
    citizen: CitizenRecord
    fhir: FhirReads
    sharing: Sharing
    history: AccessHistory
    export: ExportRecord
    registry: FacilityRegistry


def health(container: Container, conn: Any) -> Health:
    services = container.get(HealthServices)
    clock = container.clock
    facilities = PgFacilities(conn, services.facilities)
    patients = PgPatients(conn, container.identity.pii)
    record, shares, log = PgRecord(conn), PgShares(conn), PgAccessLog(conn)
    notifier = PgNotifier(conn, clock)
    policy = AccessPolicy(patients=patients, facilities=facilities, shares=shares, record=record, log=log,
                          notifier=notifier, clock=clock)
    ingest = IngestEncounterBundle(facilities=facilities, patients=patients,
                                   encounters=PgEncounters(conn, container.identity.pii),
                                   validator=services.validator, notifier=notifier, clock=clock)
    return Health(policy=policy, ingest=ingest, validate=ValidateEncounterBundle(ingest, services.library),
                  citizen=CitizenRecord(policy, record), fhir=FhirReads(policy, record, patients),
                  sharing=Sharing(policy=policy, shares=shares, facilities=facilities, log=log, clock=clock),
                  history=AccessHistory(policy, log), export=ExportRecord(policy, record, patients),
                  registry=FacilityRegistry(facilities))
