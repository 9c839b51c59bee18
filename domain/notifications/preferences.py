"""Per-category opt-outs and quiet hours (Asia/Ho_Chi_Minh) deciding when a push may go out.

Preferences only ever affect the *push*; the inbox entry is always written. Legally required
notices ignore opt-outs, and quiet hours delay them (to the end of the quiet period) but never
drop them.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import msgspec

from domain.shared.time import HANOI

# Category -> label (vi, en). Contexts add theirs the same way as templates.
CATEGORIES: dict[str, dict[str, str]] = {
    "feedback": {"vi": "Phản ánh kiến nghị", "en": "Citizen feedback"},
    "health": {"vi": "Sức khỏe", "en": "Health"},
    "judicial": {"vi": "Lý lịch tư pháp", "en": "Judicial records"},
    "transit": {"vi": "Giao thông công cộng", "en": "Public transport"},
    "announcements": {"vi": "Thông báo của thành phố", "en": "City announcements"},
    "account": {"vi": "Tài khoản", "en": "Account"},
}


class Preferences(msgspec.Struct, frozen=True, kw_only=True):
    opted_out: frozenset[str] = frozenset()
    quiet_start: time | None = None
    quiet_end: time | None = None


def in_quiet_hours(prefs: Preferences, local: time) -> bool:
    start, end = prefs.quiet_start, prefs.quiet_end
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end  # wraps midnight, e.g. 22:00-07:00


def push_available_at(prefs: Preferences, category: str, legally_required: bool,
                      now: datetime) -> datetime | None:
    """When the push may be sent (``now`` or the end of quiet hours), or None when suppressed."""
    if category in prefs.opted_out and not legally_required:
        return None
    local = now.astimezone(HANOI)
    if prefs.quiet_end is None or not in_quiet_hours(prefs, local.time()):
        return now
    end = local.replace(hour=prefs.quiet_end.hour, minute=prefs.quiet_end.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end
