"""What validators (gates, bus readers) get from and give to the server: issuer keys, the signed
deny list, tap uploads, online validation; plus the citizen's trip history and paper tickets."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import msgspec

from domain.errors import InvalidInput
from domain.identity.principal import Principal
from domain.shared.ids import new_id
from domain.shared.paging import Page, Position, decode_position, page_by
from domain.transit.codes import Direction, Network, ProductKind, Rejection
from domain.transit.denylist import DenyEntry, DenyKind, DenySet, ListType
from domain.transit.issuing import sign_deny_list, sign_paper_ticket
from domain.transit.model import Medium, PaperTicket, Tap, Trip
from domain.transit.passback import PassbackMemory
from domain.transit.qr import KIND_DYNAMIC, MalformedCode, PassFacts, peek_kind
from domain.transit.repositories import LIVE_STATES, LiveState
from domain.transit.rules import build_trips, end_of, epoch, hanoi_date, price_on
from domain.transit.trust import IssuerKey, TrustStore
from domain.transit.usecases.common import MAX_TAP_BATCH, Deps, UseCase
from domain.transit.validation import CodeValidator, Gate, Verdict, VerifiedCredentials


class PublishedKeys(UseCase):
    async def execute(self) -> list[IssuerKey]:
        return await self.d.keys.published()


class DenyListDocument(msgspec.Struct, frozen=True):
    document: bytes
    list_type: ListType
    from_seq: int
    to_seq: int
    count: int


class BuildDenyList(UseCase):
    """``since=None``: a snapshot; ``since=N``: the delta after N (what a gate at N applies)."""

    async def execute(self, principal: Principal, since: int | None) -> DenyListDocument:
        self.require_validator(principal)
        now = self.d.clock.now()
        at = int(now.timestamp())
        current = await self.d.deny.current_seq()
        if since is not None and not 0 <= since <= current:
            raise InvalidInput("transit.invalid_since", field="since", rule="range", max=current)
        from_seq = since or 0
        entries = await self.d.deny.since(from_seq, at)
        kind = ListType.SNAPSHOT if since is None or since == 0 else ListType.DELTA
        raw = sign_deny_list(self.d.signer, kind, 0 if kind is ListType.SNAPSHOT else from_seq, current, at, entries)
        return DenyListDocument(raw, kind, from_seq, current, len(entries))


class TapIn(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    medium: Medium
    subject_id: uuid.UUID
    direction: Direction
    network: Network
    route: int
    stop: str
    occurred_at: datetime
    code_timestamp: int | None = None
    counter: int | None = None
    accepted: bool
    reason: Rejection | None = None


class UploadTaps(UseCase):
    """A batch of taps from one validator. Idempotent by tap id (a retried upload inserts
    nothing twice); late and out-of-order taps are stored as they come (trips sort them). A paper
    ticket's accepted entry puts the ticket on the deny list, so other stations refuse it."""

    async def execute(self, principal: Principal, taps: list[TapIn]) -> tuple[int, int]:
        self.require_validator(principal)
        if not 0 < len(taps) <= MAX_TAP_BATCH:
            raise InvalidInput("transit.invalid_batch", field="taps", rule="size", max=MAX_TAP_BATCH)
        now = self.d.clock.now()
        for i, t in enumerate(taps):
            if t.occurred_at > now + timedelta(minutes=5):
                raise InvalidInput("transit.invalid_tap", field=f"taps[{i}].occurred_at", rule="not_in_future")
            if t.accepted == (t.reason is not None):
                raise InvalidInput("transit.invalid_tap", field=f"taps[{i}].reason",
                                   rule="reason_iff_rejected")
        rows = [Tap(id=t.id, validator_id=principal.id, medium=t.medium, subject_id=t.subject_id,
                    direction=t.direction, network=t.network, route=t.route, stop=t.stop, occurred_at=t.occurred_at,
                    code_timestamp=t.code_timestamp, counter=t.counter, accepted=t.accepted,
                    reason=t.reason.value if t.reason else None) for t in taps]
        inserted = await self.d.taps.add_batch(rows)
        entered = [t for t in taps if t.accepted and t.medium is Medium.PAPER and t.direction is Direction.IN]
        if entered:
            entries = []
            for t in entered:
                ticket = await self.d.tickets.get(t.subject_id)
                if ticket is not None:
                    entries.append(DenyEntry(DenyKind.TICKET_ENTERED, ticket.id.bytes, epoch(ticket.valid_until)))
            if entries:
                await self.d.deny.add(entries)
        return len(taps), inserted


