"""Domain errors.

Every error the domain raises carries a stable ``code`` (``feedback.not_found``). The API layer
owns the single table that maps error classes to HTTP statuses and the catalogue of
Vietnamese/English messages keyed by ``code``; the domain never speaks HTTP.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class. ``code`` is stable and documented; ``params`` fill the message templates."""

    code: str = "error"

    def __init__(self, code: str | None = None, *, field: str | None = None, rule: str | None = None,
                 **params: Any) -> None:
        if code is not None:
            self.code = code
        self.field = field
        self.rule = rule
        self.params = params
        super().__init__(self.code)


class NotFound(DomainError):
    """The object does not exist *for this caller* (also used for other citizens' objects)."""

    code = "not_found"


class InvalidInput(DomainError):
    """Input that is well-formed but breaks a business rule; names the field and the rule."""

    code = "validation_failed"  # the 422 of the status table; a context names its own code for business rules


class Conflict(DomainError):
    """The request conflicts with the current state (wrong status, duplicate, key reuse)."""

    code = "conflict"


class Forbidden(DomainError):
    """The caller is known but may not do this (role, unit, e-ID level)."""

    code = "forbidden"


class Unauthenticated(DomainError):
    """No valid credentials."""

    code = "unauthenticated"


class RateLimited(DomainError):
    """Too many attempts; ``retry_after`` seconds until the next one may succeed."""

    code = "rate_limited"

    def __init__(self, retry_after: int, code: str | None = None) -> None:
        super().__init__(code)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A dependency (database, upstream provider) is down; the client should retry later."""

    code = "unavailable"

    def __init__(self, retry_after: int = 5, code: str | None = None) -> None:
        super().__init__(code)
        self.retry_after = retry_after
