"""Storage ports of the transit context (Postgres adapters in ``adapters/postgres/transit``,
in-memory fakes in ``tests/support/transit_fakes.py``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Protocol

import msgspec

from domain.shared.paging import Position
from domain.transit.codes import Direction
from domain.transit.denylist import DenyEntry
from domain.transit.model import (
    Card,
    Category,
    ConcessionApplication,
    DeviceBinding,
    PaperTicket,
    Pass,
    Price,
    Product,
    Tap,
)
from domain.transit.trust import IssuerKey


class Holder(msgspec.Struct, frozen=True):
    """What transit needs of a citizen's e-ID profile."""

    full_name: str
    date_of_birth: date | None


class Citizens(Protocol):
    async def holder(self, user_id: uuid.UUID) -> Holder | None: ...


class Catalog(Protocol):
    async def product(self, product_id: uuid.UUID) -> Product | None: ...

    async def products(self, *, active_only: bool) -> list[Product]: ...

    async def add_product(self, product: Product) -> None: ...

    async def save_product(self, product: Product) -> None: ...

    async def code_taken(self, code: str) -> bool: ...

    async def prices(self, product_id: uuid.UUID, *, lock: bool = False) -> list[Price]:
        """``lock``: first lock the product row, so two admins cannot add overlapping prices."""
        ...

    async def add_price(self, price: Price) -> None: ...

    async def category(self, code: str) -> Category | None: ...

    async def categories(self) -> list[Category]: ...


class Applications(Protocol):
    async def add(self, application: ConcessionApplication) -> None: ...

    async def get(self, application_id: uuid.UUID, *, for_update: bool = False) -> ConcessionApplication | None: ...

    async def save(self, application: ConcessionApplication) -> None: ...

    async def approved_documents(self, user_id: uuid.UUID) -> list[ConcessionApplication]: ...

    async def list_for(self, user_id: uuid.UUID) -> list[ConcessionApplication]: ...

    async def page_for(self, user_id: uuid.UUID, after: Position | None, limit: int) -> list[ConcessionApplication]:
        """The user's applications newest first, strictly past ``after``, at most ``limit``."""
        ...

    async def pending(self, limit: int) -> list[ConcessionApplication]:
        """Applications waiting for staff, oldest first."""
        ...


class Cards(Protocol):
    async def next_serial(self) -> int: ...

    async def add(self, card: Card) -> None: ...

    async def get(self, card_id: uuid.UUID, *, for_update: bool = False) -> Card | None: ...

    async def list_for(self, user_id: uuid.UUID) -> list[Card]: ...

    async def page_for(self, user_id: uuid.UUID, after: Position | None, limit: int) -> list[Card]:
        """The user's cards oldest first (the first card stays on top), strictly past ``after``."""
        ...


class CredentialFacts(msgspec.Struct, frozen=True, kw_only=True):
    """Everything issuing a pass credential reads, fetched together (one round trip)."""

    pass_: Pass | None                 # None: no such pass, or it is not the user's
    binding: DeviceBinding | None      # the user's active device binding (None: no phone bound)


class Passes(Protocol):
    async def add(self, pass_: Pass) -> None: ...

    async def get(self, pass_id: uuid.UUID, *, for_update: bool = False) -> Pass | None: ...

    async def save(self, pass_: Pass) -> None: ...

    async def list_for(self, user_id: uuid.UUID) -> list[Pass]: ...

    async def page_for(self, user_id: uuid.UUID, after: Position | None, limit: int) -> list[Pass]:
        """The user's passes newest first, strictly past ``after``, at most ``limit``."""
        ...

    async def by_payment_ref(self, payment_ref: str, *, for_update: bool = False) -> Pass | None:
        """The pass a payment bought (``payment_ref`` is unique)."""
        ...

    async def expiring(self, start: datetime, end: datetime, limit: int) -> list[Pass]:
        """Active passes ending within [start, end] that no later pass renews."""
        ...

    async def credential_facts(self, user_id: uuid.UUID, pass_id: uuid.UUID) -> CredentialFacts:
        """The user's pass ``pass_id`` and the user's active device binding, in one read."""
        ...


