"""Products, dated prices and passenger categories (admin-managed data)."""

from __future__ import annotations

import re
import uuid
from datetime import date

import msgspec

from domain.errors import Conflict, InvalidInput, NotFound
from domain.identity.principal import Principal
from domain.shared.ids import new_id
from domain.transit.codes import ALL_ROUTES, Network, ProductKind
from domain.transit.model import Category, Price, Product
from domain.transit.rules import check_new_price, hanoi_date, price_on
from domain.transit.usecases.common import UseCase

_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")


class NewProduct(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name_vi: str
    name_en: str
    kind: ProductKind
    networks: Network
    route: int = ALL_ROUTES


class NewPrice(msgspec.Struct, frozen=True, kw_only=True):
    category: str
    amount_vnd: int
    valid_from: date
    valid_to: date | None = None


class Offer(msgspec.Struct, frozen=True, kw_only=True):
    product: Product
    category: str
    price: Price


def _check_product(p: NewProduct) -> None:
    if not _CODE.match(p.code):
        raise InvalidInput("transit.invalid_product", field="code", rule="pattern")
    if p.kind is ProductKind.MONTHLY_ROUTE and p.route == ALL_ROUTES:
        raise InvalidInput("transit.invalid_product", field="route", rule="required_for_one_route")
    if p.kind is not ProductKind.MONTHLY_ROUTE and p.route != ALL_ROUTES:
        raise InvalidInput("transit.invalid_product", field="route", rule="only_for_one_route")
    if not 0 <= p.route <= 0xFFFF:
        raise InvalidInput("transit.invalid_product", field="route", rule="range")


class CreateProduct(UseCase):
    async def execute(self, principal: Principal, new: NewProduct) -> Product:
        self.require_admin(principal)
        _check_product(new)
        if await self.d.catalog.code_taken(new.code):
            raise Conflict("transit.product_code_taken", field="code", rule="unique")
        product = Product(id=new_id(), code=new.code, name_vi=new.name_vi, name_en=new.name_en, kind=new.kind,
                          networks=new.networks, route=new.route)
        await self.d.catalog.add_product(product)
        return product


class SetProductActive(UseCase):
    async def execute(self, principal: Principal, product_id: uuid.UUID, active: bool) -> Product:
        self.require_admin(principal)
        product = await self.d.catalog.product(product_id)
        if product is None:
            raise NotFound("transit.product_not_found")
        product = msgspec.structs.replace(product, active=active)
        await self.d.catalog.save_product(product)
        return product


class AddPrice(UseCase):
    """Prices are never edited: a fare change is a new row from a date; a row still open-ended
    must be closed (``valid_to``) by its own new price first, so history stays readable."""

    async def execute(self, principal: Principal, product_id: uuid.UUID, new: NewPrice) -> Price:
        self.require_admin(principal)
        if await self.d.catalog.product(product_id) is None:
            raise NotFound("transit.product_not_found")
        category = await self.d.catalog.category(new.category)
        if category is None:
            raise InvalidInput("transit.unknown_category", field="category", rule="unknown")
        if category.free and new.amount_vnd != 0:
            raise InvalidInput("transit.invalid_price", field="amount_vnd", rule="free_category")
        price = Price(id=new_id(), product_id=product_id, category=new.category, amount_vnd=new.amount_vnd,
                      valid_from=new.valid_from, valid_to=new.valid_to)
        check_new_price(await self.d.catalog.prices(product_id, lock=True), price)
        await self.d.catalog.add_price(price)
        return price


class ListOffers(UseCase):
    """Active products with their price for one category on one business date (default today)."""

    async def execute(self, category: str, day: date | None = None) -> list[Offer]:
        if await self.d.catalog.category(category) is None:
            raise InvalidInput("transit.unknown_category", field="category", rule="unknown")
        on = day or hanoi_date(self.d.clock.now())
        offers = []
        for product in await self.d.catalog.products(active_only=True):
            price = price_on(await self.d.catalog.prices(product.id), product.id, category, on)
            if price is not None:
                offers.append(Offer(product=product, category=category, price=price))
        return offers


class ListCategories(UseCase):
    async def execute(self) -> list[Category]:
        return [c for c in await self.d.catalog.categories() if c.active]
