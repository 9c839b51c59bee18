"""Small enumerations that travel inside the QR bytes, so their numeric values are part of the
published format (docs/transit-qr.md) and must never be renumbered."""

from __future__ import annotations

from enum import IntEnum, IntFlag, StrEnum


class ProductKind(IntEnum):
    SINGLE_RIDE = 1
    DAY = 2
    WEEK = 3
    MONTHLY_ROUTE = 4   # monthly pass for one route ("vé tháng một tuyến")
    MONTHLY_ALL = 5     # monthly pass for all routes ("vé tháng liên tuyến")
    FREE = 6            # free pass of a free group (60+, under 6, merit, disability, poor household)

    @property
    def slug(self) -> str:
        return self.name.lower()

    @classmethod
    def from_slug(cls, slug: str) -> ProductKind:
        return cls[slug.upper()]


class Network(IntFlag):
    """Which vehicles a pass rides: a bit set, so an all-modes pass is BUS | METRO."""

    BUS = 1
    METRO = 2


ALL_NETWORKS = Network.BUS | Network.METRO

# Route number 0 in a pass means "every route of the pass's networks".
ALL_ROUTES = 0

# Pass validity end meaning "no expiry" (free passes of poor households since Oct 2024).
NO_EXPIRY = 0xFFFF_FFFF


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class Rejection(StrEnum):
    """Why a gate refused a code. Stable strings: gates upload them with rejected taps."""

    MALFORMED = "malformed"                  # not our format, truncated, trailing bytes
    UNSUPPORTED_VERSION = "unsupported_version"
    UNKNOWN_KID = "unknown_kid"              # issuer key not in the gate's trust store
    KEY_NOT_VALID = "key_not_valid"          # issuer key outside its validity window
    FORGED = "forged"                        # a signature does not verify (or is missing)
    CREDENTIAL_NOT_YET_VALID = "credential_not_yet_valid"
    CREDENTIAL_EXPIRED = "credential_expired"
    CREDENTIAL_TOO_LONG = "credential_too_long"   # issued for more than 72 h
    CODE_EXPIRED = "code_expired"            # device timestamp older than the code lifetime
    CODE_FROM_FUTURE = "code_from_future"    # device timestamp ahead of the gate beyond the skew
    PASS_NOT_YET_VALID = "pass_not_yet_valid"  # noqa: S105 (a reason, not a password)
    PASS_EXPIRED = "pass_expired"  # noqa: S105
    WRONG_NETWORK = "wrong_network"          # a bus pass at a metro gate
    WRONG_ROUTE = "wrong_route"              # a one-route pass on another route
    DENIED = "denied"                        # on the deny list (revoked pass, unbound device)
    REPLAY = "replay"                        # this exact code was already used
    PASSBACK = "passback"                    # a second entry within the anti-passback window
    TICKET_USED = "ticket_used"              # a paper single-ride ticket presented again
