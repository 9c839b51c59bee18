"""Transit use cases on the Postgres adapters (real database, real migrations), end to end down to
a QR image decoded by ZXing and verified by the reference offline verifier."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest
import zxingcpp
from PIL import Image

from adapters.postgres.pool import connect
from adapters.postgres.transit.gates import PgDenyList, PgIssuerKeys, PgTaps
from adapters.postgres.transit.orders import PgOrders
from adapters.postgres.transit.seed import product_id
from adapters.transit_crypto.mobile import ReferencePhone
from adapters.transit_crypto.offline import OfflineVerifier, keys_to_json
from adapters.transit_crypto.p256 import P256Signer, generate
from adapters.transit_images.render import QrImages
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.identity.principal import Principal
from domain.transit.codes import NO_EXPIRY, Direction, Network, ProductKind, Rejection
from domain.transit.denylist import DenyEntry, DenyKind, ListType, decode_deny
from domain.transit.model import Medium, PassStatus, Tap
from domain.transit.repositories import LIVE_STATES, LiveState, OrderFacts
from domain.transit.trust import IssuerKey
from domain.transit.usecases.cards import DecideApplication, OpenCard, SubmitApplication
from domain.transit.usecases.catalog import AddPrice, CreateProduct, ListOffers, NewPrice, NewProduct
from domain.transit.usecases.common import Deps
from domain.transit.usecases.gates import (
    BuildDenyList,
    SellPaperTicket,
    TapIn,
    TripHistory,
    UploadTaps,
    ValidateOnline,
)
from domain.transit.usecases.passes import (
    BindDevice,
    ClaimFreePass,
    GetPass,
    IssueCredential,
    IssuePass,
    PassOrder,
    RemindExpiring,
    RenewalOrder,
    RevokePass,
)
from domain.transit.validation import Gate, VerifiedCredentials
from tests.support.transit import ADMIN, FixedClock, bind_proof, make_citizen, pg_deps, validator_principal

QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)

# 03:00 on 1 October 2026 in Hanoi: a monthly pass for October can start today.
T0 = datetime(2026, 9, 30, 20, 0, tzinfo=UTC)
OCT = date(2026, 10, 1)
MONTHLY = product_id("monthly-all")


class World:
    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.clock = FixedClock(T0)
        self.signer = P256Signer(generate(), kid=int(uuid.uuid4().int % 2**31))
        self.deps: Deps = pg_deps(conn, self.clock, self.signer)
        self.admin: Principal = ADMIN  # replaced by a stored city admin in ``run``

    @property
    def now(self) -> int:
        return int(self.clock.t.timestamp())

    async def publish_key(self) -> None:
        await PgIssuerKeys(self.conn).add(IssuerKey(self.signer.kid, self.signer.public_key,
                                                    int((T0 - timedelta(days=30)).timestamp()),
                                                    int((T0 + timedelta(days=400)).timestamp())))

    async def gate(self, networks: Network = Network.METRO, route: int = 3,
                   direction: Direction = Direction.IN) -> OfflineVerifier:
        """A gate provisioned only with what the validator API publishes: key JSON + deny snapshot."""
        keys = [k for k in await PgIssuerKeys(self.conn).published() if k.kid == self.signer.kid]
        gate = OfflineVerifier(Gate(networks, route, direction))
        gate.load_keys_json(keys_to_json(keys))
        doc = await BuildDenyList(self.deps).execute(validator_principal(), None)
        gate.apply_deny_list(doc.document, self.now)
        return gate

    async def rider(self, born: date = date(1990, 5, 17), category: str = "standard") -> tuple[Principal, uuid.UUID]:
        citizen = await make_citizen(self.conn, born)
        card = await OpenCard(self.deps).execute(citizen, category)
        return citizen, card.id

    async def phone_for(self, citizen: Principal) -> ReferencePhone:
        phone = ReferencePhone()
        await BindDevice(self.deps).execute(citizen, phone.public_key, bind_proof(phone, citizen.id), "android")
        return phone


def run(database_url: str, body: Callable[[World], Awaitable[None]]) -> None:
    async def go() -> None:
        conn: asyncpg.Connection[Any] = await connect(database_url)
        tx = conn.transaction()
        await tx.start()
        try:
            world = World(conn)
            await world.publish_key()
            admin = await make_citizen(conn, date(1980, 1, 1), "Quản trị viên")
            world.admin = msgspec.structs.replace(admin, city_admin=True)
            await body(world)
        finally:
            await tx.rollback()
            await conn.close()
    asyncio.run(go())


def test_monthly_pass_to_png_to_offline_verify_then_revoked(database_url: str) -> None:
    async def body(w: World) -> None:
        citizen, card_id = await w.rider()
        p = await IssuePass(w.deps).execute(citizen, PassOrder(card_id=card_id, product_id=MONTHLY, start_date=OCT),
                                            payment_ref=f"pay-{uuid.uuid4()}")
        assert p.price_vnd == 200_000
        phone = await w.phone_for(citizen)
        issued = await IssueCredential(w.deps).execute(citizen, p.id)
        assert issued.expires_at - issued.issued_at == timedelta(hours=72)
        # The app learns the server time with the credential; its own clock is 40 s fast.
        phone.install(issued.credential, int(issued.server_time.timestamp()), w.now + 40)
        w.clock.t += timedelta(minutes=5)
        code = phone.code(w.now + 40)

        png = QrImages().png(code)
        [result] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), formats=QR_ONLY)
        scanned = bytes(result.bytes)
        assert scanned == code

        gate = await w.gate()
        verdict = gate.verify(scanned, w.now + 2)
        assert verdict.accepted, verdict.reason
        assert verdict.pass_id == p.id

        seq = gate.deny_seq
        await RevokePass(w.deps).execute(citizen, p.id, "refund")
        delta = await BuildDenyList(w.deps).execute(validator_principal(), seq)
        # A gate at 0 (a fresh database) gets a snapshot, which is the same thing as a delta from 0.
        assert delta.list_type is (ListType.DELTA if seq else ListType.SNAPSHOT)
        assert delta.count == 1
        gate.apply_deny_list(delta.document, w.now)
        w.clock.t += timedelta(minutes=20)
        assert gate.verify(phone.code(w.now + 40), w.now).reason is Rejection.DENIED
        with pytest.raises(Conflict):
            await IssueCredential(w.deps).execute(citizen, p.id)
        revoked = await GetPass(w.deps).execute(citizen, p.id)
        assert revoked.status is PassStatus.REVOKED
        outbox = await w.conn.fetch("SELECT template FROM notification_inbox WHERE user_id = $1 ORDER BY id",
                                    citizen.id)
        assert [r["template"] for r in outbox] == ["transit.pass_issued", "transit.pass_revoked"]
    run(database_url, body)


def test_other_citizens_objects_are_not_found(database_url: str) -> None:
    async def body(w: World) -> None:
        owner, card_id = await w.rider()
        other, _ = await w.rider()
        p = await IssuePass(w.deps).execute(owner, PassOrder(card_id=card_id, product_id=MONTHLY, start_date=OCT),
                                            payment_ref=f"pay-{uuid.uuid4()}")
        await w.phone_for(other)
        with pytest.raises(NotFound):
            await GetPass(w.deps).execute(other, p.id)
        with pytest.raises(NotFound):
            await IssueCredential(w.deps).execute(other, p.id)
        with pytest.raises(NotFound):
            await RevokePass(w.deps).execute(other, p.id, "mine now")
        with pytest.raises(NotFound):
            await IssuePass(w.deps).execute(other, PassOrder(card_id=card_id, product_id=MONTHLY, start_date=OCT),
                                            payment_ref="x")
    run(database_url, body)


def test_pass_rules_payment_overlap_and_renewal(database_url: str) -> None:
    async def body(w: World) -> None:
        citizen, card_id = await w.rider()
        order = PassOrder(card_id=card_id, product_id=MONTHLY, start_date=OCT)
        with pytest.raises(InvalidInput) as err:
            await IssuePass(w.deps).execute(citizen, order, payment_ref=None)
        assert err.value.code == "transit.payment_required"
        ref = f"pay-{uuid.uuid4()}"
        p = await IssuePass(w.deps).execute(citizen, order, payment_ref=ref)
        assert p.valid_until is not None
        assert p.valid_until.astimezone(UTC) == datetime(2026, 10, 31, 16, 59, 59, tzinfo=UTC)  # 23:59:59 Hanoi
        with pytest.raises(Conflict) as overlap:
            await IssuePass(w.deps).execute(citizen, order, payment_ref=f"pay-{uuid.uuid4()}")
        assert overlap.value.code == "transit.pass_overlaps"
        with pytest.raises(InvalidInput) as mid_month:
            await IssuePass(w.deps).execute(citizen, PassOrder(card_id=card_id, product_id=MONTHLY,
                                                               start_date=date(2026, 10, 15)), payment_ref="y")
        assert mid_month.value.rule == "first_of_month"
        renewal = await RenewalOrder(w.deps).execute(citizen, p.id)
        assert renewal.start_date == date(2026, 11, 1)
        nxt = await IssuePass(w.deps).execute(citizen, renewal, payment_ref=f"pay-{uuid.uuid4()}", renewed_from=p.id)
        assert nxt.renewed_from == p.id
        # The same payment cannot pay for a second pass (a replayed payment notification).
        other, other_card = await w.rider()
        with pytest.raises(asyncpg.UniqueViolationError):
            await IssuePass(w.deps).execute(other, PassOrder(card_id=other_card, product_id=MONTHLY, start_date=OCT),
                                            payment_ref=ref)
    run(database_url, body)


def test_free_groups_by_age_and_by_verified_document(database_url: str) -> None:
    async def body(w: World) -> None:
        free = product_id("free-pass")
        senior = await make_citizen(w.conn, date(1966, 9, 30))       # 60 on 30 Sep 2026
        card = await OpenCard(w.deps).execute(senior, "elderly")
        p = await ClaimFreePass(w.deps).execute(senior, card.id, free)
        assert p.valid_until is None
        assert p.price_vnd == 0
        await w.phone_for(senior)
        issued = await IssueCredential(w.deps).execute(senior, p.id)
        assert issued.facts.valid_until == NO_EXPIRY
        assert issued.facts.category == 4

        almost = await make_citizen(w.conn, date(1966, 10, 2))      # still 59 on 1 Oct 2026
        with pytest.raises(InvalidInput) as err:
            await OpenCard(w.deps).execute(almost, "elderly")
        assert err.value.rule == "min_age"
        standard_card = await OpenCard(w.deps).execute(almost, "standard")
        with pytest.raises(InvalidInput):
            await ClaimFreePass(w.deps).execute(almost, standard_card.id, free)

        student = await make_citizen(w.conn, date(2005, 3, 3))
        with pytest.raises(InvalidInput) as no_doc:
            await OpenCard(w.deps).execute(student, "student")
        assert no_doc.value.rule == "document_required"
        application = await SubmitApplication(w.deps).execute(student, "student", "blob/student-card.jpg")
        with pytest.raises(Forbidden):
            await DecideApplication(w.deps).execute(student, application.id, True, date(2027, 6, 30))
        await DecideApplication(w.deps).execute(w.admin, application.id, True, date(2027, 6, 30))
        student_card = await OpenCard(w.deps).execute(student, "student")
        sp = await IssuePass(w.deps).execute(student, PassOrder(card_id=student_card.id, product_id=MONTHLY,
                                                                start_date=OCT), payment_ref=f"p-{uuid.uuid4()}")
        assert sp.price_vnd == 100_000
        assert sp.category_qr == 2
    run(database_url, body)


def test_rebinding_a_phone_denies_the_old_key(database_url: str) -> None:
    async def body(w: World) -> None:
        citizen, card_id = await w.rider()
        p = await IssuePass(w.deps).execute(citizen, PassOrder(card_id=card_id, product_id=MONTHLY, start_date=OCT),
                                            payment_ref=f"pay-{uuid.uuid4()}")
        old = await w.phone_for(citizen)
        cred = await IssueCredential(w.deps).execute(citizen, p.id)
        old.install(cred.credential, w.now, w.now)
        gate = await w.gate()
        assert gate.verify(old.code(w.now), w.now).accepted

        stranger = ReferencePhone()
        with pytest.raises(InvalidInput) as bad_proof:
            await BindDevice(w.deps).execute(citizen, stranger.public_key, bytes(64), "ios")
        assert bad_proof.value.code == "transit.invalid_device_proof"

        new = await w.phone_for(citizen)
        new.install((await IssueCredential(w.deps).execute(citizen, p.id)).credential, w.now, w.now)
        delta = await BuildDenyList(w.deps).execute(validator_principal(), gate.deny_seq)
        assert [e.kind for e in decode_deny(delta.document).entries] == [DenyKind.DEVICE]
        gate.apply_deny_list(delta.document, w.now)
        later = w.now + 700
        assert gate.verify(old.code(later), later).reason is Rejection.DENIED
        assert gate.verify(new.code(later + 1), later + 1).accepted
        with pytest.raises(Conflict) as again:
            await BindDevice(w.deps).execute(citizen, old.public_key, bind_proof(old, citizen.id), "android")
        assert again.value.code == "transit.device_key_revoked"
    run(database_url, body)


def test_prices_are_dated_and_never_overlap(database_url: str) -> None:
    async def body(w: World) -> None:
        product = await CreateProduct(w.deps).execute(w.admin, NewProduct(
            code=f"bus-route-{uuid.uuid4().hex[:6]}", name_vi="Vé tháng tuyến 86", name_en="Route 86 monthly",
            kind=ProductKind.MONTHLY_ROUTE, networks=Network.BUS, route=86))
        await AddPrice(w.deps).execute(w.admin, product.id, NewPrice(category="standard", amount_vnd=100_000,
                                                                   valid_from=date(2026, 1, 1),
                                                                   valid_to=date(2026, 10, 15)))
        await AddPrice(w.deps).execute(w.admin, product.id, NewPrice(category="standard", amount_vnd=120_000,
                                                                   valid_from=date(2026, 10, 15)))
        with pytest.raises(Conflict):
            await AddPrice(w.deps).execute(w.admin, product.id, NewPrice(category="standard", amount_vnd=1,
                                                                       valid_from=date(2026, 12, 1)))
        with pytest.raises(InvalidInput):
            await AddPrice(w.deps).execute(w.admin, product.id, NewPrice(category="elderly", amount_vnd=5_000,
                                                                       valid_from=date(2026, 1, 1)))
        with pytest.raises(Forbidden):
            await AddPrice(w.deps).execute(await make_citizen(w.conn, None), product.id,
                                           NewPrice(category="standard", amount_vnd=1, valid_from=date(2027, 1, 1)))

        def price(offers: list[Any]) -> int:
            return int(next(o.price.amount_vnd for o in offers if o.product.id == product.id))
        assert price(await ListOffers(w.deps).execute("standard", date(2026, 10, 14))) == 100_000
        assert price(await ListOffers(w.deps).execute("standard", date(2026, 10, 15))) == 120_000
        with pytest.raises(InvalidInput):
            await CreateProduct(w.deps).execute(w.admin, NewProduct(code="no-route", name_vi="x", name_en="x",
                                                                  kind=ProductKind.MONTHLY_ROUTE, networks=Network.BUS))
    run(database_url, body)


def _tap(subject: uuid.UUID, at: datetime, direction: Direction, stop: str, medium: Medium = Medium.PASS) -> TapIn:
    return TapIn(id=uuid.uuid4(), medium=medium, subject_id=subject, direction=direction, network=Network.METRO,
                 route=3, stop=stop, occurred_at=at, code_timestamp=int(at.timestamp()), counter=0, accepted=True)


def test_tap_batches_are_idempotent_out_of_order_and_make_trips(database_url: str) -> None:
    async def body(w: World) -> None:
        citizen, card_id = await w.rider()
        p = await IssuePass(w.deps).execute(citizen, PassOrder(card_id=card_id, product_id=MONTHLY, start_date=OCT),
                                            payment_ref=f"pay-{uuid.uuid4()}")
        gate = validator_principal()
        t = T0 - timedelta(hours=1)
        w.clock.t = T0 + timedelta(days=1)
        # Uploaded exit first, entry later, then the next morning's entry (late and out of order).
        batch1 = [_tap(p.id, t + timedelta(minutes=25), Direction.OUT, "S12"),
                  _tap(p.id, t + timedelta(hours=20), Direction.IN, "S03")]
        batch2 = [_tap(p.id, t, Direction.IN, "S01")]
        assert await UploadTaps(w.deps).execute(gate, batch1) == (2, 2)
        assert await UploadTaps(w.deps).execute(gate, batch1) == (2, 0)   # a retried upload inserts nothing
        assert await UploadTaps(w.deps).execute(gate, batch2 + batch1) == (3, 1)
        trips = (await TripHistory(w.deps).execute(citizen)).items
        assert [(tr.boarded_stop, tr.alighted_stop) for tr in trips] == [("S03", None), ("S01", "S12")]
        first = await TripHistory(w.deps).execute(citizen, limit=1)
        assert [tr.boarded_stop for tr in first.items] == ["S03"]
        assert first.next_cursor
        rest = await TripHistory(w.deps).execute(citizen, cursor=first.next_cursor, limit=1)
        assert [tr.boarded_stop for tr in rest.items] == ["S01"]
        assert rest.next_cursor is None
        other, _ = await w.rider()
        assert (await TripHistory(w.deps).execute(other)).items == []

        big = [_tap(uuid.uuid4(), t + timedelta(seconds=i), Direction.IN, "S05") for i in range(1000)]
        assert await UploadTaps(w.deps).execute(gate, big) == (1000, 1000)
        with pytest.raises(InvalidInput):
            await UploadTaps(w.deps).execute(gate, [*big, _tap(p.id, t, Direction.IN, "S05")])
        with pytest.raises(Forbidden):
            await UploadTaps(w.deps).execute(citizen, batch2)
        bad = msgspec.structs.replace(batch2[0], id=uuid.uuid4(), accepted=False)
        with pytest.raises(InvalidInput) as err:
            await UploadTaps(w.deps).execute(gate, [bad])
        assert err.value.field == "taps[0].reason"
    run(database_url, body)


def test_paper_ticket_sold_entered_once_everywhere(database_url: str) -> None:
    async def body(w: World) -> None:
        with pytest.raises(Forbidden):
            await SellPaperTicket(w.deps).execute(await make_citizen(w.conn, None), product_id("metro-single"))
        sold = await SellPaperTicket(w.deps).execute(w.admin, product_id("metro-single"))
        assert sold.ticket.price_vnd == 15_000
        [result] = zxingcpp.read_barcodes(Image.open(io.BytesIO(sold.png)))
        assert bytes(result.bytes) == sold.data
        assert sold.svg.startswith("<svg")
        station_a = await w.gate()
        assert station_a.verify(sold.data, w.now).accepted
        assert station_a.verify(sold.data, w.now + 5).reason is Rejection.TICKET_USED
        # Station A uploads the entry; station B, synced afterwards, refuses the ticket too.
        await UploadTaps(w.deps).execute(validator_principal(), [_tap(sold.ticket.id, T0, Direction.IN, "S01",
                                                                      Medium.PAPER)])
        station_b = await w.gate()
        assert station_b.verify(sold.data, w.now + 60).reason is Rejection.TICKET_USED
    run(database_url, body)


def test_online_validation_uses_live_state(database_url: str) -> None:
    async def body(w: World) -> None:
        citizen, card_id = await w.rider()
        p = await IssuePass(w.deps).execute(citizen, PassOrder(card_id=card_id, product_id=MONTHLY, start_date=OCT),
                                            payment_ref=f"pay-{uuid.uuid4()}")
        phone = await w.phone_for(citizen)
        phone.install((await IssueCredential(w.deps).execute(citizen, p.id)).credential, w.now, w.now)
        online = ValidateOnline(w.deps)
        validator = validator_principal()
        entry = Gate(Network.METRO, 3, Direction.IN)
        code = phone.code(w.now)
        assert (await online.execute(validator, code, entry, "S01", uuid.uuid4())).accepted
        assert (await online.execute(validator, code, entry, "S01", uuid.uuid4())).reason is Rejection.REPLAY
        w.clock.t += timedelta(seconds=5)
        fresh = phone.code(w.now)
        assert (await online.execute(validator, fresh, entry, "S01", uuid.uuid4())).reason is Rejection.PASSBACK
        exit_ = Gate(Network.METRO, 3, Direction.OUT)
        assert (await online.execute(validator, fresh, exit_, "S09", uuid.uuid4())).accepted
        await RevokePass(w.deps).execute(w.admin, p.id, "fraud")
        w.clock.t += timedelta(minutes=1)
        verdict = await online.execute(validator, phone.code(w.now), entry, "S09", uuid.uuid4())
        assert verdict.reason is Rejection.DENIED
        forged = await online.execute(validator, code[:147] + bytes(64), entry, "S09", uuid.uuid4())
        assert forged.reason is Rejection.FORGED
        recorded = await w.conn.fetch("SELECT accepted, reason FROM transit_taps WHERE subject_id = $1 "
                                      "ORDER BY uploaded_at, occurred_at", p.id)
        assert [(r["accepted"], r["reason"]) for r in recorded] == [
            (True, None), (False, "replay"), (False, "passback"), (True, None), (False, "denied"), (False, "forged")]
        with pytest.raises(Forbidden):
            await online.execute(citizen, code, entry, "S01", uuid.uuid4())
    run(database_url, body)


def test_the_one_statement_of_online_validation_stores_the_domains_reason_for_each_live_state(
        database_url: str) -> None:
    """``PgTaps.add_checked`` reads the live state and writes the tap in one statement; the tap's reason
    is the domain's table looked up at ``LiveState.index`` of what the statement read, so the SQL's index
    must be the domain's: each label below is stored only if both agree."""
    reasons = (None, *(f"state-{n}" for n in range(1, len(LIVE_STATES))))

    async def body(w: World) -> None:
        taps, subject, device = PgTaps(w.conn), uuid.uuid4(), b"d" * 16
        deny = [(int(DenyKind.PASS), subject.bytes), (int(DenyKind.DEVICE), device)]
        since = T0 - timedelta(hours=1)

        async def check(at: datetime, direction: Direction, ts: int, entry_since: datetime | None,
                        expected: LiveState, tap_id: uuid.UUID | None = None) -> bool:
            tap = Tap(id=tap_id or uuid.uuid4(), validator_id=uuid.uuid4(), medium=Medium.PASS, subject_id=subject,
                      direction=direction, network=Network.METRO, route=3, stop="S01", occurred_at=at,
                      code_timestamp=ts, counter=0, accepted=True, reason=None)
            live, inserted = await taps.add_checked(tap, deny, int(at.timestamp()), entry_since, reasons)
            assert live == expected
            stored = await w.conn.fetchrow("SELECT accepted, reason FROM transit_taps WHERE id = $1", tap.id)
            if inserted:  # else the row is the first attempt's
                assert (stored["accepted"], stored["reason"]) == (reasons[live.index()] is None,
                                                                  reasons[live.index()])
            return inserted

        first = uuid.uuid4()
        assert await check(T0, Direction.IN, 1, since, LiveState(False, False, None), first)  # accepted
        assert not await check(T0, Direction.IN, 1, since, LiveState(False, True, Direction.IN), first)  # stored once
        assert await w.conn.fetchval("SELECT accepted FROM transit_taps WHERE id = $1", first)
        assert await check(T0 + timedelta(seconds=1), Direction.OUT, 1, since, LiveState(False, True, Direction.IN))
        await taps.add_batch([Tap(id=uuid.uuid4(), validator_id=uuid.uuid4(), medium=Medium.PASS, subject_id=subject,
                                  direction=Direction.OUT, network=Network.METRO, route=3, stop="S09",
                                  occurred_at=T0 + timedelta(seconds=2), code_timestamp=2, counter=0, accepted=True)])
        assert await check(T0 + timedelta(seconds=3), Direction.IN, 3, since, LiveState(False, False, Direction.OUT))
        await PgDenyList(w.conn).add([DenyEntry(DenyKind.DEVICE, device, int(T0.timestamp()) + 3600)])
        assert await check(T0 + timedelta(seconds=4), Direction.IN, 1, since, LiveState(True, True, Direction.OUT))
        assert await check(T0 + timedelta(seconds=5), Direction.IN, 9, None, LiveState(True, False, None))
        assert sorted({s.index() for s in LIVE_STATES}) == list(range(len(LIVE_STATES)))
    run(database_url, body)


