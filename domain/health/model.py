"""The e-health record: facilities, patients, the stored resources and their app-friendly view,
shares (consent) and the access log.

Storage shape: one row per FHIR resource with the FHIR JSON as we serve it (our ids, references
rewritten, ``meta.versionId``/``lastUpdated``), the search columns the FHIR API filters on, and an
app-friendly ``RecordItem`` for the citizen view — so neither view re-parses a whole bundle on read.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec


class FacilityLevel(StrEnum):
    """Technical level of a facility (tuyến): central, city (provincial), district, commune; private."""

    CENTRAL = "central"
    CITY = "city"
    DISTRICT = "district"
    COMMUNE = "commune"
    PRIVATE = "private"


class Facility(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    code: str
    name: str
    level: FacilityLevel
    district_id: uuid.UUID | None
    # The API client (private_key_jwt) the facility authenticates as; None until registered.
    client_id: uuid.UUID | None = None
    active: bool = True


class Category(StrEnum):
    """What the citizen sees and shares. A share names categories; the FHIR types map onto them."""

    VISITS = "visits"
    PROBLEMS = "problems"
    MEDICATIONS = "medications"
    IMMUNIZATIONS = "immunizations"
    LABS = "labs"
    VITALS = "vitals"
    ALLERGIES = "allergies"
    PROCEDURES = "procedures"
    REFERRALS = "referrals"
    APPOINTMENTS = "appointments"
    DOCUMENTS = "documents"


# Resource types accepted in an encounter bundle (Patient and Encounter exactly once).
CLINICAL_TYPES: tuple[str, ...] = (
    "Condition", "Observation", "MedicationRequest", "Immunization", "AllergyIntolerance", "DiagnosticReport",
    "DocumentReference", "Procedure", "ServiceRequest", "Appointment")
ACCEPTED_TYPES: tuple[str, ...] = ("Patient", "Encounter", *CLINICAL_TYPES)

# Which categories a FHIR type can fall in (Observation splits into labs/vitals by its category).
TYPE_CATEGORIES: dict[str, tuple[Category, ...]] = {
    "Encounter": (Category.VISITS,),
    "Condition": (Category.PROBLEMS,),
    "Observation": (Category.LABS, Category.VITALS),
    "DiagnosticReport": (Category.LABS,),
    "MedicationRequest": (Category.MEDICATIONS,),
    "Immunization": (Category.IMMUNIZATIONS,),
    "AllergyIntolerance": (Category.ALLERGIES,),
    "Procedure": (Category.PROCEDURES,),
    "ServiceRequest": (Category.REFERRALS,),
    "Appointment": (Category.APPOINTMENTS,),
    "DocumentReference": (Category.DOCUMENTS,),
}


class Amount(msgspec.Struct, frozen=True, omit_defaults=True):
    value: float | None = None
    unit: str | None = None
    text: str | None = None


class RecordItem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One entry of the citizen's record, in the app's JSON (snake_case, no FHIR nesting)."""

    id: uuid.UUID
    category: Category
    resource_type: str
    title: str
    date: datetime | None = None
    end: datetime | None = None
    status: str | None = None
    code: str | None = None
    code_system: str | None = None
    facility_id: uuid.UUID | None = None
    facility_name: str | None = None
    encounter_id: uuid.UUID | None = None
    # Visits: class (outpatient/inpatient) and diagnoses shown on the timeline.
    visit_class: str | None = None
    reason: str | None = None
    diagnoses: tuple[str, ...] = ()
    # Results: value, reference range and the facility's interpretation (H/L/N …).
    value: Amount | None = None
    components: tuple[tuple[str, Amount], ...] = ()
    range_low: float | None = None
    range_high: float | None = None
    range_text: str | None = None
    interpretation: str | None = None
    # Medications: dosage and supply; allergies: criticality and reactions.
    dosage: str | None = None
    quantity: Amount | None = None
    criticality: str | None = None
    reactions: tuple[str, ...] = ()
    # Referrals and appointments: the facility they point to; documents: the attachment.
    target: str | None = None
    content_type: str | None = None
    size: int | None = None
    note: str | None = None


class StoredResource(msgspec.Struct, kw_only=True):
    """One resource as stored: FHIR JSON for the FHIR API, ``item`` for the app, and search columns."""

    id: uuid.UUID
    resource_type: str
    source_key: str          # the facility's fullUrl/id, to match a resend to what is stored
    patient_id: uuid.UUID
    facility_id: uuid.UUID
    encounter_id: uuid.UUID
    category: Category
    fhir_categories: tuple[str, ...]  # "system|code" and "code" tokens of the resource's category
    codes: tuple[str, ...]            # "system|code" and "code" tokens of the resource's code
    date: datetime                    # the clinical date; the visit's start when the resource has none
    status: str | None
    clinical_status: str | None
    intent: str | None
    version_id: int
    last_updated: datetime
    content_hash: str
    resource_json: bytes  # the FHIR JSON as served (our ids, references and meta)
    item: RecordItem

    @property
    def resource(self) -> dict[str, Any]:
        decoded: dict[str, Any] = msgspec.json.decode(self.resource_json)
        return decoded


