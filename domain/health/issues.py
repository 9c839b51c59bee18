"""Problems found in a facility's bundle, reported back as one FHIR OperationOutcome.

Every check (structure, references, codes, ownership) adds an ``Issue`` with the FHIRPath of the
element it is about; a bundle with any ``error`` issue is rejected whole.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from domain.errors import InvalidInput


class IssueType(StrEnum):
    """The OperationOutcome ``issue.code`` values we use (http://hl7.org/fhir/issue-type)."""

    STRUCTURE = "structure"
    REQUIRED = "required"
    VALUE = "value"
    INVARIANT = "invariant"
    CODE_INVALID = "code-invalid"
    NOT_SUPPORTED = "not-supported"
    NOT_FOUND = "not-found"
    FORBIDDEN = "forbidden"
    BUSINESS_RULE = "business-rule"
    DUPLICATE = "duplicate"
    INFORMATIONAL = "informational"


class Issue(msgspec.Struct, frozen=True, kw_only=True):
    code: IssueType
    # Stable, machine-readable reason (e.g. "health.reference_unresolved"); diagnostics is for people.
    rule: str
    diagnostics: str
    expression: str
    severity: str = "error"


class BundleRejected(InvalidInput):
    """The bundle breaks at least one rule; nothing was stored. ``issues`` lists every problem."""

    code = "health.bundle_invalid"

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__(field=issues[0].expression if issues else None, rule=issues[0].rule if issues else None)
        self.issues = issues
