"""Transit test helpers: an issuer with a P-256 key, pass facts, a phone, a gate."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import msgspec

from adapters.postgres.notifications.notifier import PgNotifier
from adapters.postgres.transit.cards import PgApplications, PgBindings, PgCards, PgPasses
from adapters.postgres.transit.catalog import PgCatalog, PgCitizens
from adapters.postgres.transit.gates import PgDenyList, PgIssuerKeys, PgPaperTickets, PgTaps
from adapters.postgres.transit.orders import PgOrders
from adapters.postgres.transit.seed import CATEGORIES
from adapters.transit_crypto.mobile import ReferencePhone
from adapters.transit_crypto.offline import OfflineVerifier
from adapters.transit_crypto.p256 import P256Signer, P256Verifier, generate
from adapters.transit_images.render import QrImages
from domain.identity.principal import ClientKind, Principal, PrincipalKind
from domain.notifications.model import Notification
from domain.shared.paging import Position
from domain.transit.codes import ALL_NETWORKS, Direction, Network, ProductKind
from domain.transit.denylist import DenyEntry, ListType
from domain.transit.issuing import credential_expiry, sign_credential, sign_deny_list, sign_paper_ticket
from domain.transit.model import (
    ApplicationStatus,
    Card,
    Category,
    ConcessionApplication,
    DeviceBinding,
    DocumentKind,
    Pass,
    PassStatus,
    Price,
    Product,
    Tap,
)
from domain.transit.model import PaperTicket as PaperTicketRow
from domain.transit.passback import PassbackMemory
from domain.transit.qr import PassFacts
from domain.transit.repositories import CredentialFacts, Holder, LiveState, OrderFacts
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
                deny=PgDenyList(conn), taps=PgTaps(conn), tickets=PgPaperTickets(conn), orders=PgOrders(conn),
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


# -- in-memory fakes of the transit ports (unit tests; kept honest by tests/integration/test_transit_contract.py) --

class FakeCitizens:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Holder] = {}

    async def holder(self, user_id: uuid.UUID) -> Holder | None:
        return self.rows.get(user_id)


class FakeCatalog:
    def __init__(self) -> None:
        self.product_rows: dict[uuid.UUID, Product] = {}
        self.price_rows: list[Price] = []
        self.category_rows: dict[str, Category] = {}

    async def product(self, product_id: uuid.UUID) -> Product | None:
        return self.product_rows.get(product_id)

    async def products(self, *, active_only: bool) -> list[Product]:
        return [p for p in self.product_rows.values() if p.active or not active_only]

    async def add_product(self, product: Product) -> None:
        self.product_rows[product.id] = product

    async def save_product(self, product: Product) -> None:
        self.product_rows[product.id] = product

    async def code_taken(self, code: str) -> bool:
        return any(p.code == code for p in self.product_rows.values())

    async def prices(self, product_id: uuid.UUID, *, lock: bool = False) -> list[Price]:
        return [p for p in self.price_rows if p.product_id == product_id]

    async def add_price(self, price: Price) -> None:
        self.price_rows.append(price)

    async def category(self, code: str) -> Category | None:
        return self.category_rows.get(code)

    async def categories(self) -> list[Category]:
        return sorted(self.category_rows.values(), key=lambda c: c.qr_code)


class FakeApplications:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, ConcessionApplication] = {}

    async def add(self, application: ConcessionApplication) -> None:
        self.rows[application.id] = application

    async def get(self, application_id: uuid.UUID, *, for_update: bool = False) -> ConcessionApplication | None:
        return self.rows.get(application_id)

    async def save(self, application: ConcessionApplication) -> None:
        self.rows[application.id] = application

    async def approved_documents(self, user_id: uuid.UUID) -> list[ConcessionApplication]:
        return [a for a in self.rows.values() if a.user_id == user_id and a.status is ApplicationStatus.APPROVED]

    async def list_for(self, user_id: uuid.UUID) -> list[ConcessionApplication]:
        return [a for a in self.rows.values() if a.user_id == user_id]

    async def page_for(self, user_id: uuid.UUID, after: Position | None, limit: int) -> list[ConcessionApplication]:
        return _keyset(await self.list_for(user_id), after, limit, newest_first=True)

    async def pending(self, limit: int) -> list[ConcessionApplication]:
        waiting = [a for a in self.rows.values() if a.status is ApplicationStatus.PENDING]
        return sorted(waiting, key=lambda a: a.created_at)[:limit]


def _keyset(rows: list[Any], after: Position | None, limit: int, *, newest_first: bool) -> list[Any]:
    """The adapters' keyset page over (created_at, id), in memory."""
    rows = sorted(rows, key=lambda r: (r.created_at, r.id), reverse=newest_first)
    if after is not None:
        rows = [r for r in rows if ((r.created_at, r.id) < after if newest_first else (r.created_at, r.id) > after)]
    return rows[:limit]