def test_online_validation_remembers_verified_credentials_but_not_forgeries(database_url: str) -> None:
    """The process's memory of issuer signatures (shared by every online validation) skips the issuer's
    signature only for the exact bytes it verified: a credential with an altered issuer signature, under
    a valid device signature, is still forged. A dynamic code needs no transaction; a paper ticket does."""
    async def body(w: World) -> None:
        citizen, card_id = await w.rider()
        p = await IssuePass(w.deps).execute(citizen, PassOrder(card_id=card_id, product_id=MONTHLY, start_date=OCT),
                                            payment_ref=f"pay-{uuid.uuid4()}")
        phone = await w.phone_for(citizen)
        credential = (await IssueCredential(w.deps).execute(citizen, p.id)).credential
        phone.install(credential, w.now, w.now)
        memory = VerifiedCredentials()
        online = ValidateOnline(w.deps, None, memory)
        validator, entry, exit_ = validator_principal(), Gate(Network.METRO, 3), Gate(Network.METRO, 3, Direction.OUT)
        code = phone.code(w.now)
        assert not ValidateOnline.needs_transaction(code)
        assert not ValidateOnline.needs_transaction(b"\x00")  # malformed: refused before anything is written
        assert (await online.execute(validator, code, entry, "S01", uuid.uuid4())).accepted
        assert memory.get(credential) is not None
        w.clock.t += timedelta(seconds=20)
        assert (await online.execute(validator, phone.code(w.now), exit_, "S09", uuid.uuid4())).accepted
        forged = bytearray(credential)
        forged[-1] ^= 1  # the issuer's signature ends the credential
        rogue = ReferencePhone(phone.device)
        rogue.install(bytes(forged), w.now, w.now)
        w.clock.t += timedelta(seconds=20)
        verdict = await online.execute(validator, rogue.code(w.now), entry, "S01", uuid.uuid4())
        assert verdict.reason is Rejection.FORGED
        ticket = (await SellPaperTicket(w.deps).execute(w.admin, product_id("metro-single"))).data
        assert ValidateOnline.needs_transaction(ticket)
    run(database_url, body)