class ValidateOnline(UseCase):
    """The fallback for a gate that cannot decide offline (no fresh deny list, memory lost): the
    same checks as the reference verifier, with the server's live state in place of the gate's
    copies — deny list rows, and earlier taps for replay and anti-passback. An accepted tap is
    recorded as if it had been uploaded."""

    def __init__(self, deps: Deps, trust: TrustStore | None = None,
                 credentials: VerifiedCredentials | None = None) -> None:
        """``trust``: the process's published keys (else read per call); ``credentials``: the process's
        memory of credentials whose issuer signature verified (else none: both signatures per code)."""
        super().__init__(deps)
        self._trust = trust
        self._credentials = credentials

    @staticmethod
    def needs_transaction(code: bytes) -> bool:
        """Whether validating ``code`` may change more than one row. A paper ticket's accepted entry writes
        its tap and a deny-list entry (both or neither); a dynamic code writes its tap alone, one
        statement, so it needs no BEGIN/COMMIT around it (two round trips on a gate's hot path)."""
        try:
            return peek_kind(code) != KIND_DYNAMIC
        except MalformedCode:
            return False  # refused before anything is written

    async def execute(self, principal: Principal, code: bytes, gate: Gate, stop: str, tap_id: uuid.UUID) -> Verdict:
        self.require_validator(principal)
        now = self.d.clock.now()
        at = int(now.timestamp())
        trust = self._trust or TrustStore(await self.d.keys.published())
        # Signatures, key windows, clocks and scope; replay and deny checks follow on live data.
        verdict = CodeValidator(trust, DenySet(), PassbackMemory(window_s=0), self.d.verifier, gate,
                                self.d.policy, self._credentials).validate(code, at)
        facts = verdict.facts
        if facts is None:
            return verdict

        def tap(v: Verdict) -> Tap:
            return Tap(id=tap_id, validator_id=principal.id, medium=Medium.PASS if v.kind == "pass" else Medium.PAPER,
                       subject_id=facts.pass_id, direction=gate.direction, network=gate.networks, route=gate.route,
                       stop=stop, occurred_at=now, code_timestamp=v.timestamp, counter=v.counter,
                       accepted=v.accepted, reason=v.reason.value if v.reason else None)
        if verdict.accepted and verdict.kind == "pass":
            # The live checks and the tap in one statement: the tap's verdict is looked up in the table of
            # ``_live_verdict`` over every live state, so the rule (and its precedence) stays here.
            device = verdict.device_subject
            assert device is not None
            entry_since = now - timedelta(seconds=self.d.policy.passback_s) if gate.direction is Direction.IN else None
            live, _ = await self.d.taps.add_checked(
                tap(verdict), [(int(DenyKind.PASS), facts.pass_id.bytes), (int(DenyKind.DEVICE), device)], at,
                entry_since, LIVE_REASONS)
            refusal = _live_verdict(live)
            return verdict if refusal is None else _refuse(verdict, refusal)
        if verdict.accepted:
            verdict = await self._live_checks(verdict, facts, gate, now, at)
        await self.d.taps.add_batch([tap(verdict)])
        if verdict.accepted and verdict.kind == "paper" and gate.direction is Direction.IN:
            await self.d.deny.add([DenyEntry(DenyKind.TICKET_ENTERED, facts.pass_id.bytes, facts.valid_until)])
        return verdict

    async def _live_checks(self, verdict: Verdict, facts: PassFacts, gate: Gate, now: datetime,
                           at: int) -> Verdict:
        """A paper ticket's checks (a dynamic code's are ``_live_verdict``, in its tap's statement)."""
        subject = facts.pass_id.bytes
        if await self.d.deny.denied([(int(DenyKind.PASS), subject)], at):
            return _refuse(verdict, Rejection.DENIED)
        if gate.direction is Direction.IN and await self.d.deny.denied([(int(DenyKind.TICKET_ENTERED), subject)], at):
            return _refuse(verdict, Rejection.TICKET_USED)
        return verdict


