"""``Orders``: what pricing a pass order reads, in one statement.

Buying a pass is a write a phone retries, and quality.md allows such a write four round trips to
PostgreSQL in all; the quote used to read the card, product, category, holder, approved documents,
prices and overlapping passes one statement each (7). Here they are one row: the card's columns, the
single rows as anonymous records and the lists as arrays of records (``o_*`` columns: the card has a
``category`` of its own), each turned back into a dict of its column names so the row mappers of
``catalog``/``cards`` build the domain objects as usual.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from adapters.postgres.transit.cards import APP_COLS, CARD_COLS, application_from_row, card_from_row
from adapters.postgres.transit.catalog import (
    CATEGORY_COLS,
    PRICE_COLS,
    PRODUCT_COLS,
    category_from_row,
    price_from_row,
    product_from_row,
)
from domain.transit.repositories import Holder, OrderFacts

Conn = Any


def _names(cols: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in cols.split(","))


def _row(cols: str, alias: str) -> str:
    return "row(" + ", ".join(f"{alias}.{c}" for c in _names(cols)) + ")"


def _as_dict(cols: str, values: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(_names(cols), values, strict=True))


_FACTS = f"""
    SELECT {", ".join(f"c.{c}" for c in _names(CARD_COLS))},
           (SELECT {_row(PRODUCT_COLS, "p")} FROM transit_products p WHERE p.id = $2) AS o_product,
           (SELECT {_row(CATEGORY_COLS, "k")} FROM transit_categories k WHERE k.code = c.category) AS o_category,
           (SELECT row(u.full_name, u.date_of_birth) FROM users u WHERE u.id = c.user_id) AS o_holder,
           ARRAY(SELECT {_row(APP_COLS, "a")} FROM transit_applications a
                 WHERE a.user_id = c.user_id AND a.status = 'approved' ORDER BY a.decided_at) AS o_documents,
           ARRAY(SELECT {_row(PRICE_COLS, "pr")} FROM transit_prices pr
                 WHERE pr.product_id = $2 ORDER BY pr.category, pr.valid_from) AS o_prices,
           ARRAY(SELECT s.valid_from FROM transit_passes s
                 WHERE s.card_id = c.id AND s.product_id = $2 AND s.status = 'active'
                   AND (s.valid_until IS NULL OR s.valid_until >= $3)) AS o_pass_starts
    FROM transit_cards c WHERE c.id = $1"""


class PgOrders:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def facts(
        self, card_id: uuid.UUID, product_id: uuid.UUID, start: datetime, *, lock: bool = False
    ) -> OrderFacts | None:
        if lock:
            # A statement of its own, before the read: a read that waited for the lock inside the same
            # statement would still see the passes as they were when it began (its snapshot), and miss
            # the pass the lock holder just committed.
            await self.conn.execute("SELECT 1 FROM transit_cards WHERE id = $1 FOR UPDATE", card_id)
        r = await self.conn.fetchrow(_FACTS, card_id, product_id, start)
        if r is None:
            return None
        product, category, holder = r["o_product"], r["o_category"], r["o_holder"]
        return OrderFacts(
            card=card_from_row(r),
            product=product_from_row(_as_dict(PRODUCT_COLS, product)) if product is not None else None,
            category=category_from_row(_as_dict(CATEGORY_COLS, category)) if category is not None else None,
            holder=Holder(holder[0], holder[1]) if holder is not None else None,
            documents=[application_from_row(_as_dict(APP_COLS, a)) for a in r["o_documents"]],
            prices=[price_from_row(_as_dict(PRICE_COLS, p)) for p in r["o_prices"]],
            pass_starts=list(r["o_pass_starts"]),
        )