def test_deny_list_sequence_snapshot_and_delta(database_url: str) -> None:
    async def body(w: World) -> None:
        deny = PgDenyList(w.conn)
        start = await deny.current_seq()
        a, b = uuid.uuid4().bytes, uuid.uuid4().bytes
        await deny.add([DenyEntry(DenyKind.PASS, a, w.now + 100), DenyEntry(DenyKind.PASS, b, w.now - 1)])
        after = await deny.current_seq()
        assert after == start + 2
        assert [e.subject for e in await deny.since(start, w.now)] == [a]   # b is past drop_after
        await deny.add([DenyEntry(DenyKind.PASS, a, w.now + 50)])           # re-added: new number, later drop kept
        [again] = await deny.since(after, w.now)
        assert (again.subject, again.drop_after, again.seq) == (a, w.now + 100, after + 1)
        assert await deny.denied([(1, a)], w.now)
        assert not await deny.denied([(1, b)], w.now)
        with pytest.raises(InvalidInput):
            await BuildDenyList(w.deps).execute(validator_principal(), after + 99)
        assert await deny.prune(w.now) >= 1
    run(database_url, body)


def test_a_gate_syncing_between_two_writers_misses_no_entry(database_url: str) -> None:
    """Two replicas add to the deny list at once; a gate syncs while the first has not committed yet. Its
    cursor must not pass the first writer's number, or that entry (a revoked pass) never reaches it."""
    async def go() -> None:
        first, second, gate = [await connect(database_url) for _ in range(3)]
        try:
            now = int(datetime.now(UTC).timestamp())
            a, b = uuid.uuid4().bytes, uuid.uuid4().bytes
            cursor = await PgDenyList(gate).current_seq()
            slow = first.transaction()
            await slow.start()
            await PgDenyList(first).add([DenyEntry(DenyKind.PASS, a, now + 3600)])

            async def fast() -> None:
                async with second.transaction():
                    await PgDenyList(second).add([DenyEntry(DenyKind.PASS, b, now + 3600)])

            other = asyncio.create_task(fast())
            await asyncio.sleep(0.3)
            # The gate syncs as BuildDenyList does: the head first, then the entries after its cursor.
            head = await PgDenyList(gate).current_seq()
            seen = {e.subject for e in await PgDenyList(gate).since(cursor, now)}
            cursor = head
            await slow.commit()
            await other
            seen |= {e.subject for e in await PgDenyList(gate).since(cursor, now)}
            assert {a, b} <= seen
        finally:
            for conn in (first, second, gate):
                await conn.close()
    asyncio.run(go())


