"""Postgres adapters of the health ports (write side and small lookups), on the unit of work's connection."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from domain.health.model import (
    BUNDLE_PATIENT,
    PATIENT_REFERENCE_PLACEHOLDER,
    AccessEntry,
    Category,
    Demographics,
    EncounterHeader,
    ExistingResource,
    Facility,
    FacilityLevel,
    NewVisit,
    PatientRef,
    ReaderKind,
    Share,
    ShareGrant,
    StoredPatient,
    StoredResource,
)
from domain.identity.ports import PiiProtector
from domain.shared.ids import new_id

Conn = Any  # an asyncpg connection or pool proxy (the unit of work's)

_json = msgspec.json.Encoder()


def dumps(value: object) -> str:
    return _json.encode(value).decode()


# --- facilities ----------------------------------------------------------------------------------------

_FACILITY_COLS = "id, code, name, level, district_id, client_id, active"


def _facility(row: asyncpg.Record) -> Facility:
    return Facility(id=row["id"], code=row["code"], name=row["name"], level=FacilityLevel(row["level"]),
                    district_id=row["district_id"], client_id=row["client_id"], active=row["active"])


class FacilityCache:
    """Per-process cache of facility by client id: every ingest asks, the registry rarely changes.

    Entries live ``ttl_s`` seconds, so a change made by another process (deactivation) is seen
    within that time; changes made through this process drop the entry at once.
    """

    def __init__(self, ttl_s: float = 30.0) -> None:
        self.ttl_s = ttl_s
        self.entries: dict[uuid.UUID, tuple[float, Facility | None]] = {}

    def get(self, client_id: uuid.UUID) -> tuple[bool, Facility | None]:
        hit = self.entries.get(client_id)
        if hit is None or hit[0] < time.monotonic():
            return False, None
        return True, hit[1]

    def put(self, client_id: uuid.UUID, facility: Facility | None) -> None:
        if len(self.entries) > 10_000:
            self.entries.clear()
        self.entries[client_id] = (time.monotonic() + self.ttl_s, facility)

    def drop(self) -> None:
        self.entries.clear()


class PgFacilities:
    def __init__(self, conn: Conn, cache: FacilityCache | None = None) -> None:
        self.conn = conn
        self.cache = cache

    async def by_client(self, client_id: uuid.UUID) -> Facility | None:
        if self.cache is not None:
            hit, cached = self.cache.get(client_id)
            if hit:
                return cached
        row = await self.conn.fetchrow(f"SELECT {_FACILITY_COLS} FROM health_facilities WHERE client_id = $1",
                                       client_id)
        facility = _facility(row) if row else None
        if self.cache is not None:
            self.cache.put(client_id, facility)
        return facility

    async def get(self, facility_id: uuid.UUID) -> Facility | None:
        row = await self.conn.fetchrow(f"SELECT {_FACILITY_COLS} FROM health_facilities WHERE id = $1", facility_id)
        return _facility(row) if row else None

    async def by_code(self, code: str) -> Facility | None:
        row = await self.conn.fetchrow(f"SELECT {_FACILITY_COLS} FROM health_facilities WHERE code = $1", code)
        return _facility(row) if row else None

    async def add(self, f: Facility) -> None:
        await self.conn.execute(
            f"INSERT INTO health_facilities ({_FACILITY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            f.id, f.code, f.name, f.level.value, f.district_id, f.client_id, f.active)

    async def update(self, f: Facility) -> None:
        await self.conn.execute(
            """UPDATE health_facilities SET name = $2, level = $3, district_id = $4, client_id = $5, active = $6,
               updated_at = now() WHERE id = $1""", f.id, f.name, f.level.value, f.district_id, f.client_id, f.active)
        if self.cache is not None:
            self.cache.drop()

    async def link_kinds(self, district_id: uuid.UUID | None,
                         client_id: uuid.UUID | None) -> tuple[str | None, str | None]:
        row = await self.conn.fetchrow("SELECT (SELECT kind FROM units WHERE id = $1),"
                                       " (SELECT kind FROM api_clients WHERE id = $2)", district_id, client_id)
        return row[0], row[1]

    async def list(self, *, district_id: uuid.UUID | None = None) -> list[Facility]:
        rows = await self.conn.fetch(
            f"SELECT {_FACILITY_COLS} FROM health_facilities WHERE $1::uuid IS NULL OR district_id = $1 ORDER BY code",
            district_id)
        return [_facility(r) for r in rows]


# --- patients --------------------------------------------------------------------------------------------

_ENROL = """INSERT INTO health_patients (id, personal_id_hash) VALUES ($2, $1)
    ON CONFLICT (personal_id_hash) DO UPDATE SET personal_id_hash = EXCLUDED.personal_id_hash RETURNING id"""

_RESOLVE = f"""
WITH u AS (SELECT id FROM users WHERE personal_id_hash = $1),
     p AS (SELECT id, resource_hash FROM health_patients WHERE personal_id_hash = $1),
     enrolled AS ({_ENROL.replace("VALUES ($2, $1)", "SELECT $2, $1 WHERE EXISTS (SELECT 1 FROM u)"
                                  " AND NOT EXISTS (SELECT 1 FROM p)")})
