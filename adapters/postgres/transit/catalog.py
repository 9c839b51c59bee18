"""Categories, products and dated prices; and the e-ID profile transit reads (``Citizens``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from domain.transit.codes import Network, ProductKind
from domain.transit.model import Category, DocumentKind, Price, Product
from domain.transit.repositories import Holder

Conn = Any
Row = Mapping[str, Any]  # an asyncpg record, or a dict of a nested row (adapters/postgres/transit/orders.py)

PRODUCT_COLS = "id, code, name_vi, name_en, kind, networks, route, active"
PRICE_COLS = "id, product_id, category, amount_vnd, valid_from, valid_to"
CATEGORY_COLS = "code, qr_code, name_vi, name_en, free, min_age, max_age, document, active"


def product_from_row(r: Row) -> Product:
    return Product(id=r["id"], code=r["code"], name_vi=r["name_vi"], name_en=r["name_en"], kind=ProductKind(r["kind"]),
                   networks=Network(r["networks"]), route=r["route"], active=r["active"])


def price_from_row(r: Row) -> Price:
    return Price(id=r["id"], product_id=r["product_id"], category=r["category"], amount_vnd=r["amount_vnd"],
                 valid_from=r["valid_from"], valid_to=r["valid_to"])


def category_from_row(r: Row) -> Category:
    return Category(code=r["code"], qr_code=r["qr_code"], name_vi=r["name_vi"], name_en=r["name_en"], free=r["free"],
                    min_age=r["min_age"], max_age=r["max_age"],
                    document=DocumentKind(r["document"]) if r["document"] else None, active=r["active"])


class PgCatalog:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def product(self, product_id: uuid.UUID) -> Product | None:
        r = await self.conn.fetchrow(f"SELECT {PRODUCT_COLS} FROM transit_products WHERE id = $1", product_id)
        return product_from_row(r) if r else None

    async def products(self, *, active_only: bool) -> list[Product]:
        rows = await self.conn.fetch(
            f"SELECT {PRODUCT_COLS} FROM transit_products WHERE active OR NOT $1 ORDER BY kind, code", active_only)
        return [product_from_row(r) for r in rows]

    async def add_product(self, p: Product) -> None:
        await self.conn.execute(
            f"INSERT INTO transit_products ({PRODUCT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            p.id, p.code, p.name_vi, p.name_en, int(p.kind), int(p.networks), p.route, p.active)

    async def save_product(self, p: Product) -> None:
        await self.conn.execute(
            """UPDATE transit_products SET name_vi = $2, name_en = $3, active = $4, updated_at = now()
               WHERE id = $1""", p.id, p.name_vi, p.name_en, p.active)

    async def code_taken(self, code: str) -> bool:
        return bool(await self.conn.fetchval("SELECT EXISTS (SELECT 1 FROM transit_products WHERE code = $1)", code))

    async def prices(self, product_id: uuid.UUID, *, lock: bool = False) -> list[Price]:
        if lock:
            await self.conn.execute("SELECT 1 FROM transit_products WHERE id = $1 FOR UPDATE", product_id)
        rows = await self.conn.fetch(
            f"SELECT {PRICE_COLS} FROM transit_prices WHERE product_id = $1 ORDER BY category, valid_from", product_id)
        return [price_from_row(r) for r in rows]

    async def add_price(self, p: Price) -> None:
        await self.conn.execute(
            f"INSERT INTO transit_prices ({PRICE_COLS}) VALUES ($1, $2, $3, $4, $5, $6)",
            p.id, p.product_id, p.category, p.amount_vnd, p.valid_from, p.valid_to)

    async def category(self, code: str) -> Category | None:
        r = await self.conn.fetchrow(f"SELECT {CATEGORY_COLS} FROM transit_categories WHERE code = $1", code)
        return category_from_row(r) if r else None

    async def categories(self) -> list[Category]:
        return [category_from_row(r) for r in await self.conn.fetch(
            f"SELECT {CATEGORY_COLS} FROM transit_categories ORDER BY qr_code")]


class PgCitizens:
    """Reads the holder's name and e-ID date of birth (identity's table, read-only, via this port)."""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def holder(self, user_id: uuid.UUID) -> Holder | None:
        r = await self.conn.fetchrow("SELECT full_name, date_of_birth FROM users WHERE id = $1", user_id)
        return Holder(r["full_name"], r["date_of_birth"]) if r else None


async def unit_id_by_code(conn: Conn, code: str) -> uuid.UUID | None:
    """The handling unit whose staff run transit's counters and concession checks (shared units table)."""
    found = await conn.fetchval("SELECT id FROM units WHERE code = $1", code)
    return found if isinstance(found, uuid.UUID) else None
