"""Worker job: escalate overdue reports to the unit's supervisors, once per report and deadline."""

from __future__ import annotations

from domain.feedback.model import EventKind
from domain.feedback.usecases.common import UseCase
from domain.notifications.model import Notification


class EscalateOverdue(UseCase):
    async def execute(self, limit: int = 100) -> int:
        """Escalate up to ``limit`` overdue reports; returns how many were escalated now."""
        now = self.d.clock.now()
        count = 0
        for item in await self.d.reports.overdue(now, limit):
            report = item.report
            if not await self.d.reports.record_escalation(report.id, item.deadline, item.due_at, now):
                continue
            supervisors = await self.d.units.supervisors(report.unit_id)
            if not supervisors:
                # A unit without supervisors escalates one level up (ward → district → city).
                unit = await self.d.units.get(report.unit_id)
                if unit is not None and unit.parent_id is not None:
                    supervisors = await self.d.units.supervisors(unit.parent_id)
            for user_id in supervisors:
                await self.d.notifier.notify(Notification(
                    user_id=user_id, category="feedback", template="feedback.overdue",
                    object_type="feedback_report", object_id=str(report.id),
                    params={"ref": report.ref, "deadline": item.deadline, "due_at": item.due_at.isoformat()},
                    legally_required=True,
                    idempotency_key=f"feedback.overdue.{report.id}.{item.deadline}.{item.due_at.isoformat()}"
                                    f".{user_id}"))
            await self.record(report, EventKind.ESCALATED, None, public=False,
                              data={"deadline": item.deadline, "due_at": item.due_at.isoformat(),
                                    "supervisors": str(len(supervisors))})
            count += 1
        return count
