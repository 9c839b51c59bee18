"""Judicial use cases against in-memory fakes: draft → issued, supplement (clock paused) and
reject, proxy rules, pre-filled fields, withdraw, authority switch, deadlines, queue and access."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.identity.principal import Principal, StaffRole
from domain.judicial.deadlines import due_at
from domain.judicial.model import (
    Address,
    Applicant,
    CertificateType,
    Conviction,
    CrossCheckOutcome,
    CrossCheckResult,
    DeadlineKind,
    Delivery,
    FeeCategory,
    ProxyRelation,
    Request,
    Status,
    StatusPurpose,
)
from domain.judicial.usecases import citizen as c
from domain.judicial.usecases import staff as s
from tests.support.judicial import DOJ, POLICE, FakeClock, World, applicant, history
from tests.support.judicial import citizen as new_citizen
from tests.support.judicial import staff as new_staff

PDF = b"%PDF-1.7 authorisation"


def draft_input(**kw: object) -> c.DraftInput:
    base = c.DraftInput(purpose="Bổ sung hồ sơ xin việc", applicant=applicant(), residence_history=history())
    return msgspec.structs.replace(base, **kw)


async def submitted(w: World, who: Principal | None = None, **kw: object) -> Request:
    who = who or new_citizen()
    r = await c.StartDraft(w.deps).execute(who, draft_input(**kw))
    return await c.Submit(w.deps).execute(who, r.id)


async def test_draft_to_issued_records_every_step_and_notifies() -> None:
    w = World()
    me, handler, boss = new_citizen(), new_staff(DOJ, StaffRole.HANDLER), new_staff(DOJ, StaffRole.SUPERVISOR)
    draft = await c.StartDraft(w.deps).execute(me, draft_input(copies=3))
    assert draft.ref == "LLTP-2026-000001"
    assert draft.status is Status.DRAFT
    quote = await c.Quote(w.deps).execute(me, draft.id)
    assert (quote.fee, quote.city_support, quote.amount_due) == (205_000, 205_000, 0)
    r = await c.Submit(w.deps).execute(me, draft.id, accepted_amount_due=0)
    assert r.status is Status.SUBMITTED
    assert r.fee == quote
    assert r.authority_code == "S-TP"
    # Hà Nội and Đà Nẵng in the history: 15 working days from Monday 2 March 2026.
    assert r.deadline_kind is DeadlineKind.EXTENDED
    assert r.deadline_reasons == ("several_provinces",)
    assert r.due_at == datetime(2026, 3, 23, 17, 0, tzinfo=UTC)  # end of Monday 23 March in Hanoi
    r = await s.Receive(w.deps).execute(handler, r.id)
    r = await s.StartVerification(w.deps).execute(handler, r.id)
    assert r.cross_check is not None
    assert r.cross_check.outcome is CrossCheckOutcome.CLEAR
    with pytest.raises(Forbidden):
        await s.Approve(w.deps).execute(handler, r.id)
    r = await s.Approve(w.deps).execute(boss, r.id)
    r, cert = await s.Issue(w.deps).execute(boss, r.id)
    assert r.status is Status.ISSUED
    assert cert.holder_id == me.id
    assert cert.number == "LLTP-2026-000001-1"
    assert {ref.purpose for ref in cert.status_refs} == {StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION}
    assert w.blobs.data[cert.pdf_key].startswith(b"%PDF")
    content, _ = w.signer.signed[0]
    assert content.verify_url == f"https://x.test/verify/{cert.verify_token}"
    assert content.full_name == "Nguyễn Thị Hương"
    steps = await w.requests.steps(r.id)
    assert [st.to_status for st in steps] == [Status.DRAFT, Status.SUBMITTED, Status.RECEIVED, Status.VERIFYING,
                                              Status.APPROVED, Status.ISSUED]
    assert [st.actor_id for st in steps[2:]] == [handler.id, handler.id, boss.id, boss.id]
    assert [n.template for n in w.notifier.sent] == ["judicial.submitted", "judicial.received", "judicial.verifying",
                                                     "judicial.approved", "judicial.issued"]
    assert all(n.user_id == me.id for n in w.notifier.sent)


async def test_no1_lists_only_unexpunged_convictions_and_no2_lists_all() -> None:
    w = World()
    boss = new_staff()
    w.cross_check.result = CrossCheckResult(outcome=CrossCheckOutcome.RECORDS, checked_at=w.clock.now(), convictions=(
        Conviction(judgment="Bản án 12/2015/HS-ST", offence="Trộm cắp tài sản", sentence="9 tháng tù", expunged=True),
        Conviction(judgment="Bản án 7/2022/HS-ST", offence="Đánh bạc", sentence="Phạt tiền 20.000.000 đồng")))
    for ctype, n in ((CertificateType.NO1, 1), (CertificateType.NO2, 2)):
        r = await submitted(w, certificate_type=ctype)
        for step in (s.Receive, s.StartVerification, s.Approve):
            r = await step(w.deps).execute(boss, r.id)
        await s.Issue(w.deps).execute(boss, r.id)
        assert len(w.signer.signed[-1][0].convictions) == n


async def test_supplement_pauses_the_clock_then_reject_with_reason() -> None:
    w = World()
    me, boss = new_citizen(), new_staff()
    w.population.profiles[me.id] = applicant()
    r = await submitted(w, me, residence_history=(msgspec.structs.replace(history()[0], to_month=None),))
    assert r.deadline_kind is DeadlineKind.NORMAL
    assert r.due_at == datetime(2026, 3, 16, 17, 0, tzinfo=UTC)  # 10 working days
    r = await s.Receive(w.deps).execute(boss, r.id)
    with pytest.raises(InvalidInput):
        await s.RequestSupplement(w.deps).execute(boss, r.id, "  ")
    r = await s.RequestSupplement(w.deps).execute(boss, r.id, "Bổ sung tên vợ/chồng")
    assert r.status is Status.SUPPLEMENT_REQUESTED
    assert r.paused_at is not None
    assert not r.overdue(datetime(2027, 1, 1, tzinfo=UTC))  # paused: never overdue
    w.clock.t += timedelta(days=7)  # Monday 9 March: five working days stood still
    with pytest.raises(InvalidInput):  # a pre-filled field cannot be changed
        await c.Supplement(w.deps).execute(me, r.id, c.SupplementInput(
            note="x", applicant=Applicant(full_name="Nguyễn Văn A")))
    r = await c.Supplement(w.deps).execute(me, r.id, c.SupplementInput(
        note="Đã bổ sung", applicant=Applicant(spouse=applicant().father)))
    assert r.status is Status.SUPPLEMENTED
    assert r.paused_at is None
    assert r.due_at == datetime(2026, 3, 23, 17, 0, tzinfo=UTC)
    r = await s.StartVerification(w.deps).execute(boss, r.id)
    with pytest.raises(InvalidInput):
        await s.Reject(w.deps).execute(boss, r.id, "")
    r = await s.Reject(w.deps).execute(boss, r.id, "Hồ sơ không hợp lệ")
    assert r.status is Status.REJECTED
    assert r.rejection_reason == "Hồ sơ không hợp lệ"
    with pytest.raises(Conflict):
        await s.Approve(w.deps).execute(boss, r.id)
    assert [n.template for n in w.notifier.sent][-2:] == ["judicial.verifying", "judicial.rejected"]


async def test_proxy_no1_needs_the_authorisation_and_no2_by_proxy_is_refused() -> None:
    w = World()
    proxy = new_citizen()
    with pytest.raises(Forbidden) as e:
        await c.StartDraft(w.deps).execute(proxy, draft_input(certificate_type=CertificateType.NO2,
                                                              proxy_relation=ProxyRelation.AUTHORISED))
    assert e.value.code == "judicial.no2_by_proxy"
    r = await c.StartDraft(w.deps).execute(proxy, draft_input(proxy_relation=ProxyRelation.AUTHORISED))
    assert r.prefilled == ()
    assert r.by_proxy
    with pytest.raises(Forbidden):  # cannot switch an existing proxy draft to No. 2 either
        await c.UpdateDraft(w.deps).execute(proxy, r.id, draft_input(certificate_type=CertificateType.NO2,
                                                                     proxy_relation=ProxyRelation.AUTHORISED))
    with pytest.raises(InvalidInput) as missing:
        await c.Submit(w.deps).execute(proxy, r.id)
    assert missing.value.field == "proxy.document"
    with pytest.raises(InvalidInput):
        await c.AttachDocument(w.deps).execute(proxy, r.id, "proxy", b"MZ\x90\x00", "application/pdf")
    doc = await c.AttachDocument(w.deps).execute(proxy, r.id, "proxy", PDF, "application/pdf")
    assert w.blobs.data[doc.key] == PDF
    r = await c.Submit(w.deps).execute(proxy, r.id)
    assert r.status is Status.SUBMITTED
    assert r.proxy is not None
    assert r.proxy.document == doc


async def test_prefill_from_the_population_database_is_marked_and_locked() -> None:
    w = World()
    me = new_citizen()
    w.population.profiles[me.id] = applicant(phone=None, father=None, mother=None)
    r = await c.StartDraft(w.deps).execute(me, draft_input(applicant=Applicant(phone="0987654321")))
    assert "full_name" in r.prefilled
    assert "date_of_birth" in r.prefilled
    assert "phone" not in r.prefilled
    assert r.applicant.phone == "0987654321"
    assert r.applicant.full_name == "Nguyễn Thị Hương"
    with pytest.raises(InvalidInput) as e:
        await c.UpdateDraft(w.deps).execute(me, r.id, draft_input(applicant=Applicant(date_of_birth=date(1990, 1, 1))))
    assert (e.value.field, e.value.rule) == ("applicant.date_of_birth", "prefilled")
    with pytest.raises(InvalidInput) as e:  # father and mother were not known: the citizen types them
        await c.Submit(w.deps).execute(me, r.id)
    assert e.value.field == "applicant.father"
    r = await c.UpdateDraft(w.deps).execute(me, r.id, draft_input(applicant=Applicant(
        full_name="Nguyễn Thị Hương", father=applicant().father, mother=applicant().mother)))
    assert (await c.Submit(w.deps).execute(me, r.id)).status is Status.SUBMITTED


async def test_level2_other_citizens_and_other_authorities() -> None:
    w = World()
    with pytest.raises(Forbidden):
        await c.StartDraft(w.deps).execute(new_citizen(level=1), draft_input())
    me = new_citizen()
    r = await submitted(w, me)
    with pytest.raises(NotFound):
        await c.GetRequest(w.deps).execute(new_citizen(), r.id)
    with pytest.raises(NotFound):  # the police's staff do not see the Department of Justice's request
        await s.Receive(w.deps).execute(new_staff(POLICE), r.id)
    with pytest.raises(Forbidden):
        await s.Queue(w.deps).execute(new_citizen(), s.QueueQuery(), None, 10)
    page = await s.Queue(w.deps).execute(new_staff(DOJ), s.QueueQuery(), None, 10)
    assert [x.id for x in page.items] == [r.id]
    assert (await s.Queue(w.deps).execute(new_staff(POLICE), s.QueueQuery(), None, 10)).items == []


async def test_withdraw_before_processing_only() -> None:
    w = World()
    me = new_citizen()
    draft = await c.StartDraft(w.deps).execute(me, draft_input())
    assert (await c.Withdraw(w.deps).execute(me, draft.id)).status is Status.WITHDRAWN
    assert draft.id not in w.requests.rows  # a withdrawn draft is discarded
    r = await submitted(w, me)
    assert (await c.Withdraw(w.deps).execute(me, r.id, "Không cần nữa")).status is Status.WITHDRAWN
    r = await submitted(w, me)
    await s.Receive(w.deps).execute(new_staff(), r.id)
    with pytest.raises(Conflict):
        await c.Withdraw(w.deps).execute(me, r.id)


async def test_submit_rules_fee_change_and_authority_switch_on_1_july_2026() -> None:
    # 30 June 2026 23:59:59 Hanoi -> Department of Justice; one second later -> police.
    w = World(FakeClock(datetime(2026, 6, 30, 16, 59, 59, tzinfo=UTC)))
    r = await submitted(w)
    assert (r.authority_code, r.authority_unit_id) == ("S-TP", DOJ)
    w.clock.t += timedelta(seconds=1)
    r = await submitted(w)
    assert (r.authority_code, r.authority_unit_id) == ("CA-TP", POLICE)
    me = new_citizen()
    d = await c.StartDraft(w.deps).execute(me, draft_input(delivery=Delivery.POST, postal_address=Address(
        text="Số 1 Tràng Tiền, Hà Nội", province_code="01")))
    with pytest.raises(Conflict) as e:
        await c.Submit(w.deps).execute(me, d.id, accepted_amount_due=0)  # postage is owed
    assert e.value.params == {"amount_due": 30_000}
    d2 = await c.StartDraft(w.deps).execute(me, draft_input(fee_category=FeeCategory.STUDENT))
    with pytest.raises(InvalidInput) as e2:
        await c.Submit(w.deps).execute(me, d2.id)
    assert e2.value.field == "fee_documents"
    d3 = await c.StartDraft(w.deps).execute(me, draft_input(fee_category=FeeCategory.CHILD))
    with pytest.raises(InvalidInput) as e3:
        await c.Submit(w.deps).execute(me, d3.id)
    assert e3.value.rule == "child_age"


async def test_expungement_check_extends_to_15_days_and_queue_shows_overdue() -> None:
    w = World()
    boss = new_staff()
    w.cross_check.answer = CrossCheckOutcome.EXPUNGEMENT_CHECK
    r = await submitted(w, residence_history=(msgspec.structs.replace(history()[0], to_month=None),))
    r = await s.Receive(w.deps).execute(boss, r.id)
    r = await s.StartVerification(w.deps).execute(boss, r.id)
    assert r.deadline_kind is DeadlineKind.EXTENDED
    assert "expungement_check" in r.deadline_reasons
    assert r.due_at == datetime(2026, 3, 23, 17, 0, tzinfo=UTC)
    q = s.QueueQuery(overdue_only=True)
    assert (await s.Queue(w.deps).execute(boss, q, None, 10)).items == []
    w.clock.t = datetime(2026, 3, 23, 17, 0, 1, tzinfo=UTC)
    assert [x.id for x in (await s.Queue(w.deps).execute(boss, q, None, 10)).items] == [r.id]


def test_deadlines_skip_weekends_and_holidays() -> None:
    w = World()
    # Submitted Friday 24 April 2026: Hùng Kings (Sunday 26/4, observed Monday 27/4), 30/4 and 1/5 are
    # days off, so the 10th working day after is Wednesday 13 May.
    got = due_at(w.deps.calendar, datetime(2026, 4, 24, 3, 0, tzinfo=UTC), DeadlineKind.NORMAL)
    assert got == datetime(2026, 5, 13, 17, 0, tzinfo=UTC)
    urgent = due_at(w.deps.calendar, datetime(2026, 4, 24, 3, 0, tzinfo=UTC), DeadlineKind.URGENT)
    assert urgent == datetime(2026, 4, 25, 3, 0, tzinfo=UTC)


async def test_certificate_revocation_flips_status_bits() -> None:
    w = World()
    boss = new_staff()
    r = await submitted(w)
    for step in (s.Receive, s.StartVerification, s.Approve):
        r = await step(w.deps).execute(boss, r.id)
    _, cert = await s.Issue(w.deps).execute(boss, r.id)
    refs = {x.purpose: x for x in cert.status_refs}
    with pytest.raises(Forbidden):
        await s.ChangeCertificateStatus(w.deps).execute(new_staff(DOJ, StaffRole.HANDLER), cert.id, "revoke", "x")
    with pytest.raises(NotFound):
        await s.ChangeCertificateStatus(w.deps).execute(new_staff(POLICE), cert.id, "revoke", "x")
    sus = await s.ChangeCertificateStatus(w.deps).execute(boss, cert.id, "suspend", "Đang xác minh lại")
    assert w.status_lists.bits[(refs[StatusPurpose.SUSPENSION].list_id, refs[StatusPurpose.SUSPENSION].index)]
    assert sus.status(w.clock.now()).value == "suspended"
    rev = await s.ChangeCertificateStatus(w.deps).execute(boss, cert.id, "revoke", "Cấp sai thông tin")
    assert rev.status(w.clock.now()).value == "revoked"
    assert w.status_lists.bits[(refs[StatusPurpose.REVOCATION].list_id, refs[StatusPurpose.REVOCATION].index)]
    assert not w.status_lists.bits[(refs[StatusPurpose.SUSPENSION].list_id, refs[StatusPurpose.SUSPENSION].index)]
    with pytest.raises(Conflict):
        await s.ChangeCertificateStatus(w.deps).execute(boss, cert.id, "reinstate", "x")



async def test_issued_certificate_pdf_for_the_authority_staff_only() -> None:
    w = World()
    boss, handler = new_staff(), new_staff(DOJ, StaffRole.HANDLER)
    r = await submitted(w)
    with pytest.raises(NotFound):  # nothing issued yet
        await s.IssuedCertificatePdf(w.deps).execute(boss, r.id)
    for step in (s.Receive, s.StartVerification, s.Approve):
        r = await step(w.deps).execute(boss, r.id)
    _, cert = await s.Issue(w.deps).execute(boss, r.id)
    got, pdf = await s.IssuedCertificatePdf(w.deps).execute(handler, r.id)
    assert got.id == cert.id
    assert pdf == w.blobs.data[cert.pdf_key]
    for outsider in (new_staff(POLICE), new_citizen()):
        with pytest.raises(NotFound):
            await s.IssuedCertificatePdf(w.deps).execute(outsider, r.id)


async def test_uploaded_documents_for_the_requester_and_the_authority_only() -> None:
    w = World()
    proxy = new_citizen()
    r = await c.StartDraft(w.deps).execute(proxy, draft_input(proxy_relation=ProxyRelation.PARENT))
    doc = await c.AttachDocument(w.deps).execute(proxy, r.id, "proxy", PDF, "application/pdf")
    r = await c.Submit(w.deps).execute(proxy, r.id)
    with pytest.raises(Conflict):  # no upload once submitted (until a supplement is requested)
        await c.AttachDocument(w.deps).execute(proxy, r.id, "proxy", PDF, "application/pdf")
    assert await s.RequestDocument(w.deps).execute(proxy, r.id, doc.key) == ("application/pdf", PDF)
    assert (await s.RequestDocument(w.deps).execute(new_staff(DOJ), r.id, doc.key))[1] == PDF
    for outsider in (new_citizen(), new_staff(POLICE)):
        with pytest.raises(NotFound):
            await s.RequestDocument(w.deps).execute(outsider, r.id, doc.key)
    with pytest.raises(NotFound):
        await s.RequestDocument(w.deps).execute(proxy, r.id, "judicial/other/key")


async def test_a_queue_item_encodes_as_the_requests_view() -> None:
    """The queue's read model has the request's fields in its order (``version`` aside) and then ``overdue`` and
    ``by_proxy``: the JSON the API sends is byte for byte what ``request_out`` made of the entity."""
    from api.judicial.schemas import request_out
    from domain.judicial.model import QueueItem, queue_item

    fields = [f for f in Request.__struct_fields__ if f != "version"]
    assert list(QueueItem.__struct_fields__) == [*fields, "overdue", "by_proxy"]
    w = World()
    r = await submitted(w, new_citizen())
    boss = new_staff(DOJ)
    await s.Receive(w.deps).execute(boss, r.id)
    await s.StartVerification(w.deps).execute(boss, r.id)
    await s.RequestSupplement(w.deps).execute(boss, r.id, "Bổ sung")
    page = await s.QueueItems(w.deps).execute(boss, s.QueueQuery(), None, 10)
    for now in (w.clock.now(), w.clock.now() + timedelta(days=60)):
        for x in (await s.Queue(w.deps).execute(boss, s.QueueQuery(), None, 10)).items:
            assert msgspec.json.encode(queue_item(x, now)) == msgspec.json.encode(request_out(x, now))
    assert [x.id for x in page.items] == [r.id]
