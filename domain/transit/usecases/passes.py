"""Passes: issuing (after payment, or free), renewal dates, revocation, device binding and the
pass credential the phone turns into dynamic codes."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import msgspec

from domain.errors import Conflict, InvalidInput, NotFound
from domain.identity.principal import Principal
from domain.notifications.model import Notification
from domain.shared.ids import new_id
from domain.shared.paging import Page, Position, decode_position, page_by
from domain.transit.codes import ProductKind
from domain.transit.denylist import DenyEntry, DenyKind, device_subject
from domain.transit.issuing import credential_expiry, sign_credential
from domain.transit.model import Card, CardStatus, DeviceBinding, Pass, PassStatus, Product
from domain.transit.qr import MAX_CREDENTIAL_SECONDS, PassFacts
from domain.transit.repositories import CredentialFacts
from domain.transit.rules import end_of, epoch, hanoi_date, next_start, price_on, sixth_birthday_eve, start_of, validity
from domain.transit.usecases.cards import eligible_category
from domain.transit.usecases.common import UseCase

BIND_CONTEXT = b"TQR1-BIND"


def bind_proof_input(user_id: uuid.UUID, public_key: bytes) -> bytes:
    """What the phone signs with its new key to prove it holds it (docs/transit-qr.md §7)."""
    return BIND_CONTEXT + user_id.bytes + public_key


class PassOrder(msgspec.Struct, frozen=True, kw_only=True):
    card_id: uuid.UUID
    product_id: uuid.UUID
    start_date: date


class Quote(msgspec.Struct, frozen=True, kw_only=True):
    card: Card
    product: Product
    amount_vnd: int
    valid_from: datetime
    valid_until: datetime | None


class QuotePass(UseCase):
    """Checks an order (own active card, active product, eligibility, no overlap) and prices it.
    Purchase through payments runs this before creating the payment intent and again (inside
    ``IssuePass``) when the payment succeeded."""

    async def execute(self, principal: Principal, order: PassOrder, *, lock: bool = False) -> Quote:
        """``lock``: hold the card row until commit, so two concurrent purchases for the same card
        cannot both pass the overlap check. Everything is read in one round trip (``Orders.facts``);
        the checks run in the order a client sees their errors: card, product, date, eligibility, price,
        overlap."""
        self.require_citizen(principal)
        facts = await self.d.orders.facts(order.card_id, order.product_id, start_of(order.start_date), lock=lock)
        if facts is None or facts.card.user_id != principal.id:
            raise NotFound("transit.card_not_found")
        card = facts.card
        if card.status is not CardStatus.ACTIVE:
            raise Conflict("transit.card_blocked", field="card_id", rule="active")
        product = facts.product
        if product is None or not product.active:
            raise InvalidInput("transit.unknown_product", field="product_id", rule="unknown")
        today = hanoi_date(self.d.clock.now())
        if order.start_date < today or order.start_date > today + timedelta(days=62):
            raise InvalidInput("transit.invalid_start", field="start_date", rule="today_to_62_days")
        category = eligible_category(card.category, facts.category, facts.holder, facts.documents, order.start_date)
        first, last = validity(product.kind, order.start_date)
        if product.kind is ProductKind.FREE and not category.free:
            raise InvalidInput("transit.not_eligible", field="product_id", rule="free_category_only")
        if product.kind is ProductKind.FREE and category.max_age is not None:
            holder = facts.holder
            if holder is not None and holder.date_of_birth is not None:
                last = sixth_birthday_eve(holder.date_of_birth)  # free until the child turns six
        if product.kind is ProductKind.FREE and category.document is not None:
            docs = [a.valid_until for a in facts.documents if a.category == card.category and a.valid_until is not None]
            if docs:
                last = max(docs)
        price = price_on(facts.prices, product.id, card.category, order.start_date)
        if price is None:
            raise InvalidInput("transit.no_price", field="product_id", rule="no_price_for_category")
        valid_from, valid_until = start_of(first), end_of(last) if last else None
        # ``facts.pass_starts``: the active passes of this card and product not ended before valid_from
        # (validity() starts every pass on its order's start date); one overlaps if it starts by our end.
        if product.kind is not ProductKind.SINGLE_RIDE and any(
                valid_until is None or start <= valid_until for start in facts.pass_starts):
            raise Conflict("transit.pass_overlaps", field="start_date", rule="no_overlap")
        return Quote(card=card, product=product, amount_vnd=price.amount_vnd, valid_from=valid_from,
                     valid_until=valid_until)


class IssuePass(UseCase):
    """Creates the pass once it is paid for (``payment_ref``) or free (amount 0)."""

    async def execute(self, principal: Principal, order: PassOrder, payment_ref: str | None,
                      renewed_from: uuid.UUID | None = None) -> Pass:
        quote = await QuotePass(self.d).execute(principal, order, lock=True)
        if quote.amount_vnd > 0 and not payment_ref:
            raise InvalidInput("transit.payment_required", field="payment_ref", rule="required")
        category = await self.d.catalog.category(quote.card.category)
        assert category is not None  # checked by the quote's eligibility
        now = self.d.clock.now()
        p = Pass(id=new_id(), user_id=principal.id, card_id=quote.card.id, product_id=quote.product.id,
                 kind=quote.product.kind, networks=quote.product.networks, route=quote.product.route,
                 category=category.code, category_qr=category.qr_code, valid_from=quote.valid_from,
                 valid_until=quote.valid_until, price_vnd=quote.amount_vnd, payment_ref=payment_ref,
                 renewed_from=renewed_from, created_at=now)
        await self.d.passes.add(p)
        await self.d.notifier.notify(Notification(
            user_id=principal.id, category="transit", template="transit.pass_issued", object_type="transit_pass",
            object_id=str(p.id), params={"product": quote.product.name_vi, "card": quote.card.number,
                                         "valid_from": hanoi_date(p.valid_from).isoformat()}))
        return p


class ClaimFreePass(UseCase):
    """Free groups (60+, under 6, merit, disability, poor households) get their pass at no cost."""

    async def execute(self, principal: Principal, card_id: uuid.UUID, product_id: uuid.UUID) -> Pass:
        today = hanoi_date(self.d.clock.now())
        return await IssuePass(self.d).execute(principal, PassOrder(card_id=card_id, product_id=product_id,
                                                                    start_date=today), None)


class RenewalOrder(UseCase):
    """The order that renews a pass: same card and product, from the day after it ends."""

    async def execute(self, principal: Principal, pass_id: uuid.UUID) -> PassOrder:
        current = await self.own_pass(principal, pass_id)
        if current.status is not PassStatus.ACTIVE:
            raise Conflict("transit.pass_revoked")
        return PassOrder(card_id=current.card_id, product_id=current.product_id, start_date=next_start(current))


def _deny_until(p: Pass, now: datetime) -> int:
    """No credential outlives 72 h, so a deny entry is needed at most that long (or until the pass ends)."""
    horizon = now + timedelta(seconds=MAX_CREDENTIAL_SECONDS)
    return epoch(horizon if p.valid_until is None else min(p.valid_until, horizon))


class RevokePass(UseCase):
    """Cancellation (by the citizen, by staff, or by a refund): the pass stops at once on the
    server and, once gates sync the deny list, offline too."""

    async def execute(self, principal: Principal, pass_id: uuid.UUID, reason: str) -> Pass:
        if principal.is_user and not principal.city_admin and not principal.is_staff:
            p = await self.own_pass(principal, pass_id, for_update=True)
        else:
            self.require_staff(principal)
            found = await self.d.passes.get(pass_id, for_update=True)
            if found is None:
                raise NotFound("transit.pass_not_found")
            p = found
        if p.status is PassStatus.REVOKED:
            return p
        now = self.d.clock.now()
        revoked = msgspec.structs.replace(p, status=PassStatus.REVOKED, revoked_at=now, revoke_reason=reason)
        await self.d.passes.save(revoked)
        await self.d.deny.add([DenyEntry(DenyKind.PASS, p.id.bytes, _deny_until(p, now))])
        product = await self.d.catalog.product(p.product_id)
        await self.d.notifier.notify(Notification(
            user_id=p.user_id, category="transit", template="transit.pass_revoked", object_type="transit_pass",
            object_id=str(p.id), params={"product": product.name_vi if product else ""}, legally_required=True))
        return revoked


class ListPasses(UseCase):
    """The caller's passes, newest first (cursor paged)."""

    async def execute(self, principal: Principal, cursor: str | None = None, limit: int = 20) -> Page[Pass]:
        found = await self.d.passes.page_for(principal.id, decode_position(cursor), limit + 1)
        return page_by(found, limit, lambda p: Position(p.created_at, p.id))


