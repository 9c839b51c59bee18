"""In-memory fakes of the health ports (unit tests) and helpers shared by the health tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from adapters.fhir.structure import CompiledValidator
from domain.health.access import AccessPolicy
from domain.health.ingest import IngestEncounterBundle
from domain.health.model import (
    BUNDLE_PATIENT,
    AccessEntry,
    Category,
    Demographics,
    EncounterHeader,
    ExistingResource,
    Facility,
    FacilityLevel,
    NewVisit,
    PatientRef,
    Share,
    ShareGrant,
    StoredPatient,
    StoredResource,
    bind_patient,
)
from domain.health.ports import OwnItems, OwnItemsQuery
from domain.health.reading import CitizenRecord, FhirReads
from domain.health.sharing import AccessHistory, Sharing
from domain.identity.principal import ClientKind, Principal, PrincipalKind
from domain.notifications.model import Notification


class FakeClock:
    def __init__(self, t: datetime = datetime(2026, 6, 2, 3, 0, tzinfo=UTC)) -> None:
        self.t = t

    def now(self) -> datetime:
        return self.t

    def advance(self, **kw: float) -> None:
        self.t += timedelta(**kw)


class FakeFacilities:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Facility] = {}

    async def by_client(self, client_id: uuid.UUID) -> Facility | None:
        return next((f for f in self.rows.values() if f.client_id == client_id), None)

    async def get(self, facility_id: uuid.UUID) -> Facility | None:
        return self.rows.get(facility_id)

    async def by_code(self, code: str) -> Facility | None:
        return next((f for f in self.rows.values() if f.code == code), None)

    async def add(self, facility: Facility) -> None:
        self.rows[facility.id] = facility

    async def update(self, facility: Facility) -> None:
        self.rows[facility.id] = facility

    async def link_kinds(self, district_id: uuid.UUID | None,
                         client_id: uuid.UUID | None) -> tuple[str | None, str | None]:
        # The fake world knows no units; every client it hands out is a facility's (see HealthWorld.facility).
        return None, ("facility" if client_id is not None else None)

    async def list(self, *, district_id: uuid.UUID | None = None) -> list[Facility]:
        return sorted((f for f in self.rows.values() if district_id is None or f.district_id == district_id),
                      key=lambda f: f.code)


class FakePatients:
    """Citizens known to the city: personal id -> user id; patients created on first resolve."""

    def __init__(self) -> None:
        self.citizens: dict[str, uuid.UUID] = {}
        self.by_pid: dict[str, uuid.UUID] = {}
        self.stored: dict[uuid.UUID, StoredPatient] = {}
        self.digests: dict[uuid.UUID, str] = {}

    def citizen(self, personal_id: str) -> uuid.UUID:
        return self.citizens.setdefault(personal_id, uuid.uuid4())

    async def resolve(self, personal_id: str) -> PatientRef | None:
        user = self.citizens.get(personal_id)
        if personal_id not in self.by_pid:
            if user is None:
                return None
            self.by_pid[personal_id] = uuid.uuid4()
        pid = self.by_pid[personal_id]
        return PatientRef(id=pid, user_id=user, demographics_hash=self.digests.get(pid))

    async def of_user(self, user_id: uuid.UUID) -> uuid.UUID | None:
        pid = next((p for p, u in self.citizens.items() if u == user_id), None)
        return self.by_pid.get(pid) if pid else None

    async def user_of(self, patient_id: uuid.UUID) -> uuid.UUID | None:
        pid = next((p for p, i in self.by_pid.items() if i == patient_id), None)
        return self.citizens.get(pid) if pid else None

    async def load(self, patient_id: uuid.UUID) -> StoredPatient | None:
        return self.stored.get(patient_id)

    def store_demographics(self, patient_id: uuid.UUID, body: dict[str, Any], digest: str, at: datetime) -> None:
        """What ``insert_new`` does to the Patient: ``body`` stored unless ``digest`` is unchanged."""
        old = self.stored.get(patient_id)
        if old is not None and self.digests.get(patient_id) == digest:
            return
        version = old.version_id + 1 if old else 1
        self.digests[patient_id] = digest
        self.stored[patient_id] = StoredPatient(id=patient_id, version_id=version, last_updated=at, resource={
            "resourceType": "Patient", "id": str(patient_id),
            "meta": {"versionId": str(version), "lastUpdated": at.isoformat().replace("+00:00", "Z")}, **body})


class FakeStore:
    """Encounters (write side) and Record (read side) over the same dicts, like the one Postgres schema."""

    def __init__(self) -> None:
        self.headers: dict[tuple[uuid.UUID, str], EncounterHeader] = {}
        self.resources: dict[uuid.UUID, StoredResource] = {}
        self.saves = 0
        self.patients: FakePatients | None = None  # where insert_new's demographics go (as in one schema)

    async def find(self, facility_id: uuid.UUID, identifier: str) -> EncounterHeader | None:
        return self.headers.get((facility_id, identifier))

    async def resources_of(self, encounter_id: uuid.UUID) -> list[ExistingResource]:
        return [ExistingResource(r.id, r.resource_type, r.source_key, r.version_id, r.content_hash, r.last_updated)
                for r in self.resources.values() if r.encounter_id == encounter_id]

    async def insert_new(self, personal_id: str, header: EncounterHeader, resources: list[StoredResource],
                         demographics: Demographics) -> NewVisit:
        assert self.patients is not None
        patient = await self.patients.resolve(personal_id)
        if patient is None:
            return NewVisit(patient=None, inserted=False)
        body = msgspec.json.decode(msgspec.json.encode(demographics.body).replace(
            str(BUNDLE_PATIENT).encode(), str(patient.id).encode()))
        self.patients.store_demographics(patient.id, body, demographics.digest, demographics.at)
        if (header.facility_id, header.identifier) in self.headers:
            return NewVisit(patient=patient, inserted=False)
        await self.update(msgspec.structs.replace(header, patient_id=patient.id), upserts=[
            msgspec.structs.replace(r, patient_id=patient.id, resource_json=bind_patient(r.resource_json, patient.id))
            for r in resources], deletes=[])
        return NewVisit(patient=patient, inserted=True)

    async def update(self, header: EncounterHeader, *, upserts: list[StoredResource],
                     deletes: list[uuid.UUID]) -> None:
        self.saves += 1
        self.headers[(header.facility_id, header.identifier)] = header
        for rid in deletes:
            self.resources.pop(rid, None)
        for r in upserts:
            self.resources[r.id] = r

    @staticmethod
    def _key(r: StoredResource) -> tuple[datetime, uuid.UUID]:
        return (r.date or datetime.min.replace(tzinfo=UTC), r.id)

    async def own_items(self, query: OwnItemsQuery) -> OwnItems:
        assert self.patients is not None
        patient_id = await self.patients.of_user(query.user_id)
        if patient_id is None:
            return OwnItems(patient_id=None, rows=[])
        return OwnItems(patient_id=patient_id, rows=await self.items(
            patient_id, (query.category,), facility_id=None, before=query.before, limit=query.limit + 1))

    async def items(self, patient_id: uuid.UUID, categories: tuple[Category, ...], *,
                    facility_id: uuid.UUID | None, before: tuple[datetime | None, uuid.UUID] | None,
                    limit: int, encounter_id: uuid.UUID | None = None) -> list[StoredResource]:
        rows = [r for r in self.resources.values() if r.patient_id == patient_id and r.category in categories
                and (facility_id is None or r.facility_id == facility_id)
                and (encounter_id is None or r.encounter_id == encounter_id)]
        rows.sort(key=self._key, reverse=True)
        if before is not None:
            pos = (before[0] or datetime.min.replace(tzinfo=UTC), before[1])
            rows = [r for r in rows if self._key(r) < pos]
        return rows[:limit]

    async def item(self, patient_id: uuid.UUID, resource_id: uuid.UUID) -> StoredResource | None:
        r = self.resources.get(resource_id)
        return r if r is not None and r.patient_id == patient_id else None

    async def search(self, patient_id: uuid.UUID, resource_type: str, *, categories: tuple[Category, ...],
                     facility_id: uuid.UUID | None, category: tuple[str, ...] = (), code: tuple[str, ...] = (),
                     date_from: datetime | None = None, date_to: datetime | None = None,
                     clinical_status: tuple[str, ...] = (), status: tuple[str, ...] = (),
                     intent: tuple[str, ...] = (), offset: int = 0, limit: int = 20) -> list[StoredResource]:
        return self._matches(patient_id, resource_type, categories=categories, facility_id=facility_id,
                             category=category, code=code, date_from=date_from, date_to=date_to,
                             clinical_status=clinical_status, status=status, intent=intent)[offset:offset + limit]

    async def count(self, patient_id: uuid.UUID, resource_type: str, *, categories: tuple[Category, ...],
                    facility_id: uuid.UUID | None, category: tuple[str, ...] = (), code: tuple[str, ...] = (),
                    date_from: datetime | None = None, date_to: datetime | None = None,
                    clinical_status: tuple[str, ...] = (), status: tuple[str, ...] = (),
                    intent: tuple[str, ...] = ()) -> int:
        return len(self._matches(patient_id, resource_type, categories=categories, facility_id=facility_id,
                                 category=category, code=code, date_from=date_from, date_to=date_to,
                                 clinical_status=clinical_status, status=status, intent=intent))

    def _matches(self, patient_id: uuid.UUID, resource_type: str, *, categories: tuple[Category, ...],
                 facility_id: uuid.UUID | None, category: tuple[str, ...], code: tuple[str, ...],
                 date_from: datetime | None, date_to: datetime | None, clinical_status: tuple[str, ...],
                 status: tuple[str, ...], intent: tuple[str, ...]) -> list[StoredResource]:
        rows = [r for r in self.resources.values() if r.patient_id == patient_id
                and r.resource_type == resource_type and r.category in categories
                and (facility_id is None or r.facility_id == facility_id)
                and (not category or set(category) & set(r.fhir_categories))
                and (not code or set(code) & set(r.codes))
                and (date_from is None or (r.date is not None and r.date >= date_from))
                and (date_to is None or (r.date is not None and r.date < date_to))
                and (not clinical_status or r.clinical_status in clinical_status)
                and (not status or r.status in status) and (not intent or r.intent in intent)]
        rows.sort(key=self._key, reverse=True)
        return rows

    async def read(self, resource_type: str, resource_id: uuid.UUID) -> StoredResource | None:
        r = self.resources.get(resource_id)
        return r if r is not None and r.resource_type == resource_type else None

    async def facilities_of(self, patient_id: uuid.UUID) -> frozenset[uuid.UUID]:
        return frozenset(h.facility_id for h in self.headers.values() if h.patient_id == patient_id)


class FakeShares:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Share] = {}
        self.grants: list[tuple[uuid.UUID, str, uuid.UUID]] = []

    async def add(self, share: Share) -> None:
        self.rows[share.id] = share

    async def get(self, share_id: uuid.UUID) -> Share | None:
        return self.rows.get(share_id)

    async def by_code_hash(self, code_hash: bytes) -> Share | None:
        return next((s for s in self.rows.values() if s.code_hash == code_hash), None)

    async def of_patient(self, patient_id: uuid.UUID) -> list[Share]:
        return sorted((s for s in self.rows.values() if s.patient_id == patient_id), key=lambda s: s.created_at,
                      reverse=True)

    async def revoke(self, share_id: uuid.UUID, at: datetime) -> None:
        import msgspec
        self.rows[share_id] = msgspec.structs.replace(self.rows[share_id], revoked_at=at)

    async def add_grant(self, share_id: uuid.UUID, reader_kind: str, reader_id: uuid.UUID, at: datetime) -> None:
        if (share_id, reader_kind, reader_id) not in self.grants:
            self.grants.append((share_id, reader_kind, reader_id))

    async def grants_of(self, reader_kind: str, reader_id: uuid.UUID, patient_id: uuid.UUID) -> list[ShareGrant]:
        return [ShareGrant(share=self.rows[s], reader_kind=k, reader_id=r) for s, k, r in self.grants
                if k == reader_kind and r == reader_id and self.rows[s].patient_id == patient_id]


class FakeAccessLog:
    def __init__(self) -> None:
        self.rows: list[AccessEntry] = []

    async def add(self, entry: AccessEntry) -> bool:
        first = not any(e.patient_id == entry.patient_id and e.reader_kind == entry.reader_kind
                        and e.reader_id == entry.reader_id for e in self.rows)
        self.rows.append(entry)
        return first

    async def of_patient(self, patient_id: uuid.UUID, *, before: uuid.UUID | None, limit: int) -> list[AccessEntry]:
        rows = sorted((e for e in self.rows if e.patient_id == patient_id and (before is None or e.id < before)),
                      key=lambda e: e.id, reverse=True)
        return rows[:limit]


class FakeNotifier:
    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def notify(self, notification: Notification) -> None:
        if all(n.key != notification.key for n in self.sent):
            self.sent.append(notification)


@dataclass
class World:
    """Everything a health use case needs, wired to fakes."""

    clock: FakeClock = field(default_factory=FakeClock)
    facilities: FakeFacilities = field(default_factory=FakeFacilities)
    patients: FakePatients = field(default_factory=FakePatients)
    store: FakeStore = field(default_factory=FakeStore)
    shares: FakeShares = field(default_factory=FakeShares)
    log: FakeAccessLog = field(default_factory=FakeAccessLog)
    notifier: FakeNotifier = field(default_factory=FakeNotifier)

    def __post_init__(self) -> None:
        self.store.patients = self.patients
        self.policy = AccessPolicy(patients=self.patients, facilities=self.facilities, shares=self.shares,
                                   record=self.store, log=self.log, notifier=self.notifier, clock=self.clock)
        self.ingest = IngestEncounterBundle(facilities=self.facilities, patients=self.patients, encounters=self.store,
                                            validator=CompiledValidator(), notifier=self.notifier, clock=self.clock)
        self.citizen = CitizenRecord(self.policy, self.store)
        self.fhir = FhirReads(self.policy, self.store, self.patients)
        self.sharing = Sharing(policy=self.policy, shares=self.shares, facilities=self.facilities, log=self.log,
                               clock=self.clock)
        self.history = AccessHistory(self.policy, self.log)

    async def facility(self, code: str, name: str = "") -> tuple[Facility, Principal]:
        client = uuid.uuid4()
        f = Facility(id=uuid.uuid4(), code=code, name=name or f"Facility {code}", level=FacilityLevel.CITY,
                     district_id=None, client_id=client)
        await self.facilities.add(f)
        return f, Principal(kind=PrincipalKind.CLIENT, id=client, client_kind=ClientKind.FACILITY)

    def citizen_principal(self, personal_id: str, level: int = 2) -> Principal:
        return Principal(kind=PrincipalKind.USER, id=self.patients.citizen(personal_id), level=level)


def bundle_with(bundle: dict[str, Any], index: int, **changes: Any) -> dict[str, Any]:
    """A deep copy of ``bundle`` with entry ``index``'s resource changed (None removes an element)."""
    import copy
    out = copy.deepcopy(bundle)
    resource = out["entry"][index]["resource"]
    for k, v in changes.items():
        if v is None:
            resource.pop(k, None)
        else:
            resource[k] = v
    return out


