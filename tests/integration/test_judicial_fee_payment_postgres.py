"""The judicial fee's payment state in PostgreSQL: the intent is created with the payments adapters
on the request's own connection and transaction, once per request; the handler that the payments
transaction calls marks the fee paid / refunded / lapsed in the same transaction."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from adapters.postgres.judicial.fees import PgFeePayments
from adapters.postgres.payments.repositories import PgPaymentIntents
from api.judicial.context import JUDICIAL
from domain.judicial.fee_payment import PURPOSE, FeeStatus, OpenFeePayment
from domain.judicial.model import Applicant
from domain.judicial.usecases import citizen as c
from domain.payments.intents import CreatePaymentIntent
from domain.payments.model import IntentStatus
from tests.integration.test_judicial_postgres import World, _people, _units, run
from tests.support.judicial import applicant, history
from tests.support.payments import FakeProvider, FakeProviders


def test_intent_once_per_request_and_the_handler_marks_paid_then_lapse_is_ignored(database_url: str,
                                                                                tmp_path: Path) -> None:
    async def body(conn: asyncpg.Connection[Any]) -> None:
        units = await _units(conn)
        w = World(conn, tmp_path, units)
        me, _ = await _people(conn, units["S-TP"])
        a = applicant()
        draft = await c.StartDraft(w.deps).execute(me, c.DraftInput(
            purpose="Xin việc", copies=1, applicant=Applicant(sex=a.sex, father=a.father, mother=a.mother),
            residence_history=history()))
        fees = PgFeePayments(conn)
        create = CreatePaymentIntent(PgPaymentIntents(conn), FakeProviders(FakeProvider()), w.clock,
                                     default_provider="fake")
        opener = OpenFeePayment(create, fees, w.clock)
        first = await opener.execute(request_id=draft.id, ref=draft.ref, owner_id=me.id, amount_due=30_000)
        again = await opener.execute(request_id=draft.id, ref=draft.ref, owner_id=me.id, amount_due=30_000)
        assert first is not None
        assert again is not None
        assert first.intent.id == again.intent.id
        assert await conn.fetchval("SELECT count(*) FROM payment_intents WHERE purpose = $1 AND object_id = $2",
                                   PURPOSE, str(draft.id)) == 1
        stored = await fees.get(draft.id)
        assert stored is not None
        assert stored.status is FeeStatus.PENDING
        assert stored.amount == 30_000

        handler = JUDICIAL.payment_handlers[PURPOSE](conn)  # what the payments transaction calls
        paid = msgspec.structs.replace(first.intent, status=IntentStatus.SUCCEEDED, paid_at=w.clock.now())
        await handler.on_paid(paid)
        await handler.on_unpaid(msgspec.structs.replace(paid, status=IntentStatus.EXPIRED))
        after = await fees.get(draft.id)
        assert after is not None
        assert after.status is FeeStatus.PAID
        assert after.paid_at == w.clock.now()

        other = uuid.uuid4()
        assert await fees.get(other) is None

    run(database_url, body)
