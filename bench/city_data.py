"""City-scale synthetic data, generated inside PostgreSQL (``generate_series``), not through the API.

Citizens and feedback reports come from ``bench/scale.py``; this module adds the other large tables
of quality.md's "Scale" line: health resources (copies of one record ingested through the real use
case, so every row is a valid FHIR resource with realistic index keys), transit cards + passes, taps,
and inbox rows. Tables whose secondary indexes would be maintained row by row are loaded with those
indexes dropped and rebuilt afterwards (one sort per index instead of 10 M random B-tree inserts).
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.dev.health_bundles import DEMO_FACILITIES, typical_bundle
from adapters.signing.pii import AesPiiProtector
from tests.support.health import FakeClock, pg_citizen, pg_facility, pg_use_cases

TEMPLATE_PID = "001085000199"
TEMPLATE = "Hồ sơ mẫu (bench)"


def _log(msg: str, t0: float) -> None:
    print(f"  {msg} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)


async def bulk_session(conn: Any) -> None:
    """Session settings for a bulk load (this session only; the shared server's settings are untouched).

    ``session_replication_role = replica`` skips the foreign-key triggers: every generated key is drawn
    from the referenced table, so checking 3 keys per row one by one (30 M index probes for 10 M rows)
    only costs time. ``maintenance_work_mem`` lets each index rebuild sort in memory.
    """
    await conn.execute("SET synchronous_commit = off")  # durability of a bench table is moot
    await conn.execute("SET session_replication_role = replica")
    await conn.execute("SET maintenance_work_mem = '1GB'")


async def _rebuilding(conn: Any, table: str, load: Any, constraints: bool = False) -> None:
    """Run ``load()`` with ``table``'s non-unique secondary indexes dropped, then rebuild them.

    With ``constraints`` the primary key and unique constraints go too (only for tables no foreign
    key references): random uuids inserted one by one into a 10 M-entry B-tree are random page
    writes, each first touch after a checkpoint a full-page image in the WAL; one sort builds it.
    """
    rows = await conn.fetch(
        """SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS ddl FROM pg_index x
           JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = $1::regclass
             AND NOT x.indisunique AND NOT x.indisprimary""",
        table,
    )
    keys = (
        await conn.fetch(
            """SELECT conname AS name, pg_get_constraintdef(oid) AS ddl FROM pg_constraint
               WHERE conrelid = $1::regclass AND contype IN ('p', 'u')""",
            table,
        )
        if constraints
        else []
    )
    for r in rows:
        await conn.execute(f'DROP INDEX "{r["name"]}"')
    for r in keys:
        await conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{r["name"]}"')
    await load()
    for r in keys:
        await conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{r["name"]}" {r["ddl"]}')
    for r in rows:
        await conn.execute(r["ddl"])


async def health_template(conn: Any, visits: int = 3) -> uuid.UUID:
    """One record ingested through the real use case; returns its patient id (the template)."""
    existing = await conn.fetchval(
        "SELECT p.id FROM users u JOIN health_patients p USING (personal_id_hash) WHERE u.full_name = $1", TEMPLATE
    )
    if existing:
        return existing  # type: ignore[no-any-return]
    pii = AesPiiProtector(os.urandom(32))
    await pg_citizen(conn, pii, TEMPLATE_PID, TEMPLATE)
    _, principal = await pg_facility(conn, DEMO_FACILITIES[0].code, DEMO_FACILITIES[0].name)
    clock, start = FakeClock(), datetime(2024, 1, 5, 2, 0, tzinfo=UTC)
    result: Any = None
    for v in range(visits):
        async with conn.transaction():
            result = await pg_use_cases(conn, pii, clock)["ingest"].execute(
                principal,
                typical_bundle(
                    personal_id=TEMPLATE_PID, visit_code=f"TPL-{v}", seed=v, start=start + timedelta(days=90 * v)
                ),
            )
    return result.patient_id  # type: ignore[no-any-return]


# Encounter ids are derived from (patient, template encounter) so resources find theirs without a join.
_COPY_ENCOUNTERS = """
INSERT INTO health_encounters (id, facility_id, patient_id, identifier, bundle_hash, version, received_at, updated_at,
                               insurance_version)
SELECT md5(p.id::text || e.id::text)::uuid, e.facility_id, p.id, e.identifier || '/' || p.id, e.bundle_hash, 1,
       e.received_at, e.updated_at, 1
FROM health_patients p CROSS JOIN health_encounters e
WHERE p.id = ANY($1::uuid[]) AND e.patient_id = $2"""
_COPY_RESOURCES = """
INSERT INTO health_resources (id, encounter_id, patient_id, facility_id, resource_type, source_key, category,
    fhir_categories, codes, date, status, clinical_status, intent, version_id, last_updated, content_hash, resource,
    item)
SELECT gen_random_uuid(), md5(p.id::text || r.encounter_id::text)::uuid, p.id, r.facility_id, r.resource_type,
       r.source_key, r.category, r.fhir_categories, r.codes, r.date - random() * interval '700 days', r.status,
       r.clinical_status, r.intent, 1, r.last_updated, r.content_hash, r.resource, r.item
FROM health_patients p CROSS JOIN health_resources r
WHERE p.id = ANY($1::uuid[]) AND r.patient_id = $2"""


async def copy_records(conn: Any, template: uuid.UUID, patients: list[uuid.UUID]) -> None:
    await conn.execute(_COPY_ENCOUNTERS, patients, template)
    await conn.execute(_COPY_RESOURCES, patients, template)


async def give_health(conn: Any, template: uuid.UUID, users: list[uuid.UUID]) -> None:
    """A copy of the template record for each of these users (their patient row keyed like a real one)."""
    ids = await conn.fetch(
        """INSERT INTO health_patients (id, personal_id_hash)
           SELECT gen_random_uuid(), personal_id_hash FROM users WHERE id = ANY($1::uuid[])
           ON CONFLICT (personal_id_hash) DO NOTHING RETURNING id""",
        users,
    )
    await copy_records(conn, template, [r["id"] for r in ids])


async def health_bulk(conn: Any, template: uuid.UUID, resources: int, t0: float) -> int:
    per = int(await conn.fetchval("SELECT count(*) FROM health_resources WHERE patient_id = $1", template))
    patients = max(1, resources // per)
    batch = max(1, 500_000 // per)

    async def load() -> None:
        for first in range(0, patients, batch):
            n = min(batch, patients - first)
            ids = [
                r["id"]
                for r in await conn.fetch(
                    """INSERT INTO health_patients (id, personal_id_hash)
                   SELECT gen_random_uuid(), sha256(('synthetic-health-' || gen_random_uuid())::bytea)
                   FROM generate_series(1, $1) RETURNING id""",
                    n,
                )
            ]
            await copy_records(conn, template, ids)
            _log(f"health patients {first + n:,} / {patients:,} ({per} resources each)", t0)

    await _rebuilding(conn, "health_resources", load, constraints=True)
    return patients * per


_CARDS_AND_PASSES = """
WITH who AS (SELECT id, row_number() OVER () AS n FROM users WHERE eid_issuer = 'synthetic' LIMIT $1),
     product AS (SELECT id, kind, networks, route FROM transit_products WHERE kind <> 4 ORDER BY code LIMIT 1),
     cat AS (SELECT code, qr_code FROM transit_categories WHERE code = 'standard'),
     cards AS (
       INSERT INTO transit_cards (id, user_id, number, holder_name, category, status, created_at)
       SELECT gen_random_uuid(), who.id, '9' || lpad(who.n::text, 11, '0'), 'Công dân', 'standard', 'active', now()
       FROM who RETURNING id, user_id)
INSERT INTO transit_passes (id, user_id, card_id, product_id, kind, networks, route, category, category_qr,
                            valid_from, valid_until, price_vnd, payment_ref, status, created_at)
SELECT gen_random_uuid(), cards.user_id, cards.id, product.id, product.kind, product.networks, product.route,
       cat.code, cat.qr_code, now() - interval '10 days', now() + interval '20 days', 200000,
       'SYN-' || cards.id, 'active', now() - interval '10 days'
FROM cards, product, cat
"""

_TAPS = """
INSERT INTO transit_taps (id, validator_id, medium, subject_id, direction, network, route, stop, occurred_at,
                          code_timestamp, counter, accepted, uploaded_at)
SELECT gen_random_uuid(), $3::uuid, 'pass', p.id, CASE WHEN k % 2 = 0 THEN 'in' ELSE 'out' END, 1, 0,
       'S' || (k % 40), p.created_at + k * interval '20 hours',
       extract(epoch FROM p.created_at)::bigint + k * 72000, k, true, now()
FROM (SELECT id, created_at FROM transit_passes WHERE payment_ref LIKE 'SYN-%' ORDER BY id OFFSET $1 LIMIT $2) p,
     generate_series(1, $4) AS k
"""

_INBOX = """
INSERT INTO notification_inbox (id, user_id, category, template, object_type, object_id, deep_link, content,
                                idempotency_key, read_at, created_at)
SELECT (lpad(to_hex((extract(epoch FROM ts) * 1000)::bigint), 12, '0') || substr(md5(u.id::text || k), 1, 20))::uuid,
       u.id, 'feedback', 'feedback.status', 'feedback_report', u.id::text || '-' || k, 'thudo://feedback/' || k,
       '{"vi": {"title": "Phản ánh đã được xử lý", "body": "Cảm ơn bạn"},
         "en": {"title": "Report handled", "body": "Thank you"}}'::jsonb,
       'syn:' || u.id || ':' || k, CASE WHEN k > 2 THEN ts END, ts