class PatientRef(msgspec.Struct, frozen=True, kw_only=True):
    """A patient as ingestion needs it: the record, the app user (to notify), the demographics' hash."""

    id: uuid.UUID
    user_id: uuid.UUID | None
    demographics_hash: str | None = None


class Demographics(msgspec.Struct, frozen=True, kw_only=True):
    """A Patient's demographics to store (new or changed): the body without the personal ID, its hash.

    Planned before the patient is known: ``body`` names them as ``BUNDLE_PATIENT`` (see there).
    """

    patient_id: uuid.UUID
    body: dict[str, Any]
    digest: str
    at: datetime


# The bundle's patient in rows planned before the store has found (or enrolled) them: every
# reference to the Patient points at ``Patient/<BUNDLE_PATIENT>`` and the patient columns hold it;
# the store puts the real id in its place in the very statement that writes the visit
# (``bind_patient``), so ingesting a new visit needs no lookup round trip first. Content hashes are
# taken over the placeholder form, so they stay comparable whichever path wrote the row.
BUNDLE_PATIENT = uuid.UUID("5b3f1c2e-8d4a-4e7b-9a61-0c2f7e9d4b18")
PATIENT_REFERENCE_PLACEHOLDER = b'"reference":"Patient/%s"' % str(BUNDLE_PATIENT).encode()


def bind_patient(resource_json: bytes, patient_id: uuid.UUID) -> bytes:
    """A planned resource's JSON with the real patient in place of ``BUNDLE_PATIENT``.

    Only whole ``"reference":"Patient/…"`` members are replaced: inside JSON strings every quote is
    escaped, so that sequence occurs nowhere else.
    """
    return resource_json.replace(PATIENT_REFERENCE_PLACEHOLDER,
                                 b'"reference":"Patient/%s"' % str(patient_id).encode())


class NewVisit(msgspec.Struct, frozen=True, kw_only=True):
    """What ``Encounters.insert_new`` did: the patient (None: nobody has that personal ID, nothing
    written) and whether the visit was new (False: the facility sent this visit identifier before)."""

    patient: PatientRef | None
    inserted: bool


class StoredPatient(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    version_id: int
    last_updated: datetime
    resource: dict[str, Any]


class EncounterHeader(msgspec.Struct, kw_only=True):
    """The ingestion unit: one facility visit, keyed by facility + the visit's identifier."""

    id: uuid.UUID
    facility_id: uuid.UUID
    patient_id: uuid.UUID
    identifier: str          # "system|value" of Encounter.identifier
    bundle_hash: str
    version: int
    received_at: datetime
    updated_at: datetime
    insurance_card: str | None = None  # BHYT card number sent with the visit, if any


class ExistingResource(msgspec.Struct, frozen=True):
    id: uuid.UUID
    resource_type: str
    source_key: str
    version_id: int
    content_hash: str
    last_updated: datetime


class ResourceOutcome(msgspec.Struct, frozen=True, kw_only=True):
    resource_type: str
    id: uuid.UUID
    version_id: int
    last_updated: datetime
    outcome: str  # created | updated | unchanged | deleted


class IngestResult(msgspec.Struct, frozen=True, kw_only=True):
    encounter_id: uuid.UUID
    patient_id: uuid.UUID
    created: bool
    resources: tuple[ResourceOutcome, ...]


# --- consent and sharing ------------------------------------------------------------------------------

class Share(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    patient_id: uuid.UUID
    owner_id: uuid.UUID              # the citizen (user id) who shared
    code_hash: bytes                 # only the hash of the code is stored
    categories: tuple[Category, ...]  # empty = the whole record
    recipient: str                   # what the citizen wrote: "BS. Lan, BV Thanh Nhàn"
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def allows(self, category: Category) -> bool:
        return not self.categories or category in self.categories


class ShareGrant(msgspec.Struct, frozen=True, kw_only=True):
    """A reader who redeemed a share code: from then on they read within the share by their own login."""

    share: Share
    reader_kind: str
    reader_id: uuid.UUID


# --- access log ---------------------------------------------------------------------------------------

class ReaderKind(StrEnum):
    FACILITY = "facility"
    SHARED = "shared"        # a doctor (user) or facility holding a share
    STAFF = "staff"


class AccessEntry(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    patient_id: uuid.UUID
    at: datetime
    reader_kind: ReaderKind
    reader_id: uuid.UUID
    reader_name: str
    action: str              # read | search | summary
    what: str                # e.g. "Observation?category=laboratory", "Patient/$summary"
    why: str                 # treatment | share:<recipient> | …
    share_id: uuid.UUID | None = None