def _live_verdict(live: LiveState) -> Rejection | None:
    """A dynamic code that passed its offline checks, against the server's live state (first match wins)."""
    if live.denied:
        return Rejection.DENIED
    if live.code_seen:
        return Rejection.REPLAY
    if live.last_direction is Direction.IN:
        return Rejection.PASSBACK
    return None


# ``_live_verdict`` of every live state, as stored with the tap (``Taps.add_checked``): None = accepted.
LIVE_REASONS = tuple(r.value if (r := _live_verdict(s)) else None for s in LIVE_STATES)


def _refuse(verdict: Verdict, reason: Rejection) -> Verdict:
    return msgspec.structs.replace(verdict, accepted=False, reason=reason)


class TripHistory(UseCase):
    """The caller's trips of the last ``days`` days, newest first, from the taps of their passes
    (cursor paged). Trips are pairs of taps built in memory (uploads arrive late and out of order), so a
    page is cut from the window's trips: the cursor is the last trip's (boarded_at, pass_id), which is
    unique because one pass cannot board twice at the same instant."""

    async def execute(self, principal: Principal, days: int = 30, cursor: str | None = None,
                      limit: int = 20) -> Page[Trip]:
        self.require_citizen(principal)
        if not 1 <= days <= 92:
            raise InvalidInput("transit.invalid_days", field="days", rule="range")
        after = decode_position(cursor)
        passes = await self.d.passes.list_for(principal.id)
        if not passes:
            return Page(items=[])
        since = self.d.clock.now() - timedelta(days=days)
        trips = sorted(build_trips(await self.d.taps.for_passes([p.id for p in passes], since)),
                       key=_trip_position, reverse=True)
        if after is not None:
            trips = [t for t in trips if _trip_position(t) < after]
        return page_by(trips[:limit + 1], limit, _trip_position)


def _trip_position(trip: Trip) -> Position:
    return Position(trip.boarded_at, trip.pass_id)


class SoldTicket(msgspec.Struct, frozen=True, kw_only=True):
    ticket: PaperTicket
    data: bytes
    png: bytes
    svg: str


class SellPaperTicket(UseCase):
    """A counter sells a single-entry paper ticket for today (riders without a smartphone)."""

    async def execute(self, principal: Principal, product_id: uuid.UUID, category: str = "standard") -> SoldTicket:
        self.require_staff(principal)
        if self.d.renderer is None:
            raise RuntimeError("no QR renderer configured")
        product = await self.d.catalog.product(product_id)
        if product is None or not product.active or product.kind is not ProductKind.SINGLE_RIDE:
            raise InvalidInput("transit.unknown_product", field="product_id", rule="single_ride_only")
        cat = await self.d.catalog.category(category)
        if cat is None:
            raise InvalidInput("transit.unknown_category", field="category", rule="unknown")
        now = self.d.clock.now()
        today = hanoi_date(now)
        price = price_on(await self.d.catalog.prices(product.id), product.id, category, today)
        if price is None:
            raise InvalidInput("transit.no_price", field="product_id", rule="no_price_for_category")
        ticket = PaperTicket(id=new_id(), product_id=product.id, category=category, price_vnd=price.amount_vnd,
                             sold_by=principal.id, valid_from=now, valid_until=end_of(today), created_at=now)
        facts = PassFacts(ticket.id, product.kind, cat.qr_code, product.networks, product.route,
                          epoch(ticket.valid_from), epoch(ticket.valid_until))
        data = sign_paper_ticket(self.d.signer, facts)
        await self.d.tickets.add(ticket)
        return SoldTicket(ticket=ticket, data=data, png=self.d.renderer.png(data), svg=self.d.renderer.svg(data))