def entry_index(bundle: dict[str, Any], resource_type: str, nth: int = 0) -> int:
    found = [i for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == resource_type]
    return found[nth]


# --- Postgres-backed wiring (integration tests, bench, seed) --------------------------------------------

_VALIDATOR = CompiledValidator()  # one per process, as the app's container holds it


def pg_use_cases(conn: Any, pii: Any, clock: Any, facility_cache: Any = None) -> dict[str, Any]:
    """The health use cases on one connection (the caller owns the transaction)."""
    from adapters.postgres.health.record import PgRecord
    from adapters.postgres.health.repositories import PgAccessLog, PgEncounters, PgFacilities, PgPatients, PgShares
    from adapters.postgres.notifications.notifier import PgNotifier

    facilities, patients, record = PgFacilities(conn, facility_cache), PgPatients(conn, pii), PgRecord(conn)
    shares, log, notifier = PgShares(conn), PgAccessLog(conn), PgNotifier(conn, clock)
    policy = AccessPolicy(patients=patients, facilities=facilities, shares=shares, record=record, log=log,
                          notifier=notifier, clock=clock)
    return {
        "ingest": IngestEncounterBundle(facilities=facilities, patients=patients, encounters=PgEncounters(conn, pii),
                                        validator=_VALIDATOR, notifier=notifier, clock=clock),
        "citizen": CitizenRecord(policy, record), "fhir": FhirReads(policy, record, patients),
        "sharing": Sharing(policy=policy, shares=shares, facilities=facilities, log=log, clock=clock),
        "history": AccessHistory(policy, log), "patients": patients, "facilities": facilities, "policy": policy,
    }