class GetPass(UseCase):
    async def execute(self, principal: Principal, pass_id: uuid.UUID) -> Pass:
        return await self.own_pass(principal, pass_id)


class BindDevice(UseCase):
    """Registers the phone's P-256 key. Binding a new phone revokes the old binding and puts the
    old key on the deny list, so credentials left on the old phone stop working offline too."""

    async def execute(self, principal: Principal, public_key: bytes, proof: bytes, platform: str) -> DeviceBinding:
        self.require_citizen(principal)
        if len(public_key) != 33 or public_key[0] not in (2, 3):
            raise InvalidInput("transit.invalid_device_key", field="public_key", rule="p256_compressed")
        if not self.d.verifier.verify(public_key, proof, bind_proof_input(principal.id, public_key)):
            raise InvalidInput("transit.invalid_device_proof", field="proof", rule="signature")
        now = self.d.clock.now()
        if await self.d.deny.denied([(int(DenyKind.DEVICE), device_subject(public_key))], int(now.timestamp())):
            # A key unbound in the last 72 h is on gates' deny lists: the phone must make a new one.
            raise Conflict("transit.device_key_revoked", field="public_key", rule="not_revoked")
        current = await self.d.bindings.active(principal.id, for_update=True)
        if current is not None:
            if current.public_key == public_key:
                return current
            await self.d.bindings.revoke(current.id, now)
            await self.d.deny.add([DenyEntry(DenyKind.DEVICE, device_subject(current.public_key),
                                             epoch(now + timedelta(seconds=MAX_CREDENTIAL_SECONDS)))])
            await self.d.notifier.notify(Notification(
                user_id=principal.id, category="transit", template="transit.device_rebound", object_type="account",
                object_id=str(current.id), legally_required=True))
        binding = DeviceBinding(id=new_id(), user_id=principal.id, public_key=public_key, platform=platform,
                                bound_at=now)
        await self.d.bindings.add(binding)
        return binding