SELECT COALESCE((SELECT id FROM p), (SELECT id FROM enrolled)) AS patient_id,
       (SELECT resource_hash FROM p) AS resource_hash, (SELECT id FROM u) AS user_id
"""


class PgPatients:
    """Patients keyed by the personal ID's keyed hash (the same hash identity keeps for users)."""

    def __init__(self, conn: Conn, pii: PiiProtector) -> None:
        self.conn = conn
        self.pii = pii

    async def resolve(self, personal_id: str) -> PatientRef | None:
        # One round trip: the patient, the citizen, and the enrolment of a citizen the record does not
        # know yet (a first visit). Two first visits of one person at once meet on the unique hash.
        row = await self.conn.fetchrow(_RESOLVE, self.pii.lookup_hash(personal_id), new_id())
        if row["patient_id"] is None:
            return None
        return PatientRef(id=row["patient_id"], user_id=row["user_id"], demographics_hash=row["resource_hash"])

    async def enrol(self, personal_id: str) -> uuid.UUID:
        """Create (or find) the record of a person from the population data (demo seed, imports)."""
        return await self.enrol_hash(self.pii.lookup_hash(personal_id))

    async def enrol_hash(self, digest: bytes) -> uuid.UUID:
        return uuid.UUID(str(await self.conn.fetchval(_ENROL, digest, new_id())))

    async def of_user(self, user_id: uuid.UUID) -> uuid.UUID | None:
        value = await self.conn.fetchval(
            """SELECT p.id FROM users u JOIN health_patients p ON p.personal_id_hash = u.personal_id_hash
               WHERE u.id = $1""", user_id)
        return uuid.UUID(str(value)) if value else None

    async def user_of(self, patient_id: uuid.UUID) -> uuid.UUID | None:
        value = await self.conn.fetchval(
            """SELECT u.id FROM health_patients p JOIN users u ON u.personal_id_hash = p.personal_id_hash
               WHERE p.id = $1""", patient_id)
        return uuid.UUID(str(value)) if value else None

    async def load(self, patient_id: uuid.UUID) -> StoredPatient | None:
        row = await self.conn.fetchrow(
            """SELECT id, version_id, last_updated, resource::text AS resource FROM health_patients
               WHERE id = $1 AND resource IS NOT NULL""",
            patient_id)
        if row is None:
            return None
        return StoredPatient(id=row["id"], version_id=row["version_id"], last_updated=row["last_updated"],
                             resource=msgspec.json.decode(row["resource"]))


# --- encounters (ingestion) ------------------------------------------------------------------------------

_UPSERT_RESOURCES = """
INSERT INTO health_resources (id, encounter_id, patient_id, facility_id, resource_type, source_key, category,
    fhir_categories, codes, date, status, clinical_status, intent, version_id, last_updated, content_hash,
    resource, item)
SELECT r.id, $1, $2, $3, r.resource_type, r.source_key, r.category,
       COALESCE(ARRAY(SELECT jsonb_array_elements_text(r.fhir_categories::jsonb)), '{}'),
       COALESCE(ARRAY(SELECT jsonb_array_elements_text(r.codes::jsonb)), '{}'),
       r.date, r.status, r.clinical_status, r.intent, r.version_id, $4, r.content_hash, r.resource::jsonb,
       r.item::jsonb
FROM unnest($5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[],
            $12::text[], $13::text[], $14::text[], $15::int[], $16::text[], $17::text[], $18::text[])
     AS r(id, resource_type, source_key, category, fhir_categories, codes, date, status, clinical_status, intent,
          version_id, content_hash, resource, item)
ON CONFLICT (id) DO UPDATE SET category = EXCLUDED.category, fhir_categories = EXCLUDED.fhir_categories,
    codes = EXCLUDED.codes, date = EXCLUDED.date, status = EXCLUDED.status,
    clinical_status = EXCLUDED.clinical_status, intent = EXCLUDED.intent, version_id = EXCLUDED.version_id,
    last_updated = EXCLUDED.last_updated, content_hash = EXCLUDED.content_hash, resource = EXCLUDED.resource,
    item = EXCLUDED.item
"""