def test_hot_queries_use_indexes(database_url: str) -> None:
    async def body(w: World) -> None:
        await w.conn.execute("SET LOCAL enable_seqscan = off")
        for sql, args in [
            ("SELECT 1 FROM transit_taps WHERE subject_id = $1 AND code_timestamp = $2 AND counter = $3 AND accepted",
             (uuid.uuid4(), 1, 0)),
            ("SELECT 1 FROM transit_taps WHERE subject_id = $1 AND accepted AND occurred_at >= $2 "
             "ORDER BY occurred_at DESC LIMIT 1", (uuid.uuid4(), T0)),
            ("SELECT 1 FROM transit_deny WHERE seq > $1 AND drop_after >= $2 ORDER BY seq", (0, 0)),
            ("SELECT 1 FROM transit_deny d WHERE (d.kind, d.subject) IN (($1::smallint, $2::bytea), "
             "($3::smallint, $4::bytea)) AND d.drop_after >= $5", (1, b"a" * 16, 2, b"b" * 16, 0)),
            ("SELECT 1 FROM transit_passes WHERE user_id = $1 ORDER BY created_at DESC LIMIT 200", (uuid.uuid4(),)),
            ("SELECT 1 FROM transit_passes WHERE user_id = $1 AND (created_at, id) < ($2, $3) "
             "ORDER BY created_at DESC, id DESC LIMIT 21", (uuid.uuid4(), T0, uuid.uuid4())),
        ]:
            plan = "\n".join(r[0] for r in await w.conn.fetch(f"EXPLAIN {sql}", *args))
            assert "Seq Scan" not in plan, plan
        probe = Tap(id=uuid.uuid4(), validator_id=uuid.uuid4(), medium=Medium.PASS, subject_id=uuid.uuid4(),
                    direction=Direction.IN, network=Network.METRO, route=3, stop="S01", occurred_at=T0,
                    code_timestamp=0, counter=0, accepted=True, reason=None)
        live, _ = await PgTaps(w.conn).add_checked(probe, [], 0, T0, (None,) * len(LIVE_STATES))
        assert live.last_direction is None
    run(database_url, body)