class OrderFacts(msgspec.Struct, frozen=True, kw_only=True):
    """Everything pricing an order of ``product`` on ``card`` reads, fetched together (buying a pass
    is a write a phone retries: quality.md allows it four round trips in all)."""

    card: Card
    product: Product | None                    # None: no such product
    category: Category | None                  # the card's passenger category (None: unknown code)
    holder: Holder | None                      # the card owner's e-ID profile
    documents: list[ConcessionApplication]     # the owner's approved applications, oldest decision first
    prices: list[Price]                        # the product's prices, by category then valid_from
    # ``valid_from`` of the card's active passes of the product that end at or after the order's start
    # (or never end): the overlap check decides with the order's own end.
    pass_starts: list[datetime]


class Orders(Protocol):
    async def facts(self, card_id: uuid.UUID, product_id: uuid.UUID, start: datetime, *,
                    lock: bool = False) -> OrderFacts | None:
        """The facts of an order starting at ``start`` in one read; None: no such card. ``lock``:
        hold the card row until commit (two purchases for one card cannot both pass the overlap check)."""
        ...


class Bindings(Protocol):
    async def active(self, user_id: uuid.UUID, *, for_update: bool = False) -> DeviceBinding | None: ...

    async def add(self, binding: DeviceBinding) -> None: ...

    async def revoke(self, binding_id: uuid.UUID, at: datetime) -> None: ...


class IssuerKeys(Protocol):
    async def published(self) -> list[IssuerKey]: ...

    async def add(self, key: IssuerKey) -> None: ...


class DenyList(Protocol):
    async def add(self, entries: list[DenyEntry]) -> None:
        """Append entries, each getting the next sequence number. An entry already on the list
        (same kind and subject) takes the later ``drop_after`` and a new number, so gates that
        already hold it receive the extension with their next delta."""
        ...

    async def current_seq(self) -> int: ...

    async def since(self, seq: int, now: int) -> list[DenyEntry]:
        """Live entries (``drop_after >= now``) with a sequence number above ``seq``."""
        ...

    async def denied(self, subjects: list[tuple[int, bytes]], now: int) -> bool: ...


class TapBatchResult(msgspec.Struct, frozen=True):
    received: int
    inserted: int


class LiveState(msgspec.Struct, frozen=True):
    denied: bool
    code_seen: bool
    last_direction: Direction | None = None

    def index(self) -> int:
        """This state's place among all of them (``LIVE_STATES``): a store that reads the state and writes
        the tap in one statement looks its verdict up in a table made by the domain (``Taps.add_checked``)."""
        return (self.denied * 2 + self.code_seen) * 3 + _LAST.index(self.last_direction)


_LAST: tuple[Direction | None, ...] = (None, Direction.IN, Direction.OUT)
# Every live state, in ``LiveState.index`` order: (denied, code seen, last direction none / in / out).
LIVE_STATES = tuple(LiveState(denied=d, code_seen=c, last_direction=last)
                    for d in (False, True) for c in (False, True) for last in _LAST)


class Taps(Protocol):
    async def add_batch(self, taps: list[Tap]) -> int:
        """Insert taps, skipping ids already stored; returns how many were new."""
        ...

    async def for_passes(self, pass_ids: list[uuid.UUID], since: datetime) -> list[Tap]: ...

    async def add_checked(self, tap: Tap, deny: list[tuple[int, bytes]], now: int, entry_since: datetime | None,
                          reasons: tuple[str | None, ...]) -> tuple[LiveState, bool]:
        """What online validation needs of the server's live state for ``tap`` (its subject, code timestamp
        and counter), read together with the tap's insert in one round trip (online validation's hot path):
        whether any of ``deny`` (kind, subject) is on the deny list at ``now``, whether this code (timestamp,
        counter) of the subject was accepted before, and the direction of the subject's latest accepted tap
        after ``entry_since`` (None: not asked). The tap is stored with the reason the domain gives
        for the state read, ``reasons[state.index()]`` (``None``: accepted), whatever ``tap.accepted``
        and ``tap.reason`` say. Returns the state read and whether the tap was new (ids are stored once)."""
        ...


class PaperTickets(Protocol):
    async def add(self, ticket: PaperTicket) -> None: ...

    async def get(self, ticket_id: uuid.UUID) -> PaperTicket | None: ...
