"""Transit API test helpers: a citizen with a card, a paid pass (settled through the payments
domain with the handlers the contexts declare), a bound reference phone, a validator client."""

from __future__ import annotations

import asyncio
import base64
import io
import uuid
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import httpx
import zxingcpp
from PIL import Image

from adapters.postgres.payments import PgPaymentsTransactions
from adapters.postgres.pool import create_pool
from adapters.postgres.transit.seed import product_id
from adapters.transit_crypto.mobile import ReferencePhone
from api.payments.wiring import handler_factories
from api.platform.registry import CONTEXTS
from domain.payments.model import Refund, RefundStatus
from domain.payments.settlement import settle_succeeded
from domain.transit.rules import hanoi_date
from domain.transit.usecases.passes import bind_proof_input
from tests.support.auth import Session

MONTHLY_ALL = product_id("monthly-all")
METRO_DAY = product_id("metro-day")
BUS_34 = product_id("bus-monthly-34")
METRO_SINGLE = product_id("metro-single")
QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def today() -> str:
    return hanoi_date(datetime.now(UTC)).isoformat()


def open_card(http: httpx.Client, citizen: Session, category: str = "standard") -> dict[str, Any]:
    r = http.post("/api/v1/transit/cards", json={"category": category}, headers=citizen.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def first_of_next_month() -> date:
    d = hanoi_date(datetime.now(UTC))
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


class ShiftedClock:
    """The app's clock moved to a later instant (a monthly pass starts on the 1st)."""

    def __init__(self, at: datetime) -> None:
        self.offset = at - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def buy(http: httpx.Client, citizen: Session, card_id: str, product: uuid.UUID = METRO_DAY,
        key: str | None = None, start: date | None = None) -> httpx.Response:
    headers = {**citizen.headers, **({"Idempotency-Key": key} if key else {})}
    return http.post("/api/v1/transit/purchases", headers=headers,
                     json={"card_id": card_id, "product_id": str(product),
                           "start_date": (start.isoformat() if start else today())})


def settle(database_url: str, intent_id: str) -> None:
    """The bank reported the payment: what the payments context's webhook does, with every
    context's declared payment handlers."""
    factories = handler_factories(CONTEXTS)

    async def go() -> None:
        pool: asyncpg.Pool[Any] = await create_pool(database_url, max_size=1)
        try:
            async with PgPaymentsTransactions(pool, factories)() as store:
                intent = await store.intents.get(uuid.UUID(intent_id), for_update=True)
                assert intent is not None
                await settle_succeeded(store, intent, datetime.now(UTC), amount=intent.amount, currency="VND",
                                       provider_ref="FT" + uuid.uuid4().hex[:10].upper(), instrument=None)
        finally:
            await pool.close()
    asyncio.run(go())


def paid_pass(http: httpx.Client, database_url: str, citizen: Session) -> str:
    card = open_card(http, citizen)
    r = buy(http, citizen, card["id"])
    assert r.status_code == 201, r.text
    settle(database_url, r.json()["payment_intent_id"])
    passes = http.get("/api/v1/transit/passes", headers=citizen.headers).json()["items"]
    assert len(passes) == 1
    return str(passes[0]["id"])


def bind_phone(http: httpx.Client, citizen: Session, phone: ReferencePhone | None = None) -> ReferencePhone:
    phone = phone or ReferencePhone()
    proof = phone.device.sign(bind_proof_input(citizen.user_id, phone.public_key))
    r = http.put("/api/v1/transit/device", headers=citizen.headers,
                 json={"public_key": b64u(phone.public_key), "proof": b64u(proof), "platform": "android"})
    assert r.status_code == 200, r.text
    return phone


def install_credential(http: httpx.Client, citizen: Session, pass_id: str, phone: ReferencePhone) -> dict[str, Any]:
    r = http.post(f"/api/v1/transit/passes/{pass_id}/credential", headers=citizen.headers)
    assert r.status_code == 200, r.text
    body = dict(r.json())
    phone.install(unb64u(body["credential"]), server_time=body["server_time_epoch"],
                  local_time=int(datetime.now(UTC).timestamp()))
    return body


def decode_png(png: bytes) -> bytes:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    results = zxingcpp.read_barcodes(image, formats=QR_ONLY)
    assert len(results) == 1
    return bytes(results[0].bytes)


def refund(database_url: str, intent_id: str) -> None:
    """The bank confirmed a full refund: the payments transaction calls the pass's handler."""
    factories = handler_factories(CONTEXTS)

    async def go() -> None:
        pool: asyncpg.Pool[Any] = await create_pool(database_url, max_size=1)
        try:
            async with PgPaymentsTransactions(pool, factories)() as store:
                intent = await store.intents.get(uuid.UUID(intent_id), for_update=True)
                assert intent is not None
                handler = store.handlers.for_purpose(intent.purpose)
                assert handler is not None
                now = datetime.now(UTC)
                await handler.on_refunded(intent, Refund(
                    id=uuid.uuid4(), intent_id=intent.id, key="test", amount=intent.amount, reason="rider asked",
                    status=RefundStatus.SUCCEEDED, requested_by=None, created_at=now, updated_at=now), full=True)
        finally:
            await pool.close()
    asyncio.run(go())
