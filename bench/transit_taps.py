"""Batch upload of 1,000 taps: our use case and adapter versus the bare insert of the same rows.

    uv run python -m bench.transit_taps [--rounds 30] [--database-url URL]

Both sides run in one transaction on one pooled connection of the same pool, interleaved round by
round, against a fresh migrated database (see bench/README.md for how the database is chosen):
* bare — ``BEGIN``; one ``INSERT … SELECT FROM unnest(…)`` of the 1,000 rows; ``COMMIT``: the least a
  bare Litestar + asyncpg handler could send for the same rows;
* ours — ``PgUnitOfWork`` + ``UploadTaps.execute`` (validator check, per-tap rules, domain objects, the
  ``PgTaps`` adapter's statement with ``ON CONFLICT (id) DO NOTHING``, paper-ticket deny entries).

quality.md: a 1,000-tap batch in ≤ 2× the bare insert. The HTTP layer (JSON decoding of the batch,
auth) is not in this number; it joins when the validator API exists.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.postgres.notifications.notifier import PgNotifier
from adapters.postgres.pool import create_pool
from adapters.postgres.transit.cards import PgApplications, PgBindings, PgCards, PgPasses
from adapters.postgres.transit.catalog import PgCatalog, PgCitizens
from adapters.postgres.transit.gates import PgDenyList, PgIssuerKeys, PgPaperTickets, PgTaps
from adapters.postgres.transit.orders import PgOrders
from adapters.postgres.uow import PgUnitOfWork
from adapters.transit_crypto.p256 import P256Signer, P256Verifier, generate
from bench import report
from bench.database import postgres_version, run_database
from domain.identity.principal import ClientKind, Principal, PrincipalKind
from domain.shared.time import SystemClock
from domain.transit.codes import Direction, Network
from domain.transit.model import Medium
from domain.transit.usecases.common import Deps
from domain.transit.usecases.gates import TapIn, UploadTaps

BATCH = 1000
OUT = Path(__file__).resolve().parents[1] / "docs" / "transit-performance.md"

BARE = """INSERT INTO transit_taps (id, validator_id, medium, subject_id, direction, network, route, stop, occurred_at,
    code_timestamp, counter, accepted, reason)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::smallint[], $7::integer[],
                     $8::text[], $9::timestamptz[], $10::bigint[], $11::integer[], $12::boolean[], $13::text[])"""


def _batch() -> list[TapIn]:
    now = datetime.now(UTC)
    return [TapIn(id=uuid.uuid4(), medium=Medium.PASS, subject_id=uuid.uuid4(),
                  direction=Direction.IN if i % 2 else Direction.OUT, network=Network.METRO, route=3,
                  stop=f"S{i % 12:02d}", occurred_at=now - timedelta(seconds=BATCH - i),
                  code_timestamp=int(now.timestamp()) - (BATCH - i), counter=i % 100, accepted=True)
            for i in range(BATCH)]


async def measure(url: str, rounds: int) -> dict[str, list[float]]:
    pool = await create_pool(url, min_size=1, max_size=1)
    signer = P256Signer(generate(), kid=1)
    validator = Principal(kind=PrincipalKind.CLIENT, id=uuid.uuid4(), client_kind=ClientKind.VALIDATOR)
    results: dict[str, list[float]] = {"bare": [], "ours": []}
    try:
        for i in range(rounds + 3):          # 3 warm-up rounds, not counted
            taps = _batch()
            bare_rows = _batch()
            t0 = time.perf_counter()
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(BARE, [t.id for t in bare_rows], [validator.id] * BATCH,
                                   [t.medium.value for t in bare_rows], [t.subject_id for t in bare_rows],
                                   [t.direction.value for t in bare_rows], [int(t.network) for t in bare_rows],
                                   [t.route for t in bare_rows], [t.stop for t in bare_rows],
                                   [t.occurred_at for t in bare_rows], [t.code_timestamp for t in bare_rows],
                                   [t.counter for t in bare_rows], [t.accepted for t in bare_rows],
                                   [None] * BATCH)
            t1 = time.perf_counter()
            async with PgUnitOfWork(pool) as uow:
                c = uow.conn
                deps = Deps(catalog=PgCatalog(c), citizens=PgCitizens(c), applications=PgApplications(c),
                            cards=PgCards(c), passes=PgPasses(c), bindings=PgBindings(c), keys=PgIssuerKeys(c),
                            deny=PgDenyList(c), taps=PgTaps(c), tickets=PgPaperTickets(c), orders=PgOrders(c),
                            notifier=PgNotifier(c), clock=SystemClock(), signer=signer, verifier=P256Verifier())
                received, inserted = await UploadTaps(deps).execute(validator, taps)
                await uow.commit()
            t2 = time.perf_counter()
            if (received, inserted) != (BATCH, BATCH):
                raise SystemExit(f"upload stored {inserted} of {received}")
            if i >= 3:
                results["bare"].append((t1 - t0) * 1000)
                results["ours"].append((t2 - t1) * 1000)
    finally:
        await pool.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database-url")
    parser.add_argument("--write", action="store_true", help=f"write the result into {OUT.name}")
    args = parser.parse_args()
    with run_database(args.database_url) as (url, how):
        results = asyncio.run(measure(url, args.rounds))
        pg = asyncio.run(postgres_version(url))
    bare, ours = statistics.median(results["bare"]), statistics.median(results["ours"])
    ratio = ours / bare
    text = "\n".join([
        "## Upload of a 1,000-tap batch (bench/transit_taps.py)",
        "",
        f"PostgreSQL {pg} ({how}); {args.rounds} interleaved rounds after 3 warm-up rounds; "
        f"load {report.load_average()}.",
        "",
        "| side | median ms / batch | p90 ms | taps/s (median) |",
        "| --- | --- | --- | --- |",
        f"| bare unnest INSERT | {bare:.1f} | {statistics.quantiles(results['bare'], n=10)[-1]:.1f} "
        f"| {BATCH / bare * 1000:,.0f} |",
        f"| UploadTaps + PgTaps | {ours:.1f} | {statistics.quantiles(results['ours'], n=10)[-1]:.1f} "
        f"| {BATCH / ours * 1000:,.0f} |",
        "",
        f"Ratio ours / bare = **{ratio:.2f}** (target ≤ 2.0: {'met' if ratio <= 2 else 'MISSED'}).",
    ])
    print(text)
    if args.write:
        report.write_section("transit-taps", text, OUT)


if __name__ == "__main__":
    main()
