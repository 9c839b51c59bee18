"""Login use cases against in-memory fakes of the identity ports (no I/O)."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.errors import Unauthenticated
from domain.identity.login import (
    LOGIN_TTL,
    CommittedFailure,
    CompleteLogin,
    RefreshSession,
    SessionIssuer,
    StartLogin,
    hash_refresh_token,
)
from domain.identity.principal import PrincipalKind
from domain.identity.tokens import AccessClaims, principal_from
from domain.shared.ids import new_id
from tests.unit.identity_fakes import (
    NOW,
    FakeAccounts,
    FakeEId,
    FakePii,
    FakeSessions,
    FakeSigner,
    FakeTransactions,
    FixedClock,
)


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
