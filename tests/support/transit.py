"""Transit test helpers: an issuer with a P-256 key, pass facts, a phone, a gate."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from adapters.postgres.notifications import PgNotifier
from adapters.postgres.transit.cards import PgApplications, PgBindings, PgCards, PgPasses
from adapters.postgres.transit.catalog import PgCatalog, PgCitizens
from adapters.postgres.transit.gates import PgDenyList, PgIssuerKeys, PgPaperTickets, PgTaps
from adapters.transit_crypto.mobile import ReferencePhone
from adapters.transit_crypto.offline import OfflineVerifier
from adapters.transit_crypto.p256 import P256Signer, P256Verifier, generate
from adapters.transit_images.render import QrImages
from domain.identity.principal import ClientKind, Principal, PrincipalKind
from domain.transit.codes import ALL_NETWORKS, Direction, Network, ProductKind
from domain.transit.denylist import DenyEntry, ListType
from domain.transit.issuing import credential_expiry, sign_credential, sign_deny_list, sign_paper_ticket
from domain.transit.passback import PassbackMemory
from domain.transit.qr import PassFacts
from domain.transit.trust import IssuerKey
from domain.transit.usecases.common import Deps
from domain.transit.usecases.passes import bind_proof_input
from domain.transit.validation import Gate, Policy
from tests.support.notifications import make_user

NOW = 1_790_000_000          # 2026-09-21T13:33:20Z
DAY = 86_400


class Issuer:
    def __init__(self, kid: int = 7, valid_from: int = NOW - 30 * DAY, valid_until: int = NOW + 365 * DAY) -> None:
        self.signer = P256Signer(generate(), kid=kid)
        self.key = IssuerKey(kid, self.signer.public_key, valid_from, valid_until)

    def credential(self, facts: PassFacts, device_key: bytes, issued_at: int = NOW - 3600,
                   expires_at: int | None = None) -> bytes:
        expires = expires_at if expires_at is not None else credential_expiry(issued_at, facts.valid_until)
        return sign_credential(self.signer, facts, device_key, issued_at, expires)

    def paper(self, facts: PassFacts) -> bytes:
        return sign_paper_ticket(self.signer, facts)

    def deny(self, entries: list[DenyEntry], to_seq: int, from_seq: int = 0, at: int = NOW) -> bytes:
        kind = ListType.DELTA if from_seq else ListType.SNAPSHOT
        return sign_deny_list(self.signer, kind, from_seq, to_seq, at, entries)


def monthly_facts(pass_id: uuid.UUID | None = None, *, route: int = 0, networks: Network = ALL_NETWORKS,
                  product: ProductKind = ProductKind.MONTHLY_ALL) -> PassFacts:
    return PassFacts(pass_id or uuid.uuid4(), product, 1, networks, route, NOW - 10 * DAY, NOW + 20 * DAY)


def paper_facts(ticket_id: uuid.UUID | None = None) -> PassFacts:
    return PassFacts(ticket_id or uuid.uuid4(), ProductKind.SINGLE_RIDE, 1, Network.METRO, 0, NOW - 600,
                     NOW + DAY)


def phone_with(issuer: Issuer, facts: PassFacts, issued_at: int = NOW - 3600) -> ReferencePhone:
    phone = ReferencePhone()
    phone.install(issuer.credential(facts, phone.public_key, issued_at), server_time=issued_at,
                  local_time=issued_at)
    return phone


def gate(issuer: Issuer, *, networks: Network = Network.METRO, route: int = 3, direction: Direction = Direction.IN,
         memory: PassbackMemory | None = None, policy: Policy | None = None) -> OfflineVerifier:
    return OfflineVerifier(Gate(networks, route, direction), policy, memory, keys=[issuer.key])


# -- Postgres-backed use cases -------------------------------------------------------------------------

class FixedClock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def now(self) -> datetime:
        return self.t


def pg_deps(conn: Any, clock: FixedClock, signer: P256Signer, **kw: Any) -> Deps:
    return Deps(catalog=PgCatalog(conn), citizens=PgCitizens(conn), applications=PgApplications(conn),
                cards=PgCards(conn), passes=PgPasses(conn), bindings=PgBindings(conn), keys=PgIssuerKeys(conn),
                deny=PgDenyList(conn), taps=PgTaps(conn), tickets=PgPaperTickets(conn),
                notifier=PgNotifier(conn, clock), clock=clock, signer=signer, verifier=P256Verifier(),
                renderer=QrImages(), **kw)


async def make_citizen(conn: Any, born: date | None, name: str = "Nguyễn Văn An") -> Principal:
    uid = await make_user(conn)
    await conn.execute("UPDATE users SET date_of_birth = $2, full_name = $3 WHERE id = $1", uid, born, name)
    return Principal(kind=PrincipalKind.USER, id=uid, level=2)


def validator_principal() -> Principal:
    return Principal(kind=PrincipalKind.CLIENT, id=uuid.uuid4(), client_kind=ClientKind.VALIDATOR)


ADMIN = Principal(kind=PrincipalKind.USER, id=uuid.uuid4(), level=2, city_admin=True)


def bind_proof(phone: ReferencePhone, user_id: uuid.UUID) -> bytes:
    return phone.device.sign(bind_proof_input(user_id, phone.public_key))
