"""The list of bounded contexts. Adding a context: one package per layer, and one line here."""

from __future__ import annotations

from api.console.context import CONSOLE
from api.feedback.context import FEEDBACK
from api.health.context import HEALTH
from api.identity.context import IDENTITY
from api.judicial.context import JUDICIAL
from api.notifications.context import NOTIFICATIONS
from api.payments.context import PAYMENTS
from api.platform.context import Context, Job
from api.platform.probes import PlatformController
from api.platform.worker import purge_idempotency_keys
from api.transit.context import TRANSIT
from api.units.context import UNITS

# The platform's own routes (liveness, readiness, metrics) and housekeeping.
PLATFORM = Context(name="platform", root=[PlatformController],
                   jobs=[Job("idempotency.purge", purge_idempotency_keys, idle_s=3600.0, once_per_period=True)])

CONTEXTS: list[Context] = [
    PLATFORM,
    IDENTITY,
    UNITS,
    NOTIFICATIONS,
    PAYMENTS,
    FEEDBACK,
    JUDICIAL,
    HEALTH,
    TRANSIT,
    CONSOLE,  # the staff console: pages over the contexts' use cases (api/console/pages.py)
]