def _patient_json(pid: str, version: str) -> str:
    """The stored Patient: resourceType, id and meta built here, then the demographics ($25) naming the
    patient as BUNDLE_PATIENT, with the patient's id put in its place."""
    return (f"""jsonb_build_object('resourceType', 'Patient', 'id', {pid}::text, 'meta',
        jsonb_build_object('versionId', ({version})::text,
                           'lastUpdated', to_char($4 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
        || replace($25::text, '"{BUNDLE_PATIENT}"', '"' || {pid}::text || '"')::jsonb""")


# The resource's JSON with the patient's id in place of BUNDLE_PATIENT (``bind_patient``, in SQL).
_BOUND_RESOURCE = (f"replace(r.resource, '{PATIENT_REFERENCE_PLACEHOLDER.decode()}', "
                   "'\"reference\":\"Patient/' || header.patient_id::text || '\"')::jsonb")


# A new visit in one round trip, patient included (``PgEncounters.insert_new``):
#   u, p       the citizen and the patient of the personal ID's keyed hash ($2);
#   enrolled   a citizen the record does not know yet (a first visit) enrolled with the demographics
#              (two first visits of one person at once meet on the unique hash: the later one keeps
#              the patient and stores its demographics if they differ);
#   demographics  a known patient's, rewritten only when their digest ($26) changed;
#   header     the visit, unless the facility sent this identifier before (or nobody has that ID);
#   rows       its resources (only if the header went in), the patient bound into their JSON.
# $1 encounter id, $3 facility, $4 now, $5-$18 the resource columns, $19 identifier, $20 bundle hash,
# $21 version, $22 received_at, $23 insurance card, $24 a new patient id, $25 demographics, $26 digest.
_INSERT_NEW = f"""
WITH u AS (SELECT id FROM users WHERE personal_id_hash = $2),
p AS (SELECT id FROM health_patients WHERE personal_id_hash = $2),
enrolled AS (
    INSERT INTO health_patients AS hp (id, personal_id_hash, version_id, last_updated, resource_hash, resource)
    SELECT $24::uuid, $2, 1, $4, $26, {_patient_json("$24::uuid", "1")}
    WHERE EXISTS (SELECT 1 FROM u) AND NOT EXISTS (SELECT 1 FROM p)
    ON CONFLICT (personal_id_hash) DO UPDATE SET
        version_id = hp.version_id + (hp.resource_hash IS DISTINCT FROM $26)::int,
        last_updated = CASE WHEN hp.resource_hash IS DISTINCT FROM $26 THEN $4 ELSE hp.last_updated END,
        resource = CASE WHEN hp.resource_hash IS DISTINCT FROM $26 THEN {_patient_json("hp.id", "hp.version_id + 1")}
                        ELSE hp.resource END,
        resource_hash = $26
    RETURNING id
), demographics AS (
    UPDATE health_patients hp SET version_id = hp.version_id + 1, last_updated = $4, resource_hash = $26,
        resource = {_patient_json("hp.id", "hp.version_id + 1")}
    FROM p WHERE hp.id = p.id AND hp.resource_hash IS DISTINCT FROM $26
), patient AS (
    SELECT COALESCE((SELECT id FROM p), (SELECT id FROM enrolled)) AS id
), header AS (
    INSERT INTO health_encounters (id, facility_id, patient_id, identifier, bundle_hash, version, received_at,
                                   updated_at, insurance_card)
    SELECT $1, $3, patient.id, $19, $20, $21, $22, $4, $23 FROM patient WHERE patient.id IS NOT NULL
    ON CONFLICT (facility_id, identifier) DO NOTHING RETURNING id, patient_id
), rows AS (
""" + _UPSERT_RESOURCES.replace("FROM unnest(", "FROM header, unnest(").replace(
    "SELECT r.id, $1, $2,", "SELECT r.id, header.id, header.patient_id,").replace(
    "r.resource::jsonb", _BOUND_RESOURCE).strip() + """
    RETURNING 1
)
SELECT (SELECT id FROM patient) AS patient_id, (SELECT id FROM u) AS user_id,
       EXISTS (SELECT 1 FROM header) AS inserted, (SELECT count(*) FROM rows) AS written
"""


