"""The payments jobs: lapse unpaid intents, reconcile with the bank, finance's daily report."""

from __future__ import annotations

from api.payments.wiring import services, transactions
from api.platform.container import Container
from domain.payments.jobs import DailyMismatchReport, ExpireIntents, ReconcilePayments

BATCH = 200


async def expire_intents(container: Container) -> bool:
    return await ExpireIntents(transactions(container), container.clock).execute(BATCH) == BATCH


async def reconcile(container: Container) -> bool:
    summary = await ReconcilePayments(transactions(container), services(container).providers,
                                      container.clock).execute()
    return summary.checked + summary.refunds_retried >= 100


async def daily_report(container: Container) -> bool:
    # Stored once per Hanoi day (save_report is insert-if-absent), so running it hourly is harmless
    # and a worker that was down at midnight still produces yesterday's report.
    await DailyMismatchReport(transactions(container), container.clock).execute()
    return False
