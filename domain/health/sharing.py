"""Consent: the citizen shares the whole record or chosen categories for a limited time, by a code.

The code (shown as text and as a QR) is random, single-purpose and stored only as a hash. Whoever
redeems it — a doctor logged in with e-ID, or a facility's client — becomes a grantee of the share
and reads through the FHIR API within it until it expires or the citizen revokes it.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

import msgspec

from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.health.access import AccessPolicy
from domain.health.model import AccessEntry, Category, Share
from domain.health.ports import AccessLog, Facilities, Shares
from domain.identity.principal import ClientKind, Principal, PrincipalKind
from domain.shared.ids import new_id
from domain.shared.paging import MAX_LIMIT, Page, decode_id_cursor, encode_cursor
from domain.shared.time import Clock

MAX_SHARE_HOURS = 24 * 7
DEFAULT_SHARE_HOURS = 24
# 10 characters of Crockford base32 without look-alikes (I, L, O, U): 50 bits, typed or scanned.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10


def new_share_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "").replace("O", "0").replace("I", "1").replace("L", "1")


def hash_code(code: str) -> bytes:
    return hashlib.sha256(normalise_code(code).encode()).digest()


class CreatedShare(msgspec.Struct, frozen=True):
    share: Share
    code: str  # shown once; only its hash is kept


class Sharing:
    def __init__(self, *, policy: AccessPolicy, shares: Shares, facilities: Facilities, log: AccessLog,
                 clock: Clock) -> None:
        self.policy = policy
        self.shares = shares
        self.facilities = facilities
        self.log = log
        self.clock = clock

    async def create(self, principal: Principal, *, categories: tuple[Category, ...], recipient: str,
                     hours: int = DEFAULT_SHARE_HOURS) -> CreatedShare:
        patient_id = await self.policy.own(principal)
        if not 1 <= hours <= MAX_SHARE_HOURS:
            raise InvalidInput("health.share_duration", field="hours", rule="range")
        if not recipient.strip():
            raise InvalidInput("health.share_recipient", field="recipient", rule="required")
        now = self.clock.now()
        code = new_share_code()
        share = Share(id=new_id(), patient_id=patient_id, owner_id=principal.id, code_hash=hash_code(code),
                      categories=tuple(dict.fromkeys(categories)), recipient=recipient.strip(), created_at=now,
                      expires_at=now + timedelta(hours=hours))
        await self.shares.add(share)
        return CreatedShare(share, code)

    async def mine(self, principal: Principal) -> list[Share]:
        return await self.shares.of_patient(await self.policy.own(principal))

    async def revoke(self, principal: Principal, share_id: uuid.UUID) -> Share:
        patient_id = await self.policy.own(principal)
        share = await self.shares.get(share_id)
        if share is None or share.patient_id != patient_id:
            raise NotFound("health.share_not_found")
        if share.revoked_at is None:
            now = self.clock.now()
            await self.shares.revoke(share_id, now)
            share = msgspec.structs.replace(share, revoked_at=now)
        return share

    async def redeem(self, principal: Principal, code: str) -> Share:
        """A doctor or facility presents the code: they become a grantee of the share."""
        share = await self.shares.by_code_hash(hash_code(code))
        now = self.clock.now()
        # Unknown, expired and revoked codes look the same to the presenter.
        if share is None or not share.active(now):
            raise NotFound("health.share_not_found")
        if principal.kind is PrincipalKind.USER:
            if principal.level < 2:
                raise Forbidden("health.level2_required")
            if principal.id == share.owner_id:
                raise Conflict("health.share_own")
            kind, reader_id = "user", principal.id
        elif principal.kind is PrincipalKind.CLIENT and principal.client_kind is ClientKind.FACILITY:
            facility = await self.facilities.by_client(principal.id)
            if facility is None or not facility.active:
                raise Forbidden("health.facility_not_registered")
            kind, reader_id = "facility", facility.id
        else:
            raise Forbidden("health.share_readers_only")
        await self.shares.add_grant(share.id, kind, reader_id, now)
        return share


class AccessHistory:
    """The citizen's view of the access log, newest first."""

    def __init__(self, policy: AccessPolicy, log: AccessLog) -> None:
        self.policy = policy
        self.log = log

    async def list(self, principal: Principal, *, cursor: str | None = None, limit: int = 20) -> Page[AccessEntry]:
        patient_id = await self.policy.own(principal)
        before = None
        if cursor:
            before = decode_id_cursor(cursor)
        limit = max(1, min(limit, MAX_LIMIT))
        rows = await self.log.of_patient(patient_id, before=before, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(items=rows, next_cursor=encode_cursor(str(rows[-1].id)) if more and rows else None)