def resource_args(rows: list[StoredResource]) -> tuple[list[Any], ...]:
    """Column arrays of the upsert (one statement for every resource of the bundle)."""
    return ([r.id for r in rows], [r.resource_type for r in rows], [r.source_key for r in rows],
            [r.category.value for r in rows], [dumps(r.fhir_categories) for r in rows], [dumps(r.codes) for r in rows],
            [r.date for r in rows], [r.status for r in rows], [r.clinical_status for r in rows],
            [r.intent for r in rows], [r.version_id for r in rows], [r.content_hash for r in rows],
            [r.resource_json.decode() for r in rows], [dumps(r.item) for r in rows])


class PgEncounters:
    def __init__(self, conn: Conn, pii: PiiProtector) -> None:
        self.conn = conn
        self.pii = pii

    async def find(self, facility_id: uuid.UUID, identifier: str) -> EncounterHeader | None:
        row = await self.conn.fetchrow(
            """SELECT id, facility_id, patient_id, identifier, bundle_hash, version, received_at, updated_at,
                      insurance_card FROM health_encounters WHERE facility_id = $1 AND identifier = $2 FOR UPDATE""",
            facility_id, identifier)
        return EncounterHeader(**dict(row)) if row else None

    async def resources_of(self, encounter_id: uuid.UUID) -> list[ExistingResource]:
        rows = await self.conn.fetch(
            """SELECT id, resource_type, source_key, version_id, content_hash, last_updated
               FROM health_resources WHERE encounter_id = $1""", encounter_id)
        return [ExistingResource(r["id"], r["resource_type"], r["source_key"], r["version_id"], r["content_hash"],
                                 r["last_updated"]) for r in rows]

    async def insert_new(self, personal_id: str, header: EncounterHeader, resources: list[StoredResource],
                         demographics: Demographics) -> NewVisit:
        # Patient, demographics, header and resources in one round trip (see _INSERT_NEW); the
        # resources only go in if the header did, the header only if the patient was found.
        row = await self.conn.fetchrow(
            _INSERT_NEW, header.id, self.pii.lookup_hash(personal_id), header.facility_id, header.updated_at,
            *resource_args(resources), header.identifier, header.bundle_hash, header.version, header.received_at,
            header.insurance_card, new_id(), dumps(demographics.body), demographics.digest)
        if row["patient_id"] is None:
            return NewVisit(patient=None, inserted=False)
        return NewVisit(patient=PatientRef(id=row["patient_id"], user_id=row["user_id"]), inserted=row["inserted"])

    async def update(self, header: EncounterHeader, *, upserts: list[StoredResource],
                     deletes: list[uuid.UUID]) -> None:
        await self.conn.execute(
            """UPDATE health_encounters SET bundle_hash = $2, version = $3, updated_at = $4, insurance_card = $5,
                   insurance_due_at = now(), insurance_attempts = 0 WHERE id = $1""",
            header.id, header.bundle_hash, header.version, header.updated_at, header.insurance_card)
        if deletes:
            await self.conn.execute("DELETE FROM health_resources WHERE id = ANY($1::uuid[])", deletes)
        if upserts:
            await self.conn.execute(_UPSERT_RESOURCES, header.id, header.patient_id, header.facility_id,
                                    header.updated_at, *resource_args(upserts))


# --- shares and the access log ---------------------------------------------------------------------------

_SHARE_COLS = "id, patient_id, owner_id, code_hash, categories, recipient, created_at, expires_at, revoked_at"


