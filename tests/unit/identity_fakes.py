"""In-memory fakes of the identity ports, shared by unit tests and the port contract tests."""

from __future__ import annotations

import datetime as dt
import uuid

from domain.errors import Unauthenticated
from domain.identity.eid import AuthorizationRequest, EIdIdentity
from domain.identity.ports import LoginTransaction, RotateOutcome, SessionRef, UserAccount
from domain.identity.tokens import AccessClaims
from domain.shared.ids import new_id

NOW = dt.datetime(2026, 11, 25, 5, 0, tzinfo=dt.UTC)


class FixedClock:
    def __init__(self) -> None:
        self.at = NOW

    def now(self) -> dt.datetime:
        return self.at


class FakeEId:
    def __init__(self) -> None:
        self.finished: list[tuple[str, str, str]] = []

    async def begin(self, *, redirect_uri: str, level: int = 2) -> AuthorizationRequest:
        n = len(self.finished)
        return AuthorizationRequest(authorization_url=f"https://eid.example/authorize?n={n}", state=f"state{n}",
                                    nonce=f"nonce{n}", code_verifier=f"verifier{n}")

    async def finish(self, *, code: str, code_verifier: str, nonce: str, redirect_uri: str,
                     issuer: str | None = None) -> EIdIdentity:
        self.finished.append((code, code_verifier, nonce))
        if code != "good":
            raise Unauthenticated("identity.eid_code_rejected")
        return EIdIdentity(issuer="https://eid.example", subject="sub-1", personal_id="001085000101",
                           full_name="Nguyễn Văn An", level=2)


class FakeTransactions:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, LoginTransaction] = {}

    async def save(self, tx: LoginTransaction) -> None:
        self.rows[tx.id] = tx

    async def take(self, tx_id: uuid.UUID, now: dt.datetime) -> LoginTransaction | None:
        tx = self.rows.pop(tx_id, None)
        return tx if tx is not None and tx.expires_at > now else None


class FakeAccounts:
    def __init__(self) -> None:
        self.by_hash: dict[bytes, UserAccount] = {}

    async def upsert_from_eid(self, identity: EIdIdentity, personal_id_hash: bytes,
                              personal_id_enc: bytes) -> UserAccount:
        return self.by_hash.setdefault(personal_id_hash, UserAccount(id=new_id(), level=identity.level,
                                                                     city_admin=False, grants=()))

    async def load(self, user_id: uuid.UUID) -> UserAccount | None:
        return next((a for a in self.by_hash.values() if a.id == user_id), None)


class FakeSessions:
    def __init__(self) -> None:
        self.sessions: dict[uuid.UUID, SessionRef] = {}
        self.tokens: dict[bytes, tuple[uuid.UUID, bool]] = {}
        self.revoked: set[uuid.UUID] = set()

    async def create(self, *, session_id: uuid.UUID, user_id: uuid.UUID, level: int, refresh_hash: bytes,
                     user_agent: str, expires_at: dt.datetime) -> None:
        self.sessions[session_id] = SessionRef(session_id=session_id, user_id=user_id, level=level)
        self.tokens[refresh_hash] = (session_id, False)

    async def rotate(self, old_hash: bytes, new_hash: bytes, now: dt.datetime) -> RotateOutcome:
        found = self.tokens.get(old_hash)
        if found is None:
            return RotateOutcome()
        sid, used = found
        if used:
            return RotateOutcome(reused_session_id=sid)
        if sid in self.revoked:
            return RotateOutcome()
        self.tokens[old_hash] = (sid, True)
        self.tokens[new_hash] = (sid, False)
        return RotateOutcome(session=self.sessions[sid])

    async def revoke(self, session_id: uuid.UUID, reason: str) -> None:
        self.revoked.add(session_id)


class FakePii:
    def lookup_hash(self, personal_id: str) -> bytes:
        return b"h:" + personal_id.encode()

    def encrypt(self, personal_id: str) -> bytes:
        return personal_id.encode()[::-1]

    def decrypt(self, blob: bytes) -> str:
        return blob[::-1].decode()


class FakeSigner:
    ttl_seconds = 600

    def __init__(self) -> None:
        self.issued: list[AccessClaims] = []

    def issue(self, claims: AccessClaims) -> str:
        self.issued.append(claims)
        return f"at-{len(self.issued)}"

    def verify(self, token: str) -> AccessClaims:
        return self.issued[int(token.split("-")[1]) - 1]
