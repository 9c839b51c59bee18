"""Public transit reads: passenger categories, products with today's prices, the server clock."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.params import QueryParameter

from api.platform.deps import AppContainer, UnitOfWork
from api.transit.common import deps
from api.transit.schemas import OfferOut, TransitCategoryOut, category_out, product_out
from domain.transit.usecases import catalog


class CategoryList(msgspec.Struct, kw_only=True):
    items: list[TransitCategoryOut]


class OfferList(msgspec.Struct, kw_only=True):
    items: list[OfferOut]


class TimeOut(msgspec.Struct, kw_only=True):
    server_time: datetime
    epoch: int


class PublicTransitController(Controller):
    path = "/transit"
    tags = ["transit"]

    @get("/categories", operation_id="transitCategories",
         summary="Passenger categories and their eligibility rules")
    async def categories(self, container: AppContainer, uow: UnitOfWork) -> CategoryList:
        found = await catalog.ListCategories(await deps(container, uow.conn)).execute()
        return CategoryList(items=[category_out(c) for c in found])

    @get("/offers", operation_id="transitOffers",
         summary="Products on sale with their price for one category on one date (default today)")
    async def offers(self, container: AppContainer, uow: UnitOfWork,
                     category: Annotated[str, QueryParameter(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]
                     = "standard",
                     on: Annotated[date | None, QueryParameter()] = None) -> OfferList:
        found = await catalog.ListOffers(await deps(container, uow.conn)).execute(category, on)
        return OfferList(items=[OfferOut(product=product_out(o.product), category=o.category,
                                         amount_vnd=o.price.amount_vnd, price_id=o.price.id) for o in found])

    @get("/time", operation_id="transitServerTime", summary="The server clock (phones correct their code clock by it)")
    async def time(self, container: AppContainer) -> TimeOut:
        now = container.clock.now()
        return TimeOut(server_time=now, epoch=int(now.timestamp()))