def _share(row: asyncpg.Record, prefix: str = "") -> Share:
    return Share(id=row[f"{prefix}id"], patient_id=row[f"{prefix}patient_id"], owner_id=row[f"{prefix}owner_id"],
                 code_hash=bytes(row[f"{prefix}code_hash"]),
                 categories=tuple(Category(c) for c in row[f"{prefix}categories"]),
                 recipient=row[f"{prefix}recipient"], created_at=row[f"{prefix}created_at"],
                 expires_at=row[f"{prefix}expires_at"], revoked_at=row[f"{prefix}revoked_at"])


class PgShares:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def add(self, s: Share) -> None:
        await self.conn.execute(
            f"INSERT INTO health_shares ({_SHARE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            s.id, s.patient_id, s.owner_id, s.code_hash, [c.value for c in s.categories], s.recipient, s.created_at,
            s.expires_at, s.revoked_at)

    async def get(self, share_id: uuid.UUID) -> Share | None:
        row = await self.conn.fetchrow(f"SELECT {_SHARE_COLS} FROM health_shares WHERE id = $1", share_id)
        return _share(row) if row else None

    async def by_code_hash(self, code_hash: bytes) -> Share | None:
        row = await self.conn.fetchrow(f"SELECT {_SHARE_COLS} FROM health_shares WHERE code_hash = $1", code_hash)
        return _share(row) if row else None

    async def of_patient(self, patient_id: uuid.UUID) -> list[Share]:
        rows = await self.conn.fetch(
            f"""SELECT {_SHARE_COLS} FROM health_shares WHERE patient_id = $1
                ORDER BY created_at DESC, id DESC LIMIT 200""",
            patient_id)
        return [_share(r) for r in rows]

    async def revoke(self, share_id: uuid.UUID, at: datetime) -> None:
        await self.conn.execute("UPDATE health_shares SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                                share_id, at)

    async def add_grant(self, share_id: uuid.UUID, reader_kind: str, reader_id: uuid.UUID, at: datetime) -> None:
        await self.conn.execute(
            """INSERT INTO health_share_grants (share_id, reader_kind, reader_id, granted_at) VALUES ($1, $2, $3, $4)
               ON CONFLICT DO NOTHING""", share_id, reader_kind, reader_id, at)

    async def grants_of(self, reader_kind: str, reader_id: uuid.UUID, patient_id: uuid.UUID) -> list[ShareGrant]:
        rows = await self.conn.fetch(
            f"""SELECT {', '.join('s.' + c for c in _SHARE_COLS.split(', '))}, g.reader_kind, g.reader_id
                FROM health_share_grants g JOIN health_shares s ON s.id = g.share_id
                WHERE g.reader_kind = $1 AND g.reader_id = $2 AND s.patient_id = $3""",
            reader_kind, reader_id, patient_id)
        return [ShareGrant(share=_share(r), reader_kind=r["reader_kind"], reader_id=r["reader_id"]) for r in rows]


_ACCESS_COLS = "id, patient_id, at, reader_kind, reader_id, reader_name, action, what, why, share_id"


class PgAccessLog:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def add(self, e: AccessEntry) -> bool:
        return bool(await self.conn.fetchval(
            f"""WITH prior AS (SELECT EXISTS (SELECT 1 FROM health_access_log
                                             WHERE patient_id = $2 AND reader_kind = $4 AND reader_id = $5) AS seen),
                     ins AS (INSERT INTO health_access_log ({_ACCESS_COLS})
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10))
                SELECT NOT seen FROM prior""",
            e.id, e.patient_id, e.at, e.reader_kind.value, e.reader_id, e.reader_name, e.action, e.what, e.why,
            e.share_id))

    async def of_patient(self, patient_id: uuid.UUID, *, before: uuid.UUID | None, limit: int) -> list[AccessEntry]:
        rows = await self.conn.fetch(
            f"""SELECT {_ACCESS_COLS} FROM health_access_log
                WHERE patient_id = $1 AND ($2::uuid IS NULL OR id < $2) ORDER BY id DESC LIMIT $3""",
            patient_id, before, limit)
        return [AccessEntry(id=r["id"], patient_id=r["patient_id"], at=r["at"],
                            reader_kind=ReaderKind(r["reader_kind"]),
                            reader_id=r["reader_id"], reader_name=r["reader_name"], action=r["action"],
                            what=r["what"], why=r["why"], share_id=r["share_id"]) for r in rows]
