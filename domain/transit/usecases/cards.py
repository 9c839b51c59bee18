"""Concession applications (documents verified by staff) and virtual cards."""

from __future__ import annotations

import uuid
from datetime import date

import msgspec

from domain.errors import Conflict, InvalidInput, NotFound
from domain.identity.principal import Principal
from domain.notifications.model import Notification
from domain.shared.ids import new_id
from domain.shared.paging import Page, Position, decode_position, page_by
from domain.transit.model import ApplicationStatus, Card, Category, ConcessionApplication, DocumentKind
from domain.transit.repositories import Holder
from domain.transit.rules import card_number, check_eligibility, hanoi_date
from domain.transit.usecases.common import MAX_CARDS_PER_USER, UseCase


def eligible_category(code: str, category: Category | None, holder: Holder | None,
                      approved: list[ConcessionApplication], day: date) -> Category:
    """The category ``code`` if the holder belongs to it on ``day`` (``approved``: their staff-approved
    applications, oldest decision first); raises otherwise."""
    if category is None:
        raise InvalidInput("transit.unknown_category", field="category", rule="unknown")
    documents: dict[DocumentKind, date | None] = {a.document: a.valid_until for a in approved if a.category == code}
    check_eligibility(category, holder.date_of_birth if holder else None, documents, day)
    return category


class Eligibility(UseCase):
    """Whether the caller belongs to a category today; returns the category, else raises."""

    async def execute(self, user_id: uuid.UUID, category_code: str, day: date | None = None) -> Category:
        category = await self.d.catalog.category(category_code)
        if category is None:
            raise InvalidInput("transit.unknown_category", field="category", rule="unknown")
        return eligible_category(category_code, category, await self.d.citizens.holder(user_id),
                                 await self.d.applications.approved_documents(user_id),
                                 day or hanoi_date(self.d.clock.now()))


class SubmitApplication(UseCase):
    async def execute(self, principal: Principal, category_code: str, evidence_ref: str) -> ConcessionApplication:
        self.require_citizen(principal)
        category = await self.d.catalog.category(category_code)
        if category is None or not category.active:
            raise InvalidInput("transit.unknown_category", field="category", rule="unknown")
        if category.document is None:
            raise InvalidInput("transit.no_document_needed", field="category", rule="no_document")
        application = ConcessionApplication(id=new_id(), user_id=principal.id, category=category_code,
                                            document=category.document, evidence_ref=evidence_ref,
                                            created_at=self.d.clock.now())
        await self.d.applications.add(application)
        return application


class DecideApplication(UseCase):
    async def execute(self, principal: Principal, application_id: uuid.UUID, approve: bool,
                      valid_until: date | None = None, reason: str | None = None) -> ConcessionApplication:
        self.require_staff(principal)
        application = await self.d.applications.get(application_id, for_update=True)
        if application is None:
            raise NotFound("transit.application_not_found")
        if application.status is not ApplicationStatus.PENDING:
            raise Conflict("transit.application_decided")
        now = self.d.clock.now()
        if approve and valid_until is not None and valid_until < hanoi_date(now):
            raise InvalidInput("transit.invalid_decision", field="valid_until", rule="not_in_past")
        if not approve and not reason:
            raise InvalidInput("transit.invalid_decision", field="reason", rule="required_to_reject")
        decided = msgspec.structs.replace(
            application, status=ApplicationStatus.APPROVED if approve else ApplicationStatus.REJECTED,
            valid_until=valid_until if approve else None, reason=reason, decided_by=principal.id, decided_at=now)
        await self.d.applications.save(decided)
        await self.d.notifier.notify(Notification(
            user_id=application.user_id, category="transit", template="transit.concession_decided",
            object_type="account", object_id=str(application.id),
            params={"category": application.category, "decision": decided.status.value}))
        return decided


class OpenCard(UseCase):
    """A new virtual card in a category the caller is eligible for, in the e-ID holder's name."""

    async def execute(self, principal: Principal, category_code: str) -> Card:
        self.require_citizen(principal)
        await Eligibility(self.d).execute(principal.id, category_code)
        holder = await self.d.citizens.holder(principal.id)
        if holder is None:
            raise NotFound("transit.holder_not_found")
        if len(await self.d.cards.list_for(principal.id)) >= MAX_CARDS_PER_USER:
            raise Conflict("transit.too_many_cards", field="category", rule="max_cards", max=MAX_CARDS_PER_USER)
        card = Card(id=new_id(), user_id=principal.id, number=card_number(await self.d.cards.next_serial()),
                    holder_name=holder.full_name, category=category_code, created_at=self.d.clock.now())
        await self.d.cards.add(card)
        return card


class ListCards(UseCase):
    """The caller's cards, oldest first (cursor paged)."""

    async def execute(self, principal: Principal, cursor: str | None = None, limit: int = 20) -> Page[Card]:
        found = await self.d.cards.page_for(principal.id, decode_position(cursor), limit + 1)
        return page_by(found, limit, _created)


class ListApplications(UseCase):
    """The caller's concession applications, newest first (cursor paged)."""

    async def execute(self, principal: Principal, cursor: str | None = None,
                      limit: int = 20) -> Page[ConcessionApplication]:
        found = await self.d.applications.page_for(principal.id, decode_position(cursor), limit + 1)
        return page_by(found, limit, _created)


def _created(row: Card | ConcessionApplication) -> Position:
    return Position(row.created_at, row.id)