async def pg_citizen(conn: Any, pii: Any, personal_id: str, name: str = "Công dân thử") -> uuid.UUID:
    """A users row for this personal id (as a VNeID login would create it)."""
    uid = uuid.uuid4()
    await conn.execute(
        """INSERT INTO users (id, eid_issuer, eid_subject, personal_id_hash, personal_id_enc, full_name, level)
           VALUES ($1, 'test', $2, $3, $4, $5, 2)""",
        uid, str(uid), pii.lookup_hash(personal_id), pii.encrypt(personal_id), name)
    return uid


async def pg_facility(conn: Any, code: str, name: str, level: str = "city") -> tuple[uuid.UUID, Principal]:
    """A facility registered with its API client; returns (facility id, the client's principal)."""
    client = uuid.uuid4()
    await conn.execute("INSERT INTO api_clients (id, client_id, kind, name, public_jwk) "
                       "VALUES ($1, $2, 'facility', $3, '{}')",
                       client, f"facility-{code}-{client.hex[:6]}", name)
    fid = uuid.uuid4()
    await conn.execute("INSERT INTO health_facilities (id, code, name, level, client_id) VALUES ($1, $2, $3, $4, $5)",
                       fid, code, name, level, client)
    return fid, Principal(kind=PrincipalKind.CLIENT, id=client, client_kind=ClientKind.FACILITY)