def test_two_concurrent_purchases_of_the_same_period_make_one_pass(database_url: str) -> None:
    async def go() -> None:
        setup = await connect(database_url)
        try:
            w = World(setup)
            citizen, card_id = await w.rider()
        finally:
            await setup.close()
        order = PassOrder(card_id=card_id, product_id=MONTHLY, start_date=OCT)
        both_checked = asyncio.Barrier(2)

        class RacingOrders(PgOrders):
            """Holds each purchase after reading its order's facts (the passes the overlap check sees)
            until the other has read them too (or 0.5 s passed, which is what happens when the card
            lock makes the second one wait)."""

            async def facts(self, *args: Any, **kw: Any) -> OrderFacts | None:
                found = await super().facts(*args, **kw)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(both_checked.wait(), 0.5)
                return found

        async def buy(ref: str) -> str:
            conn = await connect(database_url)
            try:
                async with conn.transaction():
                    deps = dataclasses.replace(pg_deps(conn, FixedClock(T0), w.signer), orders=RacingOrders(conn))
                    await IssuePass(deps).execute(citizen, order, payment_ref=ref)
                return "issued"
            except Conflict as exc:
                return exc.code
            finally:
                await conn.close()
        results = await asyncio.gather(buy(f"pay-{uuid.uuid4()}"), buy(f"pay-{uuid.uuid4()}"))
        assert sorted(results) == ["issued", "transit.pass_overlaps"]
    asyncio.run(go())