class IssuedCredential(msgspec.Struct, frozen=True, kw_only=True):
    credential: bytes
    facts: PassFacts
    kid: int
    issued_at: datetime
    expires_at: datetime
    server_time: datetime


class IssueCredential(UseCase):
    """The level-1 credential for one of the caller's passes on the bound phone (also the refresh).
    Issuing writes nothing: the pass and the phone's binding are read together (``Passes.credential_facts``)
    and the credential is signed here."""

    async def execute(self, principal: Principal, pass_id: uuid.UUID) -> IssuedCredential:
        self.require_citizen(principal)
        return self.issue(principal, await self.d.passes.credential_facts(principal.id, pass_id))

    def issue(self, principal: Principal, facts: CredentialFacts) -> IssuedCredential:
        """The rules on facts already read (by ``execute``, or by a handler whose one query also checked the
        caller's session): the caller's own pass, active, not ended, starting within 72 h, a bound phone."""
        self.require_citizen(principal)
        p = facts.pass_
        if p is None or p.user_id != principal.id:
            raise NotFound("transit.pass_not_found")
        now = self.d.clock.now()
        if p.status is not PassStatus.ACTIVE:
            raise Conflict("transit.pass_revoked")
        if p.valid_until is not None and p.valid_until <= now:
            raise Conflict("transit.pass_expired")
        if p.valid_from - now > timedelta(seconds=MAX_CREDENTIAL_SECONDS):
            raise Conflict("transit.pass_not_started", field="pass_id", rule="starts_within_72h")
        binding = facts.binding
        if binding is None or binding.user_id != principal.id or binding.revoked_at is not None:
            raise Conflict("transit.no_device", field="pass_id", rule="device_key_required")
        facts_qr = PassFacts(p.id, p.kind, p.category_qr, p.networks, p.route, epoch(p.valid_from),
                             epoch(p.valid_until))
        issued = int(now.timestamp())
        expires = credential_expiry(issued, facts_qr.valid_until, self.d.credential_lifetime_s)
        raw = sign_credential(self.d.signer, facts_qr, binding.public_key, issued, expires)
        return IssuedCredential(credential=raw, facts=facts_qr, kid=self.d.signer.kid,
                                issued_at=datetime.fromtimestamp(issued, now.tzinfo),
                                expires_at=datetime.fromtimestamp(expires, now.tzinfo), server_time=now)


class RemindExpiring(UseCase):
    """Worker job: one reminder per pass that ends within ``days`` days and is not renewed yet
    (the notification's idempotency key makes a second run a no-op)."""

    async def execute(self, days: int = 3, limit: int = 500) -> int:
        now = self.d.clock.now()
        passes = await self.d.passes.expiring(now, end_of(hanoi_date(now) + timedelta(days=days)), limit)
        for p in passes:
            product = await self.d.catalog.product(p.product_id)
            assert p.valid_until is not None
            await self.d.notifier.notify(Notification(
                user_id=p.user_id, category="transit", template="transit.pass_expiring", object_type="transit_pass",
                object_id=str(p.id), params={"product": product.name_vi if product else "",
                                             "valid_until": hanoi_date(p.valid_until).isoformat()}))
        return len(passes)
