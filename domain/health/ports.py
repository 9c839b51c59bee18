"""Ports of the health context: narrow Protocols, split into write and read sides."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

import msgspec

from domain.health.issues import Issue
from domain.health.model import (
    AccessEntry,
    Category,
    Demographics,
    EncounterHeader,
    ExistingResource,
    Facility,
    NewVisit,
    PatientRef,
    Share,
    ShareGrant,
    StoredPatient,
    StoredResource,
)


class StructureValidator(Protocol):
    """Structural FHIR R4 validation (adapters/fhir): every problem with its FHIRPath."""

    def validate(self, data: Any, root: str = "Bundle") -> list[Issue]: ...


class Facilities(Protocol):
    async def by_client(self, client_id: uuid.UUID) -> Facility | None: ...

    async def get(self, facility_id: uuid.UUID) -> Facility | None: ...

    async def by_code(self, code: str) -> Facility | None: ...

    async def add(self, facility: Facility) -> None: ...

    async def update(self, facility: Facility) -> None: ...

    async def list(self, *, district_id: uuid.UUID | None = None) -> list[Facility]: ...

    async def link_kinds(self, district_id: uuid.UUID | None,
                         client_id: uuid.UUID | None) -> tuple[str | None, str | None]:
        """The kind of the unit ``district_id`` names and of the API client ``client_id`` names (None when
        absent or not given): a facility sits in a district and sends with a facility client."""
        ...


class Patients(Protocol):
    """The health record's patients, keyed by the personal ID (only its keyed hash is stored)."""

    async def resolve(self, personal_id: str) -> PatientRef | None:
        """The patient of this personal ID: known to the record, or a citizen known to the city (then
        enrolled on the spot); None when nobody has that personal ID."""
        ...

    async def of_user(self, user_id: uuid.UUID) -> uuid.UUID | None:
        """The patient that a logged-in citizen is (by the personal ID of their e-ID)."""
        ...

    async def user_of(self, patient_id: uuid.UUID) -> uuid.UUID | None:
        """The app user of a patient (to notify them), if they have logged in once."""
        ...

    async def load(self, patient_id: uuid.UUID) -> StoredPatient | None: ...


class Encounters(Protocol):
    """Write side of ingestion: the header by its idempotency key and the rows of one encounter."""

    async def find(self, facility_id: uuid.UUID, identifier: str) -> EncounterHeader | None:
        """The header, locked for this transaction (two resends of one visit serialise here)."""
        ...

    async def resources_of(self, encounter_id: uuid.UUID) -> list[ExistingResource]: ...

    async def insert_new(self, personal_id: str, header: EncounterHeader, resources: list[StoredResource],
                         demographics: Demographics) -> NewVisit:
        """In one round trip: the patient of ``personal_id`` (known to the record, or a citizen known
        to the city, then enrolled on the spot, as ``Patients.resolve``), the Patient's
        ``demographics`` stored unless their digest is unchanged,
        and the visit with its resources if the facility never sent this visit identifier before.

        The rows are planned with ``BUNDLE_PATIENT`` for the patient (columns and references); the
        store writes the patient's real id instead (``bind_patient``). Nothing is written when
        nobody has that personal ID."""
        ...

    async def update(self, header: EncounterHeader, *, upserts: list[StoredResource],
                     deletes: list[uuid.UUID]) -> None: ...


class OwnItemsQuery(msgspec.Struct, frozen=True, kw_only=True):
    """A page of one category of a citizen's own record, checked and ready to read (``Record.own_items``)."""

    user_id: uuid.UUID
    category: Category
    before: tuple[datetime | None, uuid.UUID] | None   # the cursor position (exclusive), None: the first page
    limit: int                                          # the page size (one row more is read: is there a next?)


class OwnItems(msgspec.Struct, frozen=True, kw_only=True):
    patient_id: uuid.UUID | None        # the patient the citizen is; None: the record does not know them
    rows: list[StoredResource]          # up to ``limit + 1`` of their items, newest first


class Record(Protocol):
    """Read side: the stored resources of one patient, filtered as the two APIs need."""

    async def own_items(self, query: OwnItemsQuery) -> OwnItems:
        """The patient a logged-in citizen is (as ``Patients.of_user``) and a page of their items of one
        category (as ``items``), in one read: the citizen app's lists."""
        ...

    async def items(self, patient_id: uuid.UUID, categories: tuple[Category, ...], *,
                    facility_id: uuid.UUID | None, before: tuple[datetime | None, uuid.UUID] | None,
                    limit: int, encounter_id: uuid.UUID | None = None) -> list[StoredResource]:
        """Newest first by (date, id); ``before`` is the cursor position (exclusive)."""
        ...

    async def item(self, patient_id: uuid.UUID, resource_id: uuid.UUID) -> StoredResource | None: ...

    async def search(self, patient_id: uuid.UUID, resource_type: str, *, categories: tuple[Category, ...],
                     facility_id: uuid.UUID | None, category: tuple[str, ...] = (), code: tuple[str, ...] = (),
                     date_from: datetime | None = None, date_to: datetime | None = None,
                     clinical_status: tuple[str, ...] = (), status: tuple[str, ...] = (),
                     intent: tuple[str, ...] = (), offset: int = 0, limit: int = 20) -> list[StoredResource]:
        """A page of one resource type, newest first by (date, id): at most ``limit`` rows after ``offset``."""
        ...

    async def count(self, patient_id: uuid.UUID, resource_type: str, *, categories: tuple[Category, ...],
                    facility_id: uuid.UUID | None, category: tuple[str, ...] = (), code: tuple[str, ...] = (),
                    date_from: datetime | None = None, date_to: datetime | None = None,
                    clinical_status: tuple[str, ...] = (), status: tuple[str, ...] = (),
                    intent: tuple[str, ...] = ()) -> int:
        """How many resources ``search`` would page through with the same filters."""
        ...

    async def read(self, resource_type: str, resource_id: uuid.UUID) -> StoredResource | None: ...

    async def facilities_of(self, patient_id: uuid.UUID) -> frozenset[uuid.UUID]:
        """Facilities that have sent at least one visit of this patient."""
        ...


class Shares(Protocol):
    async def add(self, share: Share) -> None: ...

    async def get(self, share_id: uuid.UUID) -> Share | None: ...

    async def by_code_hash(self, code_hash: bytes) -> Share | None: ...

    async def of_patient(self, patient_id: uuid.UUID) -> list[Share]: ...

    async def revoke(self, share_id: uuid.UUID, at: datetime) -> None: ...

    async def add_grant(self, share_id: uuid.UUID, reader_kind: str, reader_id: uuid.UUID, at: datetime) -> None: ...

    async def grants_of(self, reader_kind: str, reader_id: uuid.UUID, patient_id: uuid.UUID) -> list[ShareGrant]: ...


class AccessLog(Protocol):
    async def add(self, entry: AccessEntry) -> bool:
        """Record a read; True when this reader had never read this patient's record before."""
        ...

    async def of_patient(self, patient_id: uuid.UUID, *, before: uuid.UUID | None, limit: int) -> list[AccessEntry]:
        ...
