"""Bench set-up for the health and transit scenarios: 1,000 citizens, each with their own data.

quality.md wants ≥ 1,000 distinct users' tokens per scenario, so every scenario here mints its own
citizens (bench/citizens.py) and gives each one what the measured endpoint reads:

- **a health record** (``health.timeline``, ``health.fhir_search``): a copy of one record ingested
  through the real use case (bench/city_data.py: three visits of a typical bundle, every row a
  valid FHIR resource with real index keys), under a patient row keyed by the citizen's own
  personal-id hash, as a facility's bundle would have created it;
- **a paid pass with a bound phone** (``transit.pass_credential``): a card, an active pass of the
  first catalogue product (as a settled payment leaves it) and a device binding with the public
  key of a reference phone (a real P-256 key, one per citizen), written in SQL in one statement
  each instead of four HTTP calls and a payment settlement per citizen (bench/open_app.py does
  those for its dozen probes).

The measured requests differ per citizen in their path too (their patient id, their pass id): the
setups store one value dict per header set in ``ctx.values["each"]`` (see ``Scenario.prepare``).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from adapters.postgres.pool import connect
from bench import citizens, city_data

# Citizens per scenario (quality.md: ≥ 1,000 distinct tokens); the smoke test lowers it.
CITIZENS = citizens.DEFAULT_CITIZENS

TIMELINE_PATH = "/api/v1/health-record/timeline?limit=20"
FHIR_SEARCH_PATH = "/fhir/r4/Observation?patient={patient_id}&_count=20"
CREDENTIAL_PATH = "/api/v1/transit/passes/{pass_id}/credential"


async def _with_health(database_url: str, users: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """A copy of the template record for each user; user id → FHIR Patient id."""
    conn = await connect(database_url)
    try:
        template = await city_data.health_template(conn)
        await city_data.give_health(conn, template, users)
        rows = await conn.fetch(
            """SELECT u.id AS user_id, p.id AS patient_id FROM users u JOIN health_patients p USING (personal_id_hash)
               WHERE u.id = ANY($1::uuid[])""", users)
    finally:
        await conn.close()
    return _one_each(rows, users, "patient_id", "health records")


def _one_each(rows: Any, users: list[Any], column: str, what: str) -> dict[Any, Any]:
    """user id -> the row's ``column``, refusing a set-up that did not give every citizen one."""
    found = {r["user_id"]: r[column] for r in rows}
    if len(found) != len(users):
        raise RuntimeError(f"{what} for {len(found)} of {len(users)} citizens")
    return found


def timeline_setup(ctx: Any) -> list[dict[str, str]]:
    """``CITIZENS`` citizens, each with a three-visit record; the scenario reads the next one's timeline."""
    minted = citizens.mint(ctx, CITIZENS)
    asyncio.run(_with_health(ctx.database_url, [c.user_id for c in minted]))
    return [c.headers for c in minted]


def fhir_setup(ctx: Any) -> list[dict[str, str]]:
    """As ``timeline_setup``; the path names each citizen's own Patient (a citizen's token is patient-bound)."""
    minted = citizens.mint(ctx, CITIZENS)
    patients = asyncio.run(_with_health(ctx.database_url, [c.user_id for c in minted]))
    ctx.values["each"] = [{"patient_id": str(patients[c.user_id])} for c in minted]
    return [c.headers for c in minted]


# Test data, not measured SQL: what opening a card, a settled purchase and binding a phone leave behind.
_PASSES = """
WITH who AS (SELECT u.id, u.full_name, k.key, k.n FROM unnest($1::uuid[], $2::bytea[]) WITH ORDINALITY AS k(id, key, n)
             JOIN users u ON u.id = k.id),
     base AS (SELECT count(*) AS n FROM transit_cards),
     product AS (SELECT id, kind, networks, route FROM transit_products WHERE kind <> 4 ORDER BY code LIMIT 1),
     cat AS (SELECT code, qr_code FROM transit_categories WHERE code = 'standard'),
     cards AS (
       INSERT INTO transit_cards (id, user_id, number, holder_name, category, status, created_at)
       SELECT gen_random_uuid(), who.id, '7' || lpad((base.n + who.n)::text, 11, '0'), who.full_name, 'standard',
              'active', now() - interval '2 days'
       FROM who, base RETURNING id, user_id),
     devices AS (
       INSERT INTO transit_device_bindings (id, user_id, public_key, platform, bound_at)
       SELECT gen_random_uuid(), who.id, who.key, 'android', now() - interval '1 day' FROM who RETURNING user_id)
INSERT INTO transit_passes (id, user_id, card_id, product_id, kind, networks, route, category, category_qr,
                            valid_from, valid_until, price_vnd, payment_ref, status, created_at)
SELECT gen_random_uuid(), cards.user_id, cards.id, product.id, product.kind, product.networks, product.route,
       cat.code, cat.qr_code, now() - interval '1 day', now() + interval '29 days', 200000,
       'BENCH-' || cards.id, 'active', now() - interval '1 day'
FROM cards JOIN devices USING (user_id), product, cat
RETURNING user_id, id
"""


async def _with_passes(database_url: str, users: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    from adapters.transit_crypto.mobile import ReferencePhone
    from api.platform.cli import seed_reference

    keys = [ReferencePhone().public_key for _ in users]
    conn = await connect(database_url)
    try:
        await seed_reference(conn)  # the transit catalogue and categories (idempotent)
        async with conn.transaction():
            rows = await conn.fetch(_PASSES, users, keys)
    finally:
        await conn.close()
    return _one_each(rows, users, "id", "passes")


def pass_setup(ctx: Any) -> list[dict[str, str]]:
    """``CITIZENS`` citizens, each with an active pass and a bound phone; the path names their pass."""
    minted = citizens.mint(ctx, CITIZENS)
    passes = asyncio.run(_with_passes(ctx.database_url, [c.user_id for c in minted]))
    ctx.values["each"] = [{"pass_id": str(passes[c.user_id])} for c in minted]
    return [c.headers for c in minted]
