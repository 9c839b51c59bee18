"""How an FCM error for one message becomes the worker's outcome (adapters/fcm/gateway.py)."""

from __future__ import annotations

import pytest
from firebase_admin import exceptions, messaging

from adapters.fcm.gateway import classify_error


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (exceptions.UnavailableError("The service is currently unavailable."), "unavailable"),  # 503, connect error
        (exceptions.InternalError("Internal error encountered."), "retry"),  # 500: counts towards dead-lettering
        (exceptions.DeadlineExceededError("Timed out"), "unavailable"),
        (messaging.QuotaExceededError("Quota exceeded"), "quota"),
        (messaging.UnregisteredError("Requested entity was not found."), "unregistered"),
        (
            exceptions.InvalidArgumentError("The registration token is not a valid FCM registration token"),
            "unregistered",
        ),
        (exceptions.InvalidArgumentError("Invalid JSON payload"), "failed"),
        (exceptions.UnknownError("?"), "retry"),
    ],
)
def test_outages_are_told_apart_from_problems_of_the_message(error: Exception, outcome: str) -> None:
    assert classify_error(error).outcome == outcome
