"""Use cases of the login flow: start, complete (callback), refresh, with our tokens.

Secrets that must survive a failed attempt (consumed login transaction, revoked session after a
refresh-token reuse) are reported through ``Failure.commit_first`` so the API commits them before
answering with the error: a rollback must never resurrect a used transaction or a killed family.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid

import msgspec

from domain.errors import DomainError, Unauthenticated
from domain.identity.eid import EIdProvider
from domain.identity.ports import Accounts, LoginTransaction, LoginTransactions, PiiProtector, Sessions, UserAccount
from domain.identity.principal import PrincipalKind
from domain.identity.tokens import AccessClaims, TokenSigner, roles_for
from domain.shared.ids import new_id
from domain.shared.time import Clock

LOGIN_TTL = dt.timedelta(minutes=10)


class CommittedFailure(Exception):
    """Wraps a domain error whose side effects (revocation, consumption) must be committed."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.code)
        self.error = error


class Tokens(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: uuid.UUID
    user_id: uuid.UUID


def hash_refresh_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


class StartLogin:
    def __init__(self, provider: EIdProvider, transactions: LoginTransactions, clock: Clock) -> None:
        self._provider, self._transactions, self._clock = provider, transactions, clock

    async def execute(self, *, redirect_uri: str, level: int) -> tuple[uuid.UUID, str]:
        request = await self._provider.begin(redirect_uri=redirect_uri, level=level)
        tx = LoginTransaction(id=new_id(), state=request.state, nonce=request.nonce,
                              code_verifier=request.code_verifier, redirect_uri=redirect_uri, level=level,
                              expires_at=self._clock.now() + LOGIN_TTL)
        await self._transactions.save(tx)
        return tx.id, request.authorization_url


class SessionIssuer:
    """Creates sessions and mints the token pair for a user account."""

    def __init__(self, sessions: Sessions, signer: TokenSigner, clock: Clock, refresh_ttl: dt.timedelta) -> None:
        self._sessions, self._signer, self._clock, self._refresh_ttl = sessions, signer, clock, refresh_ttl

    @property
    def ttl_seconds(self) -> int:
        return self._signer.ttl_seconds

    def access_token(self, account: UserAccount, session_id: uuid.UUID, level: int) -> str:
        return self._signer.issue(AccessClaims(
            subject=account.id, kind=PrincipalKind.USER, level=level, session_id=session_id,
            roles=roles_for(city_admin=account.city_admin, grants=account.grants)))

    async def open(self, account: UserAccount, user_agent: str) -> Tokens:
        refresh = new_refresh_token()
        session_id = new_id()
        await self._sessions.create(session_id=session_id, user_id=account.id, level=account.level,
                                    refresh_hash=hash_refresh_token(refresh), user_agent=user_agent[:200],
                                    expires_at=self._clock.now() + self._refresh_ttl)
        return Tokens(access_token=self.access_token(account, session_id, account.level), refresh_token=refresh,
                      expires_in=self._signer.ttl_seconds, session_id=session_id, user_id=account.id)


class CompleteLogin:
    def __init__(self, provider: EIdProvider, transactions: LoginTransactions, accounts: Accounts,
                 pii: PiiProtector, issuer: SessionIssuer, clock: Clock) -> None:
        self._provider, self._transactions, self._accounts = provider, transactions, accounts
        self._pii, self._issuer, self._clock = pii, issuer, clock

    async def execute(self, *, transaction_id: uuid.UUID, code: str, state: str, issuer: str | None = None,
                      user_agent: str = "") -> tuple[Tokens, UserAccount, bytes]:
        """Return the tokens, the account and the personal id's keyed hash (for per-account limits)."""
        tx = await self._transactions.take(transaction_id, self._clock.now())
        if tx is None:
            raise CommittedFailure(Unauthenticated("identity.login_transaction_invalid"))
        if not hmac.compare_digest(tx.state.encode(), state.encode()):
            raise CommittedFailure(Unauthenticated("identity.state_mismatch"))
        try:
            identity = await self._provider.finish(code=code, code_verifier=tx.code_verifier, nonce=tx.nonce,
                                                   redirect_uri=tx.redirect_uri, issuer=issuer)
        except DomainError as exc:
            raise CommittedFailure(exc) from None
        lookup = self._pii.lookup_hash(identity.personal_id)
        account = await self._accounts.upsert_from_eid(identity, lookup, self._pii.encrypt(identity.personal_id))
        tokens = await self._issuer.open(account, user_agent)
        return tokens, account, lookup


class RefreshSession:
    def __init__(self, sessions: Sessions, accounts: Accounts, issuer: SessionIssuer, clock: Clock) -> None:
        self._sessions, self._accounts, self._issuer, self._clock = sessions, accounts, issuer, clock

    async def execute(self, refresh_token: str) -> Tokens:
        new = new_refresh_token()
        outcome = await self._sessions.rotate(hash_refresh_token(refresh_token), hash_refresh_token(new),
                                              self._clock.now())
        if outcome.reused_session_id is not None:
            # Someone holds a copy of an old token: end the whole family, theirs and ours.
            await self._sessions.revoke(outcome.reused_session_id, "refresh_token_reuse")
            raise CommittedFailure(Unauthenticated("identity.refresh_token_reused"))
        if outcome.session is None:
            raise Unauthenticated("identity.refresh_token_invalid")
        ref = outcome.session
        account = await self._accounts.load(ref.user_id)
        if account is None:
            raise Unauthenticated("identity.refresh_token_invalid")
        # Roles are re-read so that grants made since login appear in the new access token.
        return Tokens(access_token=self._issuer.access_token(account, ref.session_id, ref.level),
                      refresh_token=new, expires_in=self._issuer.ttl_seconds, session_id=ref.session_id,
                      user_id=account.id)
