"""Identity storage: login transactions, accounts (users + grants), sessions and refresh tokens.

Implements the ports of ``domain.identity.ports`` on the unit of work's connection, plus the
``SessionGate`` the token check uses on every request (pool-level, one query, not cached).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import asyncpg

from adapters.postgres.uow import ACQUIRE_TIMEOUT_S
from domain.errors import Forbidden
from domain.identity.eid import EIdIdentity
from domain.identity.ports import LiveAccess, LiveSession, LoginTransaction, RotateOutcome, SessionRef, UserAccount
from domain.identity.principal import StaffGrant, StaffRole
from domain.shared.ids import new_id

Conn = Any  # asyncpg connection or pool proxy


class PgLoginTransactions:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def save(self, tx: LoginTransaction) -> None:
        # Abandoned logins are swept here, a bounded batch at a time, instead of by a separate job.
        await self._conn.execute(
            """DELETE FROM login_transactions WHERE id IN (
                   SELECT id FROM login_transactions WHERE expires_at < now() LIMIT 20)""")
        await self._conn.execute(
            """INSERT INTO login_transactions (id, state, nonce, code_verifier, redirect_uri, level, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            tx.id, tx.state, tx.nonce, tx.code_verifier, tx.redirect_uri, tx.level, tx.expires_at)

    async def take(self, tx_id: uuid.UUID, now: dt.datetime) -> LoginTransaction | None:
        row = await self._conn.fetchrow("DELETE FROM login_transactions WHERE id = $1 RETURNING *", tx_id)
        if row is None or row["expires_at"] <= now:
            return None
        return LoginTransaction(id=row["id"], state=row["state"], nonce=row["nonce"],
                                code_verifier=row["code_verifier"], redirect_uri=row["redirect_uri"],
                                level=row["level"], expires_at=row["expires_at"])


async def load_grants(conn: Conn, user_id: uuid.UUID) -> tuple[StaffGrant, ...]:
    rows = await conn.fetch("SELECT unit_id, role FROM staff_grants WHERE user_id = $1", user_id)
    return tuple(StaffGrant(unit_id=r["unit_id"], role=StaffRole(r["role"])) for r in rows)


class PgAccounts:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def upsert_from_eid(self, identity: EIdIdentity, personal_id_hash: bytes,
                              personal_id_enc: bytes) -> UserAccount:
        user_id = await self._conn.fetchval(
            """SELECT id FROM users WHERE personal_id_hash = $1 OR (eid_issuer = $2 AND eid_subject = $3)
               ORDER BY (personal_id_hash = $1) DESC LIMIT 1""",
            personal_id_hash, identity.issuer, identity.subject)
        if user_id is None:
            user_id = await self._conn.fetchval(
                """INSERT INTO users (id, eid_issuer, eid_subject, personal_id_hash, personal_id_enc, full_name,
                                      date_of_birth, level)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                   ON CONFLICT (personal_id_hash) DO UPDATE SET updated_at = now()
                   RETURNING id""",
                new_id(), identity.issuer, identity.subject, personal_id_hash, personal_id_enc,
                identity.full_name, identity.date_of_birth, identity.level)
        await self._conn.execute(
            """UPDATE users SET eid_issuer = $2, eid_subject = $3, personal_id_hash = $4, personal_id_enc = $5,
                      full_name = $6, date_of_birth = $7, level = $8, updated_at = now()
               WHERE id = $1""",
            user_id, identity.issuer, identity.subject, personal_id_hash, personal_id_enc, identity.full_name,
            identity.date_of_birth, identity.level)
        await self._apply_pending(user_id, personal_id_hash)
        account = await self.load(user_id)
        if account is None:  # deletion asked for or account suspended: no new sessions
            suspended = await self._conn.fetchval("SELECT suspended_at IS NOT NULL FROM users WHERE id = $1", user_id)
            raise Forbidden("identity.account_suspended" if suspended else "identity.deletion_requested")
        return account

    async def _apply_pending(self, user_id: uuid.UUID, personal_id_hash: bytes) -> None:
        await self._conn.execute(
            """UPDATE users SET city_admin = true WHERE id = $1 AND EXISTS (
                   SELECT 1 FROM pending_grants WHERE personal_id_hash = $2 AND role = 'city_admin')""",
            user_id, personal_id_hash)
        await self._conn.execute(
            """INSERT INTO staff_grants (user_id, unit_id, role)
               SELECT $1, u.id, p.role FROM pending_grants p JOIN units u ON u.code = p.unit_code
               WHERE p.personal_id_hash = $2 AND p.role <> 'city_admin'
               ON CONFLICT DO NOTHING""",
            user_id, personal_id_hash)
        await self._conn.execute("DELETE FROM pending_grants WHERE personal_id_hash = $1", personal_id_hash)

    async def load(self, user_id: uuid.UUID) -> UserAccount | None:
        row = await self._conn.fetchrow(
            """SELECT id, level, city_admin FROM users
               WHERE id = $1 AND deletion_requested_at IS NULL AND suspended_at IS NULL""", user_id)
        if row is None:
            return None
        return UserAccount(id=row["id"], level=row["level"], city_admin=row["city_admin"],
                           grants=await load_grants(self._conn, user_id))


