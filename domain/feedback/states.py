"""The one table of legal status transitions. Every use case asks it before changing a report."""

from __future__ import annotations

from enum import StrEnum

from domain.errors import Conflict
from domain.feedback.model import OPEN_STATUSES, Status

S = Status


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    NOTE = "note"
    CHANGE_CATEGORY = "change_category"
    TRANSFER = "transfer"
    HANDLE = "handle"
    REJECT = "reject"
    MARK_DUPLICATE = "mark_duplicate"
    REOPEN = "reopen"
    RATE = "rate"
    ADD_PHOTO = "add_photo"
    FOLLOW = "follow"
    SET_VISIBILITY = "set_visibility"


_WORKING = OPEN_STATUSES
_CLOSED = frozenset({S.HANDLED, S.REJECTED, S.DUPLICATE})

# action -> (statuses it may start from, status afterwards; None keeps the current status)
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status | None]] = {
    Action.ACKNOWLEDGE: (frozenset({S.PENDING, S.TRANSFERRED}), S.IN_PROGRESS),
    # Assigning a report that was not yet acknowledged acknowledges it (the unit has taken it on).
    Action.ASSIGN: (_WORKING, S.IN_PROGRESS),
    Action.NOTE: (_WORKING | _CLOSED, None),
    # Re-routing may move the report to another unit; the use case then applies TRANSFERRED.
    Action.CHANGE_CATEGORY: (_WORKING, None),
    Action.TRANSFER: (_WORKING, S.TRANSFERRED),
    Action.HANDLE: (frozenset({S.IN_PROGRESS}), S.HANDLED),
    Action.REJECT: (_WORKING, S.REJECTED),
    Action.MARK_DUPLICATE: (_WORKING, S.DUPLICATE),
    Action.REOPEN: (frozenset({S.HANDLED}), S.IN_PROGRESS),
    Action.RATE: (frozenset({S.HANDLED}), None),
    # Photos belong to the report as submitted: only until the unit acknowledges it.
    Action.ADD_PHOTO: (frozenset({S.PENDING, S.TRANSFERRED}), None),
    Action.FOLLOW: (_WORKING | frozenset({S.HANDLED}), None),
    Action.SET_VISIBILITY: (_WORKING | _CLOSED, None),
}


def allowed(action: Action, status: Status) -> bool:
    return status in TRANSITIONS[action][0]


def transition(action: Action, status: Status) -> Status:
    """The status after ``action``; ``Conflict`` (409) when the action is illegal in ``status``."""
    sources, target = TRANSITIONS[action]
    if status not in sources:
        raise Conflict("feedback.illegal_transition", action=action.value, status=status.value)
    return target or status
