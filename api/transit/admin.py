"""City admins manage products and dated prices (a fare change is a new price row from a date)."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, JSONBody

from api.identity.auth import CurrentUser, city_admin_guard
from api.platform.deps import AppContainer, UnitOfWork
from api.platform.idempotency import idempotent
from api.transit.common import BEARER, deps
from api.transit.schemas import (
    PriceIn,
    PriceOut,
    ProductActiveIn,
    ProductIn,
    ProductOut,
    price_out,
    product_out,
)
from domain.errors import NotFound
from domain.transit.codes import Network, ProductKind
from domain.transit.usecases import catalog


class ProductList(msgspec.Struct, kw_only=True):
    items: list[ProductOut]


class PriceList(msgspec.Struct, kw_only=True):
    items: list[PriceOut]


class AdminTransitController(Controller):
    path = "/transit/admin"
    tags = ["transit admin"]
    security = BEARER
    guards = [city_admin_guard]

    @get("/products", operation_id="transitAdminProducts", summary="All products, active or not")
    async def products(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork) -> ProductList:
        d = await deps(container, uow.conn)
        return ProductList(items=[product_out(p) for p in await d.catalog.products(active_only=False)])

    @post("/products", operation_id="transitAdminProductCreate", status_code=201, summary="Create a product")
    async def create(self, request: Request[Any, Any, Any], principal: CurrentUser, container: AppContainer,
                     uow: UnitOfWork, data: JSONBody[ProductIn]) -> Response[ProductOut]:
        new = catalog.NewProduct(code=data.code, name_vi=data.name_vi, name_en=data.name_en,
                                 kind=ProductKind.from_slug(data.kind), networks=Network(data.networks),
                                 route=data.route)

        async def run() -> Response[Any]:
            product = await catalog.CreateProduct(await deps(container, uow.conn)).execute(principal, new)
            return Response(product_out(product), status_code=201)
        return await idempotent(request, uow, f"user:{principal.id}", run)

    @patch("/products/{product_id:uuid}", operation_id="transitAdminProductActive",
           summary="Stop or resume selling a product")
    async def set_active(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                         product_id: FromPath[uuid.UUID], data: JSONBody[ProductActiveIn]) -> ProductOut:
        d = await deps(container, uow.conn)
        return product_out(await catalog.SetProductActive(d).execute(principal, product_id, data.active))

    @get("/products/{product_id:uuid}/prices", operation_id="transitAdminPrices",
         summary="Every dated price of a product")
    async def prices(self, principal: CurrentUser, container: AppContainer, uow: UnitOfWork,
                     product_id: FromPath[uuid.UUID]) -> PriceList:
        d = await deps(container, uow.conn)
        if await d.catalog.product(product_id) is None:
            raise NotFound("transit.product_not_found")
        return PriceList(items=[price_out(p) for p in await d.catalog.prices(product_id)])

    @post("/products/{product_id:uuid}/prices", operation_id="transitAdminPriceAdd", status_code=201,
          summary="Add a dated price (never edits an existing one)")
    async def add_price(self, request: Request[Any, Any, Any], principal: CurrentUser, container: AppContainer,
                        uow: UnitOfWork, product_id: FromPath[uuid.UUID],
                        data: JSONBody[PriceIn]) -> Response[PriceOut]:
        new = catalog.NewPrice(category=data.category, amount_vnd=data.amount_vnd, valid_from=data.valid_from,
                               valid_to=data.valid_to)

        async def run() -> Response[Any]:
            price = await catalog.AddPrice(await deps(container, uow.conn)).execute(principal, product_id, new)
            return Response(price_out(price), status_code=201)
        return await idempotent(request, uow, f"user:{principal.id}", run)