class PgSessions:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def create(self, *, session_id: uuid.UUID, user_id: uuid.UUID, level: int, refresh_hash: bytes,
                     user_agent: str, expires_at: dt.datetime) -> None:
        await self._conn.execute(
            "INSERT INTO sessions (id, user_id, level, user_agent, expires_at) VALUES ($1, $2, $3, $4, $5)",
            session_id, user_id, level, user_agent, expires_at)
        await self._conn.execute("INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)",
                                 refresh_hash, session_id)

    async def rotate(self, old_hash: bytes, new_hash: bytes, now: dt.datetime) -> RotateOutcome:
        # The conditional UPDATE is the atomic step: of two racing refreshes only one sees used_at NULL.
        row = await self._conn.fetchrow(
            """UPDATE refresh_tokens t SET used_at = $2 FROM sessions s
               WHERE t.token_hash = $1 AND t.used_at IS NULL AND s.id = t.session_id
                 AND s.revoked_at IS NULL AND s.expires_at > $2
               RETURNING s.id, s.user_id, s.level""", old_hash, now)
        if row is None:
            reused = await self._conn.fetchval(
                "SELECT session_id FROM refresh_tokens WHERE token_hash = $1 AND used_at IS NOT NULL", old_hash)
            return RotateOutcome(reused_session_id=reused)
        await self._conn.execute("INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)",
                                 new_hash, row["id"])
        await self._conn.execute("UPDATE sessions SET last_used_at = $2 WHERE id = $1", row["id"], now)
        return RotateOutcome(session=SessionRef(session_id=row["id"], user_id=row["user_id"], level=row["level"]))

    async def revoke(self, session_id: uuid.UUID, reason: str) -> None:
        await self._conn.execute(
            "UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL",
            session_id, reason)

    async def revoke_own(self, user_id: uuid.UUID, session_id: uuid.UUID, reason: str) -> bool:
        """End one of the person's own active sessions; False when it is not theirs or already ended."""
        ended = await self._conn.fetchval(
            """UPDATE sessions SET revoked_at = now(), revoked_reason = $3
               WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING true""", session_id, user_id, reason)
        return bool(ended)

    async def revoke_all(self, user_id: uuid.UUID, reason: str) -> int:
        ids = await self._conn.fetch(
            """UPDATE sessions SET revoked_at = now(), revoked_reason = $2
               WHERE user_id = $1 AND revoked_at IS NULL RETURNING id""", user_id, reason)
        return len(ids)


# What makes a session live, shared by every form of the check below: not ended (logout, revocation,
# expiry), and its person neither suspended nor being deleted.
LIVE_SESSIONS = """FROM sessions s
               JOIN users u ON u.id = s.user_id AND u.deletion_requested_at IS NULL AND u.suspended_at IS NULL"""
LIVE_WHERE = "s.revoked_at IS NULL AND s.expires_at > now()"



def within_live_session(sql: str, *, session: str, user: str) -> str:
    """``sql`` (a query whose first column is never NULL) answered only while session ``session`` of user
    ``user`` (parameter references such as ``$4``) is live, by the same rule as ``SessionGate``: no row at
    all when it is not, one row of NULLs when it is and ``sql`` finds nothing (``rows_in_live_session``).
    A read that carries the caller's session check in its own round trip (api.identity.auth,
    ``SESSION_IN_QUERY``)."""
    return (f"SELECT q.* FROM (SELECT 1 {LIVE_SESSIONS} WHERE s.id = {session} AND u.id = {user} AND {LIVE_WHERE})"
            f" live LEFT JOIN LATERAL ({sql}) q ON true")


def rows_in_live_session(rows: list[Any]) -> list[Any] | None:
    """The rows of a ``within_live_session`` query, or None when the session was not live."""
    if not rows:
        return None
    return [] if rows[0][0] is None else rows


# What SessionGate.confirmation may render as text: role names and UUIDs.
_ROLE_LIST = re.compile(r"([a-z_]+@[0-9a-f-]{36})?(,[a-z_]+@[0-9a-f-]{36})*")