FROM (SELECT id FROM users WHERE eid_issuer = 'synthetic' ORDER BY id OFFSET $1 LIMIT $2) u,
     generate_series(1, $3) AS k, LATERAL (SELECT now() - k * interval '3 days' AS ts) t
"""

BATCH_USERS = 100_000


async def transit_bulk(conn: Any, passes: int, taps_per_pass: int, t0: float) -> None:
    await conn.execute(_CARDS_AND_PASSES, passes)
    _log(f"cards + passes {passes:,}", t0)
    validator = uuid.uuid4()

    async def load() -> None:
        for first in range(0, passes, BATCH_USERS):
            await conn.execute(_TAPS, first, BATCH_USERS, validator, taps_per_pass)
            _log(f"taps {min(first + BATCH_USERS, passes) * taps_per_pass:,} / {passes * taps_per_pass:,}", t0)

    await _rebuilding(conn, "transit_taps", load, constraints=True)


async def inbox_for_probes(conn: Any, users: list[uuid.UUID], per_user: int = 30) -> None:
    await conn.execute(
        _INBOX.replace("WHERE eid_issuer = 'synthetic'", "WHERE id = ANY($4::uuid[])"), 0, len(users), per_user, users
    )


async def inbox_bulk(conn: Any, users: int, per_user: int, t0: float) -> None:
    async def load() -> None:
        for first in range(0, users, BATCH_USERS):
            await conn.execute(_INBOX, first, BATCH_USERS, per_user)
            _log(f"inbox rows {min(first + BATCH_USERS, users) * per_user:,} / {users * per_user:,}", t0)

    await _rebuilding(conn, "notification_inbox", load)


async def table_sizes(conn: Any, tables: list[str]) -> dict[str, tuple[int, int, int]]:
    """table → (rows, heap + TOAST bytes, index bytes), rows from the statistics after ANALYZE."""
    out = {}
    for t in tables:
        rows = await conn.fetchval("SELECT reltuples::bigint FROM pg_class WHERE oid = $1::regclass", t)
        heap = await conn.fetchval("SELECT pg_table_size($1::regclass)", t)
        idx = await conn.fetchval("SELECT pg_indexes_size($1::regclass)", t)
        out[t] = (max(int(rows), 0), int(heap), int(idx))
    return out
