"""Demo data of the health record: a handful of Hanoi facilities and a few years of visits for the
demo citizens of the VNeID stand-in, ingested through the real use case (so they look exactly like
facility data). Idempotent: a record already seeded is skipped.

Wired by ``adapters/postgres/seed.py::seed_demo`` (one call, with the PII protector).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from adapters.dev.health_bundles import DEMO_FACILITIES, demo_history
from adapters.fhir.structure import CompiledValidator
from adapters.postgres.health.repositories import PgEncounters, PgFacilities, PgPatients
from adapters.postgres.notifications.notifier import PgNotifier
from domain.health.ingest import IngestEncounterBundle
from domain.health.model import Facility, FacilityLevel
from domain.identity.ports import PiiProtector
from domain.identity.principal import ClientKind, Principal, PrincipalKind
from domain.shared.ids import new_id
from domain.shared.time import SystemClock

# (personal id, family, given, gender, birth date) of the stand-in's demo people with a record.
DEMO_PATIENTS: tuple[tuple[str, str, str, str, date], ...] = (
    ("001085000101", "Nguyễn Văn", "An", "male", date(1985, 3, 12)),
    ("001192000202", "Trần Thị", "Bình", "female", date(1992, 7, 25)),
    ("001080000303", "Lê Văn", "Cường", "male", date(1980, 11, 2)),
)


class _SeedFacilities(PgFacilities):
    """Seeding sends as each facility without its API client: a synthetic client id per facility."""

    def __init__(self, conn: Any, by_client: dict[uuid.UUID, Facility]) -> None:
        super().__init__(conn)
        self.mapping = by_client

    async def by_client(self, client_id: uuid.UUID) -> Facility | None:
        return self.mapping.get(client_id)


async def seed_facilities(conn: Any) -> list[Facility]:
    out = []
    for f in DEMO_FACILITIES:
        district = await conn.fetchval("SELECT id FROM units WHERE code = $1", f.district_code)
        row = await conn.fetchrow(
            """INSERT INTO health_facilities (id, code, name, level, district_id) VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level,
                   district_id = EXCLUDED.district_id
               RETURNING id, client_id, active""", new_id(), f.code, f.name, f.level, district)
        out.append(Facility(id=row["id"], code=f.code, name=f.name, level=FacilityLevel(f.level),
                            district_id=district, client_id=row["client_id"], active=row["active"]))
    return out


async def seed_health(conn: Any, pii: PiiProtector, *, years: int = 3) -> int:
    """Facilities, the demo patients' records and their visits; returns the number of bundles sent."""
    facilities = await seed_facilities(conn)
    principals: dict[str, Principal] = {}
    mapping: dict[uuid.UUID, Facility] = {}
    for f in facilities:
        client = uuid.uuid5(uuid.NAMESPACE_URL, f"thudo-seed-facility:{f.code}")
        mapping[client] = f
        principals[f.code] = Principal(kind=PrincipalKind.CLIENT, id=client, client_kind=ClientKind.FACILITY)
    patients = PgPatients(conn, pii)
    clock = SystemClock()
    ingest = IngestEncounterBundle(facilities=_SeedFacilities(conn, mapping), patients=patients,
                                   encounters=PgEncounters(conn, pii), validator=CompiledValidator(),
                                   notifier=PgNotifier(conn, clock), clock=clock)
    sent = 0
    for n, (pid, family, given, gender, born) in enumerate(DEMO_PATIENTS):
        patient_id = await patients.enrol(pid)  # the population data: a record exists before the first login
        # Seeding runs at every start of the embedded default: a record already seeded is left alone
        # (resending would change nothing, but costs start-up time).
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM health_encounters WHERE patient_id = $1)", patient_id):
            continue
        for bundle in demo_history(pid, family, given, gender, born, years=years, seed=100 + n):
            code = bundle["entry"][1]["resource"]["serviceProvider"]["identifier"]["value"]
            await ingest.execute(principals[code], bundle)
            sent += 1
    return sent