class SessionGate:
    """The caller's live access, read on every request: one indexed query, never cached.

    Returns the session's user's current grants and admin flag, or None when the session ended
    (logout, revocation, expiry), the person asked for deletion or the account is suspended. Not
    cached per process, so a grant removed, a suspension or a session ended in any worker is
    refused on the very next request everywhere.
    """

    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        self._pool = pool

    async def _fetchrow(self, query: str, arg: Any) -> Any:
        # Bounded like a unit of work's acquire: a caller that already holds a pooled connection (a handler
        # authenticating inside its unit of work) must get a 503 under overload, never wait for ever while
        # every connection is held by requests waiting here (the pool would stay wedged once full).
        async with self._pool.acquire(timeout=ACQUIRE_TIMEOUT_S) as conn:
            return await conn.fetchrow(query, arg)

    _LIVE = """SELECT s.id AS session_id, s.user_id, s.level, u.city_admin,
                      coalesce(array_agg(g.unit_id) FILTER (WHERE g.unit_id IS NOT NULL), '{}') AS units,
                      coalesce(array_agg(g.role) FILTER (WHERE g.unit_id IS NOT NULL), '{}') AS roles
               """ + LIVE_SESSIONS + """
               LEFT JOIN staff_grants g ON g.user_id = u.id
               WHERE {match} AND """ + LIVE_WHERE + """
               GROUP BY s.id, u.id"""
    _BY_ID = _LIVE.replace("{match}", "s.id = $1")
    _BY_REFRESH = _LIVE.replace(
        "{match}", "s.id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $1 AND used_at IS NULL)")

    async def current(self, session_id: uuid.UUID) -> LiveAccess | None:
        row = await self._fetchrow(self._BY_ID, session_id)
        return None if row is None else LiveAccess(city_admin=row["city_admin"], grants=_grants(row))

    @staticmethod
    def confirmation(session_id: uuid.UUID, city_admin: bool, grants: tuple[StaffGrant, ...]) -> str:
        """The same check as ``current`` as one statement that finds a row exactly when the session is live
        and the user's access is still ``city_admin`` and ``grants`` (what the access token says).

        Sent with BEGIN in one round trip (``PgUnitOfWork(begin_check=…)``), so it goes by the
        simple-query protocol, which takes no parameters: every value is a UUID, a boolean or a role
        name, rendered from typed values only (nothing the caller wrote reaches the text)."""
        roles = ",".join(sorted(f"{g.role.value}@{g.unit_id}" for g in grants))
        if not _ROLE_LIST.fullmatch(roles):
            raise ValueError("unexpected role text")
        # string_agg ordered byte-wise (COLLATE "C") to match Python's sort of the same ASCII strings.
        return f"""SELECT 1 {LIVE_SESSIONS}
                   WHERE s.id = '{uuid.UUID(str(session_id))}' AND {LIVE_WHERE}
                     AND u.city_admin = {"true" if city_admin else "false"}
                     AND coalesce((SELECT string_agg(g.role || '@' || g.unit_id, ','
                                                     ORDER BY (g.role || '@' || g.unit_id) COLLATE "C")
                                   FROM staff_grants g WHERE g.user_id = u.id), '') = '{roles}'"""

    async def by_refresh(self, token_hash: bytes) -> LiveSession | None:
        """The session whose *current* refresh token this is (the staff console's cookie), with its access now.

        A rotated (used) token no longer opens it: whoever refreshed with a stolen copy ends the console's hold.
        """
        row = await self._fetchrow(self._BY_REFRESH, token_hash)
        if row is None:
            return None
        return LiveSession(city_admin=row["city_admin"], grants=_grants(row), session=SessionRef(
            session_id=row["session_id"], user_id=row["user_id"], level=row["level"]))


def _grants(row: Any) -> tuple[StaffGrant, ...]:
    return tuple(StaffGrant(unit_id=u, role=StaffRole(r)) for u, r in zip(row["units"], row["roles"], strict=True))


async def grant_by_personal_id_hash(conn: Conn, personal_id_hash: bytes, role: str, unit_code: str = "") -> str:
    """Grant ``role`` (``city_admin`` or a staff role in ``unit_code``) to a person known by keyed hash.

    Applied at once if the person has logged in before, else kept in ``pending_grants`` until they
    do. Returns ``"granted"`` or ``"pending"``. Idempotent.
    """
    user_id = await conn.fetchval("SELECT id FROM users WHERE personal_id_hash = $1", personal_id_hash)
    if user_id is None:
        await conn.execute(
            """INSERT INTO pending_grants (personal_id_hash, role, unit_code) VALUES ($1, $2, $3)
               ON CONFLICT DO NOTHING""", personal_id_hash, role, unit_code)
        return "pending"
    if role == "city_admin":
        await conn.execute("UPDATE users SET city_admin = true, updated_at = now() WHERE id = $1", user_id)
    else:
        unit = await conn.fetchval("SELECT id FROM units WHERE code = $1", unit_code)
        if unit is None:
            raise ValueError(f"no unit with code {unit_code!r}")
        await conn.execute("INSERT INTO staff_grants (user_id, unit_id, role) VALUES ($1, $2, $3) "
                           "ON CONFLICT DO NOTHING", user_id, unit, role)
    return "granted"