class FakeCards:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Card] = {}
        self.serial = 0

    async def next_serial(self) -> int:
        self.serial += 1
        return self.serial

    async def add(self, card: Card) -> None:
        self.rows[card.id] = card

    async def get(self, card_id: uuid.UUID, *, for_update: bool = False) -> Card | None:
        return self.rows.get(card_id)

    async def list_for(self, user_id: uuid.UUID) -> list[Card]:
        return [c for c in self.rows.values() if c.user_id == user_id]

    async def page_for(self, user_id: uuid.UUID, after: Position | None, limit: int) -> list[Card]:
        return _keyset(await self.list_for(user_id), after, limit, newest_first=False)


class FakePasses:
    def __init__(self, bindings: FakeBindings) -> None:
        self.rows: dict[uuid.UUID, Pass] = {}
        self.bindings = bindings  # credential_facts reads both, as the adapter's one statement does

    async def add(self, pass_: Pass) -> None:
        self.rows[pass_.id] = pass_

    async def get(self, pass_id: uuid.UUID, *, for_update: bool = False) -> Pass | None:
        return self.rows.get(pass_id)

    async def save(self, pass_: Pass) -> None:
        self.rows[pass_.id] = pass_

    async def list_for(self, user_id: uuid.UUID) -> list[Pass]:
        return sorted((p for p in self.rows.values() if p.user_id == user_id), key=lambda p: p.created_at,
                      reverse=True)

    async def page_for(self, user_id: uuid.UUID, after: Position | None, limit: int) -> list[Pass]:
        return _keyset(await self.list_for(user_id), after, limit, newest_first=True)

    async def by_payment_ref(self, payment_ref: str, *, for_update: bool = False) -> Pass | None:
        return next((p for p in self.rows.values() if p.payment_ref == payment_ref), None)

    async def expiring(self, start: datetime, end: datetime, limit: int) -> list[Pass]:
        renewed = {p.renewed_from for p in self.rows.values() if p.status is PassStatus.ACTIVE}
        found = [p for p in self.rows.values() if p.status is PassStatus.ACTIVE and p.valid_until is not None
                 and start <= p.valid_until <= end and p.id not in renewed]
        return sorted(found, key=lambda p: p.valid_until or start)[:limit]

    async def credential_facts(self, user_id: uuid.UUID, pass_id: uuid.UUID) -> CredentialFacts:
        found = self.rows.get(pass_id)
        return CredentialFacts(pass_=found if found is not None and found.user_id == user_id else None,
                               binding=await self.bindings.active(user_id))


class FakeOrders:
    """``Orders`` over the other fakes (the Postgres adapter reads the same in one statement)."""

    def __init__(self, catalog: FakeCatalog, citizens: FakeCitizens, applications: FakeApplications,
                 cards: FakeCards, passes: FakePasses) -> None:
        self.catalog, self.citizens, self.applications, self.cards, self.passes = (
            catalog, citizens, applications, cards, passes)

    async def facts(self, card_id: uuid.UUID, product_id: uuid.UUID, start: datetime, *,
                    lock: bool = False) -> OrderFacts | None:
        card = await self.cards.get(card_id)
        if card is None:
            return None
        return OrderFacts(
            card=card, product=await self.catalog.product(product_id),
            category=await self.catalog.category(card.category), holder=await self.citizens.holder(card.user_id),
            documents=await self.applications.approved_documents(card.user_id),
            prices=await self.catalog.prices(product_id),
            pass_starts=[p.valid_from for p in self.passes.rows.values()
                         if p.card_id == card_id and p.product_id == product_id and p.status is PassStatus.ACTIVE
                         and (p.valid_until is None or p.valid_until >= start)])


class FakeBindings:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, DeviceBinding] = {}

    async def active(self, user_id: uuid.UUID, *, for_update: bool = False) -> DeviceBinding | None:
        return next((b for b in self.rows.values() if b.user_id == user_id and b.revoked_at is None), None)

    async def add(self, binding: DeviceBinding) -> None:
        self.rows[binding.id] = binding

    async def revoke(self, binding_id: uuid.UUID, at: datetime) -> None:
        b = self.rows[binding_id]
        if b.revoked_at is None:
            self.rows[binding_id] = msgspec.structs.replace(b, revoked_at=at)


