"""Who may read a report, its files and its evidence: the one home of these rules.

Used by every path that shows a report: the reporter's app, the staff queue, the public feed and
Open311 partners. A report or file the caller may not read does not exist for them (404), so its
id reveals nothing.
"""

from __future__ import annotations

from domain.feedback.model import Attachment, AttachmentKind, Report
from domain.identity.principal import Principal


def is_reporter(principal: Principal, report: Report) -> bool:
    return principal.is_user and report.reporter_id == principal.id


def is_handling_staff(principal: Principal, report: Report) -> bool:
    """Staff of the report's current unit, or a city admin."""
    return principal.is_user and (principal.has_role(report.unit_id) or principal.city_admin)


def may_read_privately(principal: Principal, report: Report) -> bool:
    """The report with its personal parts: its reporter and the staff handling it."""
    return is_reporter(principal, report) or is_handling_staff(principal, report)


def may_follow(report: Report) -> bool:
    """"Me too": other citizens may join (and be shown in duplicate suggestions) only a report its reporter
    agreed to publish and staff have not hidden; they then see its description, address and status."""
    return report.publishable and not report.hidden


def may_read_file(principal: Principal | None, report: Report, attachment: Attachment) -> bool:
    """Of a report the caller may read: photos always; evidence once a reply used it, and before that
    only to staff of the report's unit (drafts of their answer are internal)."""
    if attachment.report_id != report.id:
        return False
    if attachment.kind is AttachmentKind.EVIDENCE and not attachment.used:
        return principal is not None and principal.is_user and principal.has_role(report.unit_id)
    return True
