"""What transit use cases share: their ports, limits, and the authorisation helpers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from domain.errors import Forbidden, NotFound
from domain.identity.principal import ClientKind, Principal, PrincipalKind
from domain.notifications.ports import Notifier
from domain.shared.time import Clock
from domain.transit import notifications as _templates  # noqa: F401  (registers the texts)
from domain.transit.model import Card, Pass
from domain.transit.ports import IssuerSigner, QrRenderer, SignatureVerifier
from domain.transit.repositories import (
    Applications,
    Bindings,
    Cards,
    Catalog,
    Citizens,
    DenyList,
    IssuerKeys,
    Orders,
    PaperTickets,
    Passes,
    Taps,
)
from domain.transit.validation import Policy

MAX_CARDS_PER_USER = 10
MAX_TAP_BATCH = 1000


@dataclass(frozen=True)
class Deps:
    catalog: Catalog
    citizens: Citizens
    applications: Applications
    cards: Cards
    passes: Passes
    bindings: Bindings
    keys: IssuerKeys
    deny: DenyList
    taps: Taps
    tickets: PaperTickets
    orders: Orders
    notifier: Notifier
    clock: Clock
    signer: IssuerSigner
    verifier: SignatureVerifier
    renderer: QrRenderer | None = None
    policy: Policy = field(default_factory=Policy)
    # Staff of this unit (the city's Department of Transport) review concessions and sell paper tickets.
    transit_unit_id: uuid.UUID | None = None
    credential_lifetime_s: int = 72 * 3600


class UseCase:
    def __init__(self, deps: Deps) -> None:
        self.d = deps

    def require_staff(self, principal: Principal) -> None:
        if principal.city_admin:
            return
        unit = self.d.transit_unit_id
        if unit is None or not principal.has_role(unit):
            raise Forbidden("transit.staff_only")

    def require_admin(self, principal: Principal) -> None:
        if not principal.city_admin:
            raise Forbidden("transit.admin_only")

    @staticmethod
    def require_citizen(principal: Principal) -> None:
        if not principal.is_user:
            raise Forbidden("transit.citizens_only")

    @staticmethod
    def require_validator(principal: Principal) -> None:
        if principal.kind is not PrincipalKind.CLIENT or principal.client_kind is not ClientKind.VALIDATOR:
            raise Forbidden("transit.validators_only")

    async def own_card(self, principal: Principal, card_id: uuid.UUID, *, for_update: bool = False) -> Card:
        card = await self.d.cards.get(card_id, for_update=for_update)
        if card is None or card.user_id != principal.id:
            raise NotFound("transit.card_not_found")
        return card

    async def own_pass(self, principal: Principal, pass_id: uuid.UUID, *, for_update: bool = False) -> Pass:
        p = await self.d.passes.get(pass_id, for_update=for_update)
        if p is None or p.user_id != principal.id:
            raise NotFound("transit.pass_not_found")
        return p