class FakeIssuerKeys:
    def __init__(self) -> None:
        self.rows: dict[int, IssuerKey] = {}

    async def published(self) -> list[IssuerKey]:
        return [self.rows[k] for k in sorted(self.rows)]

    async def add(self, key: IssuerKey) -> None:
        self.rows.setdefault(key.kid, key)


class FakeDenyList:
    def __init__(self) -> None:
        self.rows: dict[tuple[int, bytes], DenyEntry] = {}
        self.seq = 0

    async def add(self, entries: list[DenyEntry]) -> None:
        for e in entries:
            self.seq += 1
            old = self.rows.get((int(e.kind), e.subject))
            drop = max(e.drop_after, old.drop_after) if old else e.drop_after
            self.rows[(int(e.kind), e.subject)] = DenyEntry(e.kind, e.subject, drop, self.seq)

    async def current_seq(self) -> int:
        return self.seq

    async def since(self, seq: int, now: int) -> list[DenyEntry]:
        return sorted((e for e in self.rows.values() if e.seq > seq and e.drop_after >= now), key=lambda e: e.seq)

    async def denied(self, subjects: list[tuple[int, bytes]], now: int) -> bool:
        return any(s in self.rows and self.rows[s].drop_after >= now for s in subjects)


class FakeTaps:
    def __init__(self, deny: FakeDenyList) -> None:
        self.rows: dict[uuid.UUID, Tap] = {}
        self.deny = deny  # add_checked reads both, as the adapter's one statement does

    async def add_batch(self, taps: list[Tap]) -> int:
        new = [t for t in taps if t.id not in self.rows]
        for t in new:
            self.rows[t.id] = t
        return len({t.id for t in new})

    async def for_passes(self, pass_ids: list[uuid.UUID], since: datetime) -> list[Tap]:
        wanted = set(pass_ids)
        return sorted((t for t in self.rows.values() if t.subject_id in wanted and t.occurred_at >= since),
                      key=lambda t: t.occurred_at)

    async def _live_state(self, subject_id: uuid.UUID, deny: list[tuple[int, bytes]], now: int,
                          code_timestamp: int, counter: int, entry_since: datetime | None) -> LiveState:
        mine = [t for t in self.rows.values() if t.subject_id == subject_id and t.accepted]
        last = (max((t for t in mine if t.occurred_at >= entry_since), key=lambda t: t.occurred_at, default=None)
                if entry_since is not None else None)
        return LiveState(denied=await self.deny.denied(deny, now),
                         code_seen=any(t.code_timestamp == code_timestamp and t.counter == counter for t in mine),
                         last_direction=last.direction if last else None)

    async def add_checked(self, tap: Tap, deny: list[tuple[int, bytes]], now: int, entry_since: datetime | None,
                          reasons: tuple[str | None, ...]) -> tuple[LiveState, bool]:
        assert tap.code_timestamp is not None
        assert tap.counter is not None
        live = await self._live_state(tap.subject_id, deny, now, tap.code_timestamp, tap.counter, entry_since)
        reason = reasons[live.index()]
        inserted = await self.add_batch([msgspec.structs.replace(tap, accepted=reason is None, reason=reason)])
        return live, inserted == 1


class FakeTickets:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, PaperTicketRow] = {}

    async def add(self, ticket: PaperTicketRow) -> None:
        self.rows[ticket.id] = ticket

    async def get(self, ticket_id: uuid.UUID) -> PaperTicketRow | None:
        return self.rows.get(ticket_id)


class FakeNotifier:
    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def notify(self, notification: Notification) -> None:
        if all(n.key != notification.key for n in self.sent):
            self.sent.append(notification)


def fake_deps(clock: FixedClock, signer: P256Signer, **kw: Any) -> Deps:
    catalog = FakeCatalog()
    for code, qr, vi, en, free, min_age, max_age, doc in CATEGORIES:
        catalog.category_rows[code] = Category(code=code, qr_code=qr, name_vi=vi, name_en=en, free=free,
                                               min_age=min_age, max_age=max_age,
                                               document=DocumentKind(doc) if doc else None)
    deny = FakeDenyList()
    bindings = FakeBindings()
    citizens, applications, cards, passes = FakeCitizens(), FakeApplications(), FakeCards(), FakePasses(bindings)
    return Deps(catalog=catalog, citizens=citizens, applications=applications, cards=cards, passes=passes,
                bindings=bindings, keys=FakeIssuerKeys(), deny=deny, taps=FakeTaps(deny), tickets=FakeTickets(),
                orders=FakeOrders(catalog, citizens, applications, cards, passes), notifier=FakeNotifier(),
                clock=clock, signer=signer,
                verifier=P256Verifier(), renderer=QrImages(), **kw)
