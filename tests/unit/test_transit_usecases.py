"""Transit use cases against in-memory fakes of the ports (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from adapters.transit_crypto.mobile import ReferencePhone
from adapters.transit_crypto.offline import OfflineVerifier
from adapters.transit_crypto.p256 import P256Signer, generate
from domain.errors import Conflict, Forbidden, InvalidInput
from domain.identity.principal import Principal, PrincipalKind
from domain.transit.codes import Direction, Network, ProductKind, Rejection
from domain.transit.denylist import DenyKind, ListType, decode_deny, device_subject
from domain.transit.model import Medium, Price, Product
from domain.transit.repositories import Holder
from domain.transit.trust import IssuerKey
from domain.transit.usecases.cards import OpenCard
from domain.transit.usecases.common import Deps
from domain.transit.usecases.gates import BuildDenyList, SellPaperTicket, TapIn, UploadTaps
from domain.transit.usecases.passes import (
    BindDevice,
    IssueCredential,
    IssuePass,
    PassOrder,
    RemindExpiring,
    RevokePass,
)
from domain.transit.validation import Gate
from tests.support.transit import (
    FakeCatalog,
    FakeCitizens,
    FakeDenyList,
    FakeNotifier,
    FixedClock,
    bind_proof,
    fake_deps,
    validator_principal,
)

T0 = datetime(2026, 9, 30, 20, 0, tzinfo=UTC)   # 1 Oct 2026, 03:00 in Hanoi
MONTHLY = uuid.uuid4()
SINGLE = uuid.uuid4()


@pytest.fixture
def deps() -> Deps:
    d = fake_deps(FixedClock(T0), P256Signer(generate(), kid=3))
    catalog = d.catalog
    assert isinstance(catalog, FakeCatalog)
    catalog.product_rows[MONTHLY] = Product(id=MONTHLY, code="monthly-all", name_vi="Vé tháng", name_en="Monthly",
                                            kind=ProductKind.MONTHLY_ALL, networks=Network.BUS | Network.METRO)
    catalog.product_rows[SINGLE] = Product(id=SINGLE, code="metro-single", name_vi="Vé lượt", name_en="Single",
                                           kind=ProductKind.SINGLE_RIDE, networks=Network.METRO)
    for pid, amount in ((MONTHLY, 200_000), (SINGLE, 15_000)):
        catalog.price_rows.append(Price(id=uuid.uuid4(), product_id=pid, category="standard", amount_vnd=amount,
                                        valid_from=date(2026, 1, 1)))
    return d


def citizen(deps: Deps, born: date | None = date(1990, 1, 1)) -> Principal:
    p = Principal(kind=PrincipalKind.USER, id=uuid.uuid4(), level=2)
    citizens = deps.citizens
    assert isinstance(citizens, FakeCitizens)
    citizens.rows[p.id] = Holder("Trần Thị Bình", born)
    return p


async def monthly(deps: Deps, who: Principal) -> uuid.UUID:
    card = await OpenCard(deps).execute(who, "standard")
    p = await IssuePass(deps).execute(who, PassOrder(card_id=card.id, product_id=MONTHLY,
                                                     start_date=date(2026, 10, 1)), payment_ref=str(uuid.uuid4()))
    return p.id


async def test_card_holder_and_category_come_from_the_e_id(deps: Deps) -> None:
    old = citizen(deps, date(1950, 2, 3))
    card = await OpenCard(deps).execute(old, "elderly")
    assert card.holder_name == "Trần Thị Bình"
    assert len(card.number) == 12
    with pytest.raises(InvalidInput):
        await OpenCard(deps).execute(citizen(deps, date(2000, 1, 1)), "elderly")
    with pytest.raises(Forbidden):
        await OpenCard(deps).execute(validator_principal(), "standard")


def gate_for(deps: Deps, direction: Direction = Direction.IN) -> OfflineVerifier:
    signer = deps.signer
    assert isinstance(signer, P256Signer)
    return OfflineVerifier(Gate(Network.METRO, 3, direction),
                           keys=[IssuerKey(signer.kid, signer.public_key, 0, 2**32 - 1)])


def epoch(at: datetime) -> int:
    return int(at.timestamp())


async def test_credential_needs_a_bound_phone_and_verifies_at_a_gate(deps: Deps) -> None:
    who = citizen(deps)
    pass_id = await monthly(deps, who)
    with pytest.raises(Conflict) as no_device:
        await IssueCredential(deps).execute(who, pass_id)
    assert no_device.value.code == "transit.no_device"
    phone = ReferencePhone()
    await BindDevice(deps).execute(who, phone.public_key, bind_proof(phone, who.id), "ios")
    issued = await IssueCredential(deps).execute(who, pass_id)
    assert issued.expires_at - issued.issued_at == timedelta(hours=72)
    phone.install(issued.credential, epoch(issued.server_time), epoch(T0))
    assert gate_for(deps).verify(phone.code(epoch(T0)), epoch(T0) + 1).accepted


async def test_credential_never_outlives_its_pass(deps: Deps) -> None:
    who = citizen(deps)
    pass_id = await monthly(deps, who)
    phone = ReferencePhone()
    await BindDevice(deps).execute(who, phone.public_key, bind_proof(phone, who.id), "android")
    clock = deps.clock
    assert isinstance(clock, FixedClock)
    clock.t = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)      # 19:00 on the pass's last day
    issued = await IssueCredential(deps).execute(who, pass_id)
    assert issued.expires_at == datetime(2026, 10, 31, 16, 59, 59, tzinfo=UTC)
    clock.t = datetime(2026, 10, 31, 17, 0, tzinfo=UTC)
    with pytest.raises(Conflict):
        await IssueCredential(deps).execute(who, pass_id)


async def test_rebinding_denies_the_old_key_and_tells_the_rider(deps: Deps) -> None:
    who = citizen(deps)
    first, second = ReferencePhone(), ReferencePhone()
    b1 = await BindDevice(deps).execute(who, first.public_key, bind_proof(first, who.id), "android")
    assert await BindDevice(deps).execute(who, first.public_key, bind_proof(first, who.id), "android") == b1
    await BindDevice(deps).execute(who, second.public_key, bind_proof(second, who.id), "android")
    deny = deps.deny
    assert isinstance(deny, FakeDenyList)
    [entry] = deny.rows.values()
    assert (entry.kind, entry.subject) == (DenyKind.DEVICE, device_subject(first.public_key))
    assert entry.drop_after == epoch(T0) + 72 * 3600
    notifier = deps.notifier
    assert isinstance(notifier, FakeNotifier)
    assert [n.template for n in notifier.sent] == ["transit.device_rebound"]
    with pytest.raises(InvalidInput):
        await BindDevice(deps).execute(who, b"\x04" + bytes(32), bytes(64), "ios")


async def test_revocation_reaches_gates_through_the_deny_list(deps: Deps) -> None:
    who = citizen(deps)
    pass_id = await monthly(deps, who)
    before = await BuildDenyList(deps).execute(validator_principal(), None)
    await RevokePass(deps).execute(who, pass_id, "cancelled by the rider")
    await RevokePass(deps).execute(who, pass_id, "again")              # no second entry
    delta = await BuildDenyList(deps).execute(validator_principal(), before.to_seq)
    doc = decode_deny(delta.document)
    assert doc.list_type is ListType.DELTA or before.to_seq == 0
    assert [(e.kind, e.subject, e.drop_after) for e in doc.entries] == [
        (DenyKind.PASS, pass_id.bytes, epoch(T0) + 72 * 3600)]         # 72 h, sooner than the pass's end
    with pytest.raises(InvalidInput):
        await BuildDenyList(deps).execute(validator_principal(), delta.to_seq + 1)
    with pytest.raises(Forbidden):
        await BuildDenyList(deps).execute(who, None)


async def test_paper_ticket_entry_upload_lists_it(deps: Deps) -> None:
    staff = Principal(kind=PrincipalKind.USER, id=uuid.uuid4(), level=2, city_admin=True)
    sold = await SellPaperTicket(deps).execute(staff, SINGLE)
    gate = gate_for(deps)
    assert gate.verify(sold.data, epoch(T0)).accepted
    tap = TapIn(id=uuid.uuid4(), medium=Medium.PAPER, subject_id=sold.ticket.id, direction=Direction.IN,
                network=Network.METRO, route=3, stop="S01", occurred_at=T0, accepted=True)
    assert await UploadTaps(deps).execute(validator_principal(), [tap]) == (1, 1)
    other_station = gate_for(deps)
    other_station.apply_deny_list((await BuildDenyList(deps).execute(validator_principal(), None)).document,
                                  epoch(T0))
    assert other_station.verify(sold.data, epoch(T0) + 30).reason is Rejection.TICKET_USED


async def test_expiry_reminder_is_sent_once(deps: Deps) -> None:
    who = citizen(deps)
    await monthly(deps, who)
    clock = deps.clock
    assert isinstance(clock, FixedClock)
    assert await RemindExpiring(deps).execute() == 0
    clock.t = datetime(2026, 10, 29, 2, 0, tzinfo=UTC)
    assert await RemindExpiring(deps).execute() == 1
    await RemindExpiring(deps).execute()
    notifier = deps.notifier
    assert isinstance(notifier, FakeNotifier)
    assert [n.template for n in notifier.sent].count("transit.pass_expiring") == 1