def test_expiry_reminder_once_per_pass_and_not_after_renewal(database_url: str) -> None:
    async def body(w: World) -> None:
        citizen, card_id = await w.rider()
        october = await IssuePass(w.deps).execute(citizen, PassOrder(card_id=card_id, product_id=MONTHLY,
                                                                     start_date=OCT), payment_ref=f"p-{uuid.uuid4()}")
        other, other_card = await w.rider()
        renewed = await IssuePass(w.deps).execute(other, PassOrder(card_id=other_card, product_id=MONTHLY,
                                                                   start_date=OCT), payment_ref=f"p-{uuid.uuid4()}")
        await IssuePass(w.deps).execute(other, await RenewalOrder(w.deps).execute(other, renewed.id),
                                        payment_ref=f"p-{uuid.uuid4()}", renewed_from=renewed.id)
        remind = RemindExpiring(w.deps)
        query = ("SELECT user_id, object_id FROM notification_inbox WHERE template = 'transit.pass_expiring' "
                 "AND user_id = ANY($1::uuid[])")
        await remind.execute()                                        # 1 Oct: nothing ends within 3 days
        assert await w.conn.fetch(query, [citizen.id, other.id]) == []
        w.clock.t = datetime(2026, 10, 29, 2, 0, tzinfo=UTC)        # 29 Oct, 09:00 in Hanoi
        await remind.execute()
        await remind.execute()
        rows = await w.conn.fetch(query, [citizen.id, other.id])
        assert [(r["user_id"], r["object_id"]) for r in rows] == [(citizen.id, str(october.id))]
    run(database_url, body)
