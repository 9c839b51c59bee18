"""Login use cases against in-memory fakes of the identity ports (no I/O)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from domain.errors import Unauthenticated
from domain.identity.eid import AuthorizationRequest, EIdIdentity
from domain.identity.login import (
    LOGIN_TTL,
    CommittedFailure,
    CompleteLogin,
    RefreshSession,
    SessionIssuer,
    StartLogin,
    hash_refresh_token,
)
from domain.identity.ports import LoginTransaction, RotateOutcome, SessionRef, UserAccount
from domain.identity.principal import PrincipalKind
from domain.identity.tokens import AccessClaims, principal_from
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

    async def finish(self, *, code: str, code_verifier: str, nonce: str, redirect_uri: str) -> EIdIdentity:
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


class World:
    def __init__(self) -> None:
        self.clock = FixedClock()
        self.eid, self.txs, self.accounts = FakeEId(), FakeTransactions(), FakeAccounts()
        self.sessions, self.signer, self.pii = FakeSessions(), FakeSigner(), FakePii()
        self.issuer = SessionIssuer(self.sessions, self.signer, self.clock, dt.timedelta(days=30))

    def start(self) -> StartLogin:
        return StartLogin(self.eid, self.txs, self.clock)

    def complete(self) -> CompleteLogin:
        return CompleteLogin(self.eid, self.txs, self.accounts, self.pii, self.issuer, self.clock)

    def refresh(self) -> RefreshSession:
        return RefreshSession(self.sessions, self.accounts, self.issuer, self.clock)


@pytest.fixture
def world() -> World:
    return World()


async def test_login_binds_nonce_and_verifier_of_the_transaction(world: World) -> None:
    tx_id, url = await world.start().execute(redirect_uri="app://cb", level=2)
    assert url.startswith("https://eid.example/authorize")
    tokens, account, _ = await world.complete().execute(transaction_id=tx_id, code="good", state="state0")
    assert world.eid.finished == [("good", "verifier0", "nonce0")]
    assert tokens.user_id == account.id
    claims = world.signer.verify(tokens.access_token)
    assert claims.roles == ("citizen",)
    assert claims.session_id == tokens.session_id


async def test_wrong_state_consumes_the_transaction(world: World) -> None:
    tx_id, _ = await world.start().execute(redirect_uri="app://cb", level=2)
    with pytest.raises(CommittedFailure) as exc:
        await world.complete().execute(transaction_id=tx_id, code="good", state="state0-wrong")
    assert exc.value.error.code == "identity.state_mismatch"
    assert world.eid.finished == []  # never reached the provider
    with pytest.raises(CommittedFailure) as again:
        await world.complete().execute(transaction_id=tx_id, code="good", state="state0")
    assert again.value.error.code == "identity.login_transaction_invalid"


async def test_expired_transaction_is_refused(world: World) -> None:
    tx_id, _ = await world.start().execute(redirect_uri="app://cb", level=2)
    world.clock.at = NOW + LOGIN_TTL + dt.timedelta(seconds=1)
    with pytest.raises(CommittedFailure):
        await world.complete().execute(transaction_id=tx_id, code="good", state="state0")


async def test_provider_rejection_still_consumes_the_transaction(world: World) -> None:
    tx_id, _ = await world.start().execute(redirect_uri="app://cb", level=2)
    with pytest.raises(CommittedFailure) as exc:
        await world.complete().execute(transaction_id=tx_id, code="bad", state="state0")
    assert exc.value.error.code == "identity.eid_code_rejected"
    assert tx_id not in world.txs.rows


async def test_refresh_rotates_and_reuse_revokes_the_family(world: World) -> None:
    tx_id, _ = await world.start().execute(redirect_uri="app://cb", level=2)
    first, _, _ = await world.complete().execute(transaction_id=tx_id, code="good", state="state0")
    second = await world.refresh().execute(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert second.session_id == first.session_id
    with pytest.raises(CommittedFailure) as exc:
        await world.refresh().execute(first.refresh_token)
    assert exc.value.error.code == "identity.refresh_token_reused"
    assert first.session_id in world.sessions.revoked
    with pytest.raises(Unauthenticated):
        await world.refresh().execute(second.refresh_token)


async def test_unknown_refresh_token_is_refused(world: World) -> None:
    with pytest.raises(Unauthenticated):
        await world.refresh().execute("x" * 43)


def test_refresh_tokens_are_stored_as_sha256() -> None:
    assert len(hash_refresh_token("abc")) == 32


def test_principal_from_claims_reads_roles() -> None:
    unit = new_id()
    p = principal_from(AccessClaims(subject=new_id(), kind=PrincipalKind.USER, level=2, session_id=new_id(),
                                    roles=("citizen", "city_admin", f"handler@{unit}")))
    assert p.city_admin
    assert p.has_role(unit)
    assert not p.has_role(new_id())
    client = principal_from(AccessClaims(subject=new_id(), kind=PrincipalKind.CLIENT, roles=("facility",)))
    assert client.client_kind is not None
    assert not client.is_user
    with pytest.raises(Unauthenticated):
        principal_from(AccessClaims(subject=new_id(), kind=PrincipalKind.USER, roles=("handler@not-a-uuid",)))
