"""Share codes and verification against fakes: the happy path logs and notifies, a wrong date of
birth counts and locks, expired/revoked codes are refused, No. 2 is never shared, limits apply."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.errors import Forbidden, InvalidInput, NotFound, RateLimited
from domain.judicial import sharecodes
from domain.judicial.model import Certificate, CertificateStatus, CertificateType, VerificationOutcome
from domain.judicial.usecases import sharing as sh
from domain.judicial.usecases import staff as s
from tests.support.judicial import World, citizen, staff
from tests.unit.test_judicial_usecases import submitted

DOB = date(1995, 3, 14)


async def issued(w: World, ctype: CertificateType = CertificateType.NO1) -> tuple[Certificate, object]:
    me, boss = citizen(), staff()
    r = await submitted(w, me, certificate_type=ctype)
    for step in (s.Receive, s.StartVerification, s.Approve):
        r = await step(w.deps).execute(boss, r.id)
    _, cert = await s.Issue(w.deps).execute(boss, r.id)
    return cert, me


def verify(code: str, dob: date = DOB, client: str = "c1") -> sh.VerifyInput:
    return sh.VerifyInput(code=code, date_of_birth=dob, verifier="Công ty TNHH Minh An", client=client)


def test_codes_are_9_unambiguous_characters() -> None:
    codes = {sharecodes.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(x) == 9 and not set(x) & set("01ILOU") for x in codes)
    code = next(iter(codes))
    assert sharecodes.normalise(sharecodes.display(code).lower()) == code
    assert sharecodes.normalise("ABC-DEF-GH1") is None
    assert sharecodes.normalise("ABCD") is None


async def test_share_verify_log_and_notify() -> None:
    w = World()
    cert, me = await issued(w)
    share, code = await sh.CreateShareCode(w.deps).execute(me, cert.id, "Tuyển dụng kế toán", days=30)  # type: ignore[arg-type]
    assert len(code) == 11
    assert share.hint == code[-3:]
    assert share.code_hash != code.encode()
    result = await sh.VerifyShareCode(w.deps).execute(verify(code))
    assert result.outcome is VerificationOutcome.SHOWN
    assert result.status is CertificateStatus.VALID
    assert result.certificate is not None
    assert result.certificate.vc_jwt == cert.vc_jwt
    log = await sh.MyVerifications(w.deps).execute(me)  # type: ignore[arg-type]
    assert [(v.outcome, v.verifier, v.purpose) for v in log] == [
        (VerificationOutcome.SHOWN, "Công ty TNHH Minh An", "Tuyển dụng kế toán")]
    assert w.notifier.sent[-1].template == "judicial.verified"
    assert w.notifier.sent[-1].user_id == cert.holder_id
    # The live status follows the certificate.
    await s.ChangeCertificateStatus(w.deps).execute(staff(), cert.id, "revoke", "Cấp nhầm")
    assert (await sh.VerifyShareCode(w.deps).execute(verify(code))).status is CertificateStatus.REVOKED


async def test_wrong_date_of_birth_counts_then_locks() -> None:
    w = World()
    cert, me = await issued(w)
    _, code = await sh.CreateShareCode(w.deps).execute(me, cert.id, "Xin visa")  # type: ignore[arg-type]
    for _ in range(sharecodes.MAX_FAILED):
        r = await sh.VerifyShareCode(w.deps).execute(verify(code, date(1995, 3, 15)))
        assert r.outcome is VerificationOutcome.WRONG_DATE_OF_BIRTH
        assert r.certificate is None
    locked = await sh.VerifyShareCode(w.deps).execute(verify(code))  # even the right date now waits
    assert locked.outcome is VerificationOutcome.LOCKED
    assert locked.retry_after > 0
    w.clock.t += timedelta(minutes=sharecodes.LOCK_MINUTES, seconds=1)
    assert (await sh.VerifyShareCode(w.deps).execute(verify(code))).outcome is VerificationOutcome.SHOWN
    outcomes = [v.outcome for v in await sh.MyVerifications(w.deps).execute(me)]  # type: ignore[arg-type]
    assert outcomes.count(VerificationOutcome.WRONG_DATE_OF_BIRTH) == 5


async def test_expired_and_revoked_codes_and_unknown_codes() -> None:
    w = World()
    cert, me = await issued(w)
    _share, code = await sh.CreateShareCode(w.deps).execute(me, cert.id, "Xin việc", days=1)  # type: ignore[arg-type]
    w.clock.t += timedelta(days=1)
    assert (await sh.VerifyShareCode(w.deps).execute(verify(code))).outcome is VerificationOutcome.CODE_EXPIRED
    share2, code2 = await sh.CreateShareCode(w.deps).execute(me, cert.id, "Xin việc")  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await sh.RevokeShareCode(w.deps).execute(citizen(), share2.id)
    await sh.RevokeShareCode(w.deps).execute(me, share2.id)  # type: ignore[arg-type]
    assert (await sh.VerifyShareCode(w.deps).execute(verify(code2))).outcome is VerificationOutcome.CODE_REVOKED
    with pytest.raises(NotFound):
        await sh.VerifyShareCode(w.deps).execute(verify(sharecodes.display(sharecodes.new_code())))
    with pytest.raises(InvalidInput):
        await sh.CreateShareCode(w.deps).execute(me, cert.id, "x", days=91)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await sh.CreateShareCode(w.deps).execute(citizen(), cert.id, "x")


async def test_no2_is_never_shared() -> None:
    w = World()
    cert, me = await issued(w, CertificateType.NO2)
    with pytest.raises(Forbidden) as e:
        await sh.CreateShareCode(w.deps).execute(me, cert.id, "Xin việc")  # type: ignore[arg-type]
    assert e.value.code == "judicial.no2_not_shareable"


async def test_rate_limits_per_client_and_per_code() -> None:
    w = World()
    cert, me = await issued(w)
    _, code = await sh.CreateShareCode(w.deps).execute(me, cert.id, "Xin việc")  # type: ignore[arg-type]
    limit = w.deps.settings.verify_per_code_per_window
    for i in range(limit):
        await sh.VerifyShareCode(w.deps).execute(verify(code, client=f"ip{i}"))
    with pytest.raises(RateLimited):  # the same code from a new client: per-code limit
        await sh.VerifyShareCode(w.deps).execute(verify(code, client="fresh"))
    for _ in range(w.deps.settings.verify_per_client_per_minute):
        with pytest.raises(NotFound):
            await sh.VerifyShareCode(w.deps).execute(verify(sharecodes.new_code(), client="guesser"))
    with pytest.raises(RateLimited):  # guessing codes from one client: per-client limit
        await sh.VerifyShareCode(w.deps).execute(verify(sharecodes.new_code(), client="guesser"))
