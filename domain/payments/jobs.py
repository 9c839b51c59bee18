"""Background jobs: expiry, reconciliation with the provider, the daily mismatch report."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

import msgspec

from domain.errors import DomainError
from domain.payments.model import (
    DailyReport,
    IntentStatus,
    MismatchKind,
    Outcome,
    ProviderStatus,
)
from domain.payments.ports import PaymentsTransactions, Providers
from domain.payments.refunds import apply_refund_result
from domain.payments.settlement import handler_for, record_mismatch, settle_failed, settle_succeeded
from domain.shared.time import HANOI, Clock

log = logging.getLogger("thudo.payments")

STUCK_AFTER = timedelta(minutes=15)
# A processing intent the provider still does not know this long after its expiry is failed.
NOT_FOUND_GRACE = timedelta(hours=1)
# An unpaid intent that lapsed (expired, failed, canceled) is asked about once an hour for a day:
# a transfer the bank took but whose notification never reached us is settled all the same.
LATE_WINDOW = timedelta(days=1)
RECHECK_LAPSED = timedelta(hours=1)
LAPSED = (IntentStatus.EXPIRED, IntentStatus.FAILED, IntentStatus.CANCELED)


class ExpireIntents:
    """Unpaid intents past their expiry become ``expired``; the owner is told (``on_unpaid``).
    ``processing`` ones are left to reconciliation: money may be on its way."""

    def __init__(self, transactions: PaymentsTransactions, clock: Clock) -> None:
        self.transactions = transactions
        self.clock = clock

    async def execute(self, limit: int = 200) -> int:
        async with self.transactions() as store:
            now = self.clock.now()
            due = await store.intents.due_to_expire(now, limit)
            for intent in due:
                expired = msgspec.structs.replace(intent, status=IntentStatus.EXPIRED, updated_at=now,
                                                  version=intent.version + 1)
                await store.intents.save(expired)
                await handler_for(store, expired.purpose).on_unpaid(expired)
        return len(due)


class ReconcileSummary(msgspec.Struct, frozen=True):
    checked: int = 0
    settled: int = 0
    pending: int = 0
    errors: int = 0
    refunds_retried: int = 0


class ReconcilePayments:
    """Intents stuck in ``processing`` are queried at the provider (signed status query) and settled
    by the same state machine as notifications; so are unpaid intents that lapsed within
    ``LATE_WINDOW`` and that the provider says were paid after all (a canceled one becomes a
    ``late_payment`` for finance). Every change it makes is recorded as a mismatch (a notification
    we never got). Pending refunds are asked for again (idempotent by id)."""

    def __init__(self, transactions: PaymentsTransactions, providers: Providers, clock: Clock, *,
                 stuck_after: timedelta = STUCK_AFTER) -> None:
        self.transactions = transactions
        self.providers = providers
        self.clock = clock
        self.stuck_after = stuck_after

    async def execute(self, limit: int = 100) -> ReconcileSummary:
        async with self.transactions() as store:
            threshold = self.clock.now() - self.stuck_after
            now = self.clock.now()
            stuck = await store.intents.stuck(threshold, limit)
            stuck += await store.intents.claim_lapsed(now - LATE_WINDOW, threshold, now - RECHECK_LAPSED, now, limit)
            refunds = await store.refunds.pending(threshold, limit)
        checked = settled = pending = errors = retried = 0
        for candidate in stuck:
            provider = self.providers.get(candidate.provider)
            if provider is None:
                errors += 1
                continue
            try:
                answer = await provider.query(candidate)
            except DomainError as exc:
                log.warning("reconciliation query failed", extra={"intent_id": str(candidate.id), "code": exc.code})
                errors += 1
                continue
            checked += 1
            async with self.transactions() as store:
                now = self.clock.now()
                intent = await store.intents.get(candidate.id, for_update=True)
                if intent is None or intent.status is not candidate.status:
                    continue  # settled meanwhile (a notification arrived)
                outcome = Outcome.STALE
                if intent.status in LAPSED:
                    # Only money received changes a lapsed intent; "not found" or "failed" is what we know.
                    if answer.status is ProviderStatus.SUCCEEDED:
                        outcome = await settle_succeeded(
                            store, intent, now, amount=answer.amount or 0, currency=answer.currency or "",
                            provider_ref=answer.provider_ref, instrument=answer.instrument)
                    if outcome in (Outcome.APPLIED, Outcome.LATE_PAYMENT):
                        settled += 1
                        if outcome is Outcome.APPLIED:  # a late payment was recorded by settle_succeeded
                            await record_mismatch(store, intent, MismatchKind.PROVIDER_DISAGREES, now,
                                                  expected=intent.amount, reported=answer.amount,
                                                  detail=f"paid after it lapsed ({intent.status.value})")
                    continue
                if answer.status is ProviderStatus.SUCCEEDED:
                    outcome = await settle_succeeded(
                        store, intent, now, amount=answer.amount or 0, currency=answer.currency or "",
                        provider_ref=answer.provider_ref, instrument=answer.instrument)
                elif answer.status is ProviderStatus.FAILED or (
                        answer.status is ProviderStatus.NOT_FOUND and now > intent.expires_at + NOT_FOUND_GRACE):
                    outcome = await settle_failed(store, intent, now, provider_ref=answer.provider_ref,
                                                  failure_code=answer.failure_code or answer.status.value)
                if outcome is Outcome.APPLIED:
                    settled += 1
                    await record_mismatch(store, intent, MismatchKind.PROVIDER_DISAGREES, now,
                                          expected=intent.amount, reported=answer.amount,
                                          detail=f"settled by reconciliation: {answer.status.value}")
                elif outcome is Outcome.STALE:
                    pending += 1
        for refund in refunds:
            async with self.transactions() as store:
                intent = await store.intents.get(refund.intent_id)
            provider = self.providers.get(intent.provider) if intent else None
            if intent is None or provider is None:
                errors += 1
                continue
            try:
                result = await provider.refund(intent, refund)
            except DomainError as exc:
                log.warning("refund retry failed", extra={"refund_id": str(refund.id), "code": exc.code})
                errors += 1
                continue
            await apply_refund_result(self.transactions, self.clock, refund.id, result)
            retried += 1
        return ReconcileSummary(checked, settled, pending, errors, retried)


def hanoi_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), HANOI)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


class DailyMismatchReport:
    """Finance's report for one Hanoi business day; stored once per day."""

    def __init__(self, transactions: PaymentsTransactions, clock: Clock, *,
                 stuck_after: timedelta = STUCK_AFTER) -> None:
        self.transactions = transactions
        self.clock = clock
        self.stuck_after = stuck_after

    async def execute(self, day: date | None = None) -> tuple[DailyReport, bool]:
        """The report of ``day`` (default: yesterday in Hanoi) and whether it was newly stored."""
        now = self.clock.now()
        day = day or (now.astimezone(HANOI).date() - timedelta(days=1))
        start, end = hanoi_day_bounds(day)
        async with self.transactions() as store:
            report = DailyReport(
                day=day.isoformat(), generated_at=now, totals=await store.reports.totals(start, end),
                mismatches=await store.reports.mismatches(start, end),
                stuck_processing=await store.reports.count_stuck(now - self.stuck_after),
                pending_refunds=await store.reports.count_pending_refunds())
            stored = await store.reports.save_report(day.isoformat(), msgspec.json.encode(report))
        if report.mismatches or report.stuck_processing:
            log.warning("payments daily report has mismatches",
                        extra={"day": report.day, "mismatches": len(report.mismatches),
                               "stuck_processing": report.stuck_processing})
        return report, stored
