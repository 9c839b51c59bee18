"""Buying through payments: the order key, activation once per payment, late payment, refunds."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from adapters.transit_crypto.p256 import P256Signer, generate
from domain.errors import Conflict, Forbidden, InvalidInput
from domain.identity.principal import Principal, PrincipalKind
from domain.transit.codes import Network, ProductKind
from domain.transit.denylist import DenyKind
from domain.transit.model import PassStatus, Price, Product
from domain.transit.repositories import Holder
from domain.transit.usecases.cards import OpenCard
from domain.transit.usecases.common import Deps
from domain.transit.usecases.passes import PassOrder
from domain.transit.usecases.purchase import (
    ActivatePaidPass,
    PlaceOrder,
    RevokeRefundedPass,
    order_key,
    parse_order_key,
)
from tests.support.transit import FakeCatalog, FakeCitizens, FakeDenyList, FakeNotifier, FixedClock, fake_deps

T0 = datetime(2026, 9, 30, 20, 0, tzinfo=UTC)   # 1 Oct 2026, 03:00 in Hanoi
MONTHLY = uuid.uuid4()
FREE = uuid.uuid4()


@pytest.fixture
def deps() -> Deps:
    d = fake_deps(FixedClock(T0), P256Signer(generate(), kid=3))
    catalog = d.catalog
    assert isinstance(catalog, FakeCatalog)
    catalog.product_rows[MONTHLY] = Product(id=MONTHLY, code="monthly-all", name_vi="Vé tháng", name_en="Monthly",
                                            kind=ProductKind.MONTHLY_ALL, networks=Network.BUS | Network.METRO)
    catalog.product_rows[FREE] = Product(id=FREE, code="free-pass", name_vi="Miễn phí", name_en="Free",
                                         kind=ProductKind.FREE, networks=Network.BUS | Network.METRO)
    catalog.price_rows.append(Price(id=uuid.uuid4(), product_id=MONTHLY, category="standard", amount_vnd=200_000,
                                    valid_from=date(2026, 1, 1)))
    catalog.price_rows.append(Price(id=uuid.uuid4(), product_id=FREE, category="elderly", amount_vnd=0,
                                    valid_from=date(2026, 1, 1)))
    return d


def citizen(deps: Deps, born: date = date(1990, 5, 6)) -> Principal:
    p = Principal(kind=PrincipalKind.USER, id=uuid.uuid4(), level=2)
    citizens = deps.citizens
    assert isinstance(citizens, FakeCitizens)
    citizens.rows[p.id] = Holder("Lê Văn Cường", born)
    return p


def test_order_key_round_trips_and_refuses_garbage() -> None:
    order = PassOrder(card_id=uuid.uuid4(), product_id=uuid.uuid4(), start_date=date(2026, 11, 1))
    assert parse_order_key(order_key(order)) == order
    for bad in ("", "a:b:c", f"{uuid.uuid4()}:{uuid.uuid4()}", f"{uuid.uuid4()}:{uuid.uuid4()}:2026-13-01"):
        with pytest.raises(InvalidInput):
            parse_order_key(bad)


async def test_place_order_prices_and_needs_level_2(deps: Deps) -> None:
    who = citizen(deps)
    card = await OpenCard(deps).execute(who, "standard")
    order = PassOrder(card_id=card.id, product_id=MONTHLY, start_date=date(2026, 10, 1))
    quote, key = await PlaceOrder(deps).execute(who, order)
    assert quote.amount_vnd == 200_000
    assert key == order_key(order)
    with pytest.raises(Forbidden):
        await PlaceOrder(deps).execute(Principal(kind=PrincipalKind.USER, id=who.id, level=1), order)
    elder = citizen(deps, date(1950, 1, 1))
    elder_card = await OpenCard(deps).execute(elder, "elderly")
    with pytest.raises(Conflict) as free:
        await PlaceOrder(deps).execute(elder, PassOrder(card_id=elder_card.id, product_id=FREE,
                                                        start_date=date(2026, 10, 1)))
    assert free.value.code == "transit.free_product"


async def test_activation_issues_one_pass_per_payment_and_a_refund_revokes_it(deps: Deps) -> None:
    who = citizen(deps)
    card = await OpenCard(deps).execute(who, "standard")
    key = order_key(PassOrder(card_id=card.id, product_id=MONTHLY, start_date=date(2026, 10, 1)))
    ref = str(uuid.uuid4())
    first = await ActivatePaidPass(deps).execute(who.id, key, ref)
    again = await ActivatePaidPass(deps).execute(who.id, key, ref)  # a retried notification
    assert first == again
    assert first.payment_ref == ref
    assert first.user_id == who.id
    assert [p.id for p in await deps.passes.list_for(who.id)] == [first.id]
    notifier = deps.notifier
    assert isinstance(notifier, FakeNotifier)
    assert [n.template for n in notifier.sent] == ["transit.pass_issued"]

    revoked = await RevokeRefundedPass(deps).execute(ref)
    assert revoked is not None
    assert revoked.status is PassStatus.REVOKED
    assert revoked.revoke_reason == "refunded"
    deny = deps.deny
    assert isinstance(deny, FakeDenyList)
    assert (int(DenyKind.PASS), first.id.bytes) in deny.rows
    assert await RevokeRefundedPass(deps).execute(str(uuid.uuid4())) is None


async def test_a_late_payment_starts_the_pass_today(deps: Deps) -> None:
    who = citizen(deps)
    card = await OpenCard(deps).execute(who, "standard")
    # Ordered for 1 Sep, paid on 1 Oct: a monthly pass must start on a 1st, so today (1 Oct) it is.
    key = order_key(PassOrder(card_id=card.id, product_id=MONTHLY, start_date=date(2026, 9, 1)))
    p = await ActivatePaidPass(deps).execute(who.id, key, str(uuid.uuid4()))
    assert p.valid_from.astimezone(UTC) == datetime(2026, 9, 30, 17, 0, tzinfo=UTC)  # 1 Oct 00:00 Hanoi
