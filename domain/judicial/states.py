"""The request's workflow: which action moves which status to which, and who may take it."""

from __future__ import annotations

from enum import StrEnum

from domain.errors import Conflict
from domain.judicial.model import Status

S = Status


class Action(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    RECEIVE = "receive"
    VERIFY = "verify"
    REQUEST_SUPPLEMENT = "request_supplement"
    SUPPLEMENT = "supplement"
    APPROVE = "approve"
    ISSUE = "issue"
    REJECT = "reject"


# action -> (statuses it may start from, status it leads to); None: the status does not change.
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status | None]] = {
    Action.EDIT: (frozenset({S.DRAFT}), None),
    Action.SUBMIT: (frozenset({S.DRAFT}), S.SUBMITTED),
    # Before the authority starts processing; a draft can be withdrawn (discarded) too.
    Action.WITHDRAW: (frozenset({S.DRAFT, S.SUBMITTED}), S.WITHDRAWN),
    Action.RECEIVE: (frozenset({S.SUBMITTED}), S.RECEIVED),
    Action.VERIFY: (frozenset({S.RECEIVED, S.SUPPLEMENTED}), S.VERIFYING),
    Action.REQUEST_SUPPLEMENT: (frozenset({S.SUBMITTED, S.RECEIVED, S.VERIFYING}), S.SUPPLEMENT_REQUESTED),
    Action.SUPPLEMENT: (frozenset({S.SUPPLEMENT_REQUESTED}), S.SUPPLEMENTED),
    Action.APPROVE: (frozenset({S.VERIFYING}), S.APPROVED),
    Action.ISSUE: (frozenset({S.APPROVED}), S.ISSUED),
    Action.REJECT: (frozenset({S.SUBMITTED, S.RECEIVED, S.VERIFYING, S.SUPPLEMENT_REQUESTED, S.SUPPLEMENTED}),
                    S.REJECTED),
}


def transition(action: Action, status: Status) -> Status:
    sources, target = TRANSITIONS[action]
    if status not in sources:
        raise Conflict("judicial.wrong_status", action=action.value, status=status.value)
    return status if target is None else target
