"""Ports of the identity context: storage of users/sessions/login transactions, PII protection,
rate limiting. Adapters implement them (``adapters/postgres/identity/repositories.py``, ``adapters/signing``,
``adapters/ratelimit``); unit tests use in-memory fakes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Protocol

import msgspec

from domain.identity.eid import EIdIdentity
from domain.identity.principal import StaffGrant


class PiiProtector(Protocol):
    """Keyed hash for lookup and authenticated encryption for display of personal id numbers."""

    def lookup_hash(self, personal_id: str) -> bytes: ...

    def encrypt(self, personal_id: str) -> bytes: ...

    def decrypt(self, blob: bytes) -> str: ...


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_seconds: int) -> int:
        """Count one attempt; return 0 if allowed, else seconds until the window resets."""
        ...

    async def refund(self, key: str) -> None:
        """Take back one counted attempt (the work it paid for was not done); no-op once the window is gone."""
        ...


class LoginTransaction(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    level: int
    expires_at: dt.datetime


class UserAccount(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    level: int
    city_admin: bool
    grants: tuple[StaffGrant, ...]


class LiveAccess(msgspec.Struct, frozen=True, kw_only=True):
    """What a live session's user holds right now (the access token's roles may be stale)."""

    city_admin: bool
    grants: tuple[StaffGrant, ...]


class SessionRef(msgspec.Struct, frozen=True, kw_only=True):
    session_id: uuid.UUID
    user_id: uuid.UUID
    level: int


class LiveSession(LiveAccess, frozen=True, kw_only=True):
    """A live session found by its current refresh token (the staff console's cookie) with its access now."""

    session: SessionRef


class RotateOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """``session`` when the token was current; ``reused`` when it had already been rotated."""

    session: SessionRef | None = None
    reused_session_id: uuid.UUID | None = None


class LoginTransactions(Protocol):
    async def save(self, tx: LoginTransaction) -> None: ...

    async def take(self, tx_id: uuid.UUID, now: dt.datetime) -> LoginTransaction | None:
        """Delete and return the transaction if it exists and has not expired (single use)."""
        ...


class Accounts(Protocol):
    async def upsert_from_eid(self, identity: EIdIdentity, personal_id_hash: bytes,
                              personal_id_enc: bytes) -> UserAccount:
        """Find the user by keyed hash or (iss, sub), update or create, apply pending grants."""
        ...

    async def load(self, user_id: uuid.UUID) -> UserAccount | None: ...


class Sessions(Protocol):
    async def create(self, *, session_id: uuid.UUID, user_id: uuid.UUID, level: int, refresh_hash: bytes,
                     user_agent: str, expires_at: dt.datetime) -> None: ...

    async def rotate(self, old_hash: bytes, new_hash: bytes, now: dt.datetime) -> RotateOutcome:
        """Atomically mark ``old_hash`` used and store ``new_hash`` in the same session."""
        ...

    async def revoke(self, session_id: uuid.UUID, reason: str) -> None: ...
