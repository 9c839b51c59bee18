"""Transit reference data: Hanoi's passenger categories, and demo products with 2026 fares.

Idempotent (``ON CONFLICT DO NOTHING``), so ``thudo seed`` and every test run may call it.
Fares follow Hanoi's published bus and metro fares (VND); admins change them through dated prices.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

# code, qr_code, name_vi, name_en, free, min_age, max_age, document
CATEGORIES: list[tuple[str, int, str, str, bool, int | None, int | None, str | None]] = [
    ("standard", 1, "Phổ thông", "Standard", False, None, None, None),
    ("student", 2, "Học sinh, sinh viên", "Student", False, None, None, "student_card"),
    ("worker", 3, "Công nhân khu công nghiệp", "Industrial-park worker", False, None, None,
     "industrial_park_worker_card"),
    ("elderly", 4, "Người từ đủ 60 tuổi", "Aged 60 and over", True, 60, None, None),
    ("child", 5, "Trẻ em dưới 6 tuổi", "Child under 6", True, None, 6, None),
    ("merit", 6, "Người có công với cách mạng", "Person with revolutionary merit", True, None, None,
     "merit_certificate"),
    ("disability", 7, "Người khuyết tật", "Person with a disability", True, None, None, "disability_certificate"),
    ("poor_household", 8, "Hộ nghèo", "Poor household", True, None, None, "poor_household_certificate"),
]

FREE = ("elderly", "child", "merit", "disability", "poor_household")
_NS = uuid.UUID("6f1c1a52-8a43-4a43-9a8e-0d7c2f1e7a70")

# code, name_vi, name_en, kind, networks, route, {category: amount}
PRODUCTS: list[tuple[str, str, str, int, int, int, dict[str, int]]] = [
    ("bus-single", "Vé lượt xe buýt", "Bus single ride", 1, 1, 0, {"standard": 8_000}),
    ("metro-single", "Vé lượt đường sắt đô thị", "Metro single ride", 1, 2, 0, {"standard": 15_000}),
    ("metro-day", "Vé ngày đường sắt đô thị", "Metro day ticket", 2, 2, 0, {"standard": 40_000}),
    ("metro-week", "Vé tuần đường sắt đô thị", "Metro weekly ticket", 3, 2, 0, {"standard": 160_000}),
    ("bus-monthly-34", "Vé tháng tuyến 34", "Monthly pass, route 34", 4, 1, 34,
     {"standard": 100_000, "student": 55_000, "worker": 55_000}),
    ("monthly-all", "Vé tháng liên tuyến", "Monthly pass, all routes", 5, 3, 0,
     {"standard": 200_000, "student": 100_000, "worker": 100_000}),
    ("free-pass", "Thẻ miễn phí", "Free pass", 6, 3, 0, dict.fromkeys(FREE, 0)),
]


def product_id(code: str) -> uuid.UUID:
    return uuid.uuid5(_NS, code)


async def seed_transit(conn: Any, *, products: bool = True, fares_from: date = date(2026, 1, 1)) -> None:
    await conn.executemany(
        """INSERT INTO transit_categories (code, qr_code, name_vi, name_en, free, min_age, max_age, document)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (code) DO NOTHING""", CATEGORIES)
    if not products:
        return
    await conn.executemany(
        """INSERT INTO transit_products (id, code, name_vi, name_en, kind, networks, route)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO NOTHING""",
        [(product_id(code), code, vi, en, kind, nets, route) for code, vi, en, kind, nets, route, _ in PRODUCTS])
    await conn.executemany(
        """INSERT INTO transit_prices (id, product_id, category, amount_vnd, valid_from)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (product_id, category, valid_from) DO NOTHING""",
        [(uuid.uuid5(_NS, f"{code}:{cat}:{fares_from}"), product_id(code), cat, amount, fares_from)
         for code, _, _, _, _, _, fares in PRODUCTS for cat, amount in fares.items()])
