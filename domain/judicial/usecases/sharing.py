"""The holder's certificates and share codes, and the public verification with a code.

A verifier presents a share code and the holder's date of birth and gets the credential with
its live status. Every use is logged and shown to the holder (who is notified when the
certificate was shown). A No. 2 certificate is never shared with a third party.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import msgspec

from domain.errors import Forbidden, InvalidInput, NotFound, RateLimited
from domain.identity.principal import Principal
from domain.judicial import sharecodes
from domain.judicial.model import (
    Certificate,
    CertificateStatus,
    CertificateType,
    ShareCode,
    Verification,
    VerificationOutcome,
)
from domain.judicial.usecases.common import UseCase, replace
from domain.notifications.model import Notification
from domain.shared.ids import new_id


def _nf() -> NotFound:
    return NotFound("judicial.certificate_not_found")


class MyCertificates(UseCase):
    async def execute(self, principal: Principal) -> list[tuple[Certificate, CertificateStatus]]:
        now = self.d.clock.now()
        return [(c, c.status(now)) for c in await self.d.certificates.mine(principal.id)]


class OwnCertificate(UseCase):
    async def execute(self, principal: Principal, certificate_id: uuid.UUID) -> Certificate:
        cert = await self.d.certificates.get(certificate_id)
        if cert is None or cert.holder_id != principal.id:
            raise _nf()
        return cert


class DownloadPdf(UseCase):
    async def execute(self, principal: Principal, certificate_id: uuid.UUID) -> tuple[Certificate, bytes]:
        cert = await OwnCertificate(self.d).execute(principal, certificate_id)
        data = await self.d.blobs.get(cert.pdf_key)
        if data is None:
            raise _nf()
        return cert, data


class CreateShareCode(UseCase):
    async def execute(self, principal: Principal, certificate_id: uuid.UUID, purpose: str,
                      days: int = sharecodes.DEFAULT_DAYS) -> tuple[ShareCode, str]:
        """The new code (shown once, ``ABC-DEF-GHJ``) and its record."""
        cert = await OwnCertificate(self.d).execute(principal, certificate_id)
        if cert.certificate_type is CertificateType.NO2:
            raise Forbidden("judicial.no2_not_shareable")
        if not purpose.strip():
            raise InvalidInput("judicial.field_required", field="purpose", rule="required")
        if not 1 <= days <= sharecodes.MAX_DAYS:
            raise InvalidInput("judicial.share_days", field="days", rule="range")
        now = self.d.clock.now()
        if cert.status(now) in (CertificateStatus.REVOKED, CertificateStatus.EXPIRED):
            raise InvalidInput("judicial.certificate_not_valid", field="certificate_id", rule="valid")
        code = sharecodes.new_code()
        share = ShareCode(id=new_id(), certificate_id=cert.id, holder_id=principal.id,
                          code_hash=sharecodes.code_hash(code), hint=code[-3:], purpose=purpose.strip(),
                          created_at=now, expires_at=min(now + timedelta(days=days), cert.valid_until))
        await self.d.share_codes.add(share)
        return share, sharecodes.display(code)


class MyShareCodes(UseCase):
    async def execute(self, principal: Principal) -> list[ShareCode]:
        return await self.d.share_codes.for_holder(principal.id)


class RevokeShareCode(UseCase):
    async def execute(self, principal: Principal, share_id: uuid.UUID) -> ShareCode:
        share = await self.d.share_codes.get(share_id, for_update=True)
        if share is None or share.holder_id != principal.id:
            raise NotFound("judicial.share_code_not_found")
        if share.revoked_at is None:
            share = replace(share, revoked_at=self.d.clock.now())
            await self.d.share_codes.save(share)
        return share


class MyVerifications(UseCase):
    async def execute(self, principal: Principal, certificate_id: uuid.UUID | None = None) -> list[Verification]:
        return await self.d.verifications.for_holder(principal.id, certificate_id)


class VerifyInput(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    date_of_birth: date
    verifier: str = ""      # who is checking, as they say (shown to the holder)
    client: str             # a keyed hash of the caller's IP (the API computes it)


class VerificationResult(msgspec.Struct, frozen=True, kw_only=True):
    """``outcome`` SHOWN carries the credential; the others are refusals the API maps to errors.

    The use case returns refusals instead of raising so that the attempt it counted and logged
    commits with the response.
    """

    outcome: VerificationOutcome
    certificate: Certificate | None = None
    status: CertificateStatus | None = None
    purpose: str = ""
    share_expires_at: datetime | None = None
    retry_after: int = 0


class VerifyShareCode(UseCase):
    async def execute(self, cmd: VerifyInput) -> VerificationResult:
        s = self.d.settings
        if self.d.attempts is not None:
            wait = await self.d.attempts.hit(f"judicial.verify.client:{cmd.client}",
                                             s.verify_per_client_per_minute, 60)
            if wait:
                raise RateLimited(wait, "judicial.verify_rate_limited")
        code = sharecodes.normalise(cmd.code)
        if code is None:
            raise NotFound("judicial.share_code_not_found")
        digest = sharecodes.code_hash(code)
        if self.d.attempts is not None:
            wait = await self.d.attempts.hit(f"judicial.verify.code:{digest.hex()}",
                                             s.verify_per_code_per_window, s.verify_code_window_seconds)
            if wait:
                raise RateLimited(wait, "judicial.verify_rate_limited")
        share = await self.d.share_codes.by_hash(digest, for_update=True)
        if share is None:
            raise NotFound("judicial.share_code_not_found")
        cert = await self.d.certificates.get(share.certificate_id)
        if cert is None or cert.certificate_type is CertificateType.NO2:
            raise NotFound("judicial.share_code_not_found")   # never shown to a third party
        now = self.d.clock.now()
        if share.locked_until is not None and now < share.locked_until:
            wait = int((share.locked_until - now).total_seconds()) + 1
            await self._log(share, cert, VerificationOutcome.LOCKED, None, cmd)
            return VerificationResult(outcome=VerificationOutcome.LOCKED, retry_after=wait)
        if cmd.date_of_birth != cert.date_of_birth:
            failed = share.failed_attempts + 1
            locked = now + timedelta(minutes=sharecodes.LOCK_MINUTES) if failed >= sharecodes.MAX_FAILED else None
            await self.d.share_codes.save(replace(share, failed_attempts=0 if locked else failed,
                                                  locked_until=locked))
            await self._log(share, cert, VerificationOutcome.WRONG_DATE_OF_BIRTH, None, cmd)
            return VerificationResult(outcome=VerificationOutcome.WRONG_DATE_OF_BIRTH)
        if share.revoked_at is not None or now >= share.expires_at:
            outcome = (VerificationOutcome.CODE_REVOKED if share.revoked_at is not None
                       else VerificationOutcome.CODE_EXPIRED)
            await self._log(share, cert, outcome, None, cmd)
            return VerificationResult(outcome=outcome)
        if share.failed_attempts:
            await self.d.share_codes.save(replace(share, failed_attempts=0))
        status = cert.status(now)
        await self._log(share, cert, VerificationOutcome.SHOWN, status, cmd)
        await self.d.notifier.notify(Notification(
            user_id=cert.holder_id, category="judicial", template="judicial.verified",
            object_type="judicial_certificate", object_id=str(cert.id),
            params={"number": cert.number, "hint": share.hint, "purpose": share.purpose},
            idempotency_key=f"judicial.verified:{share.id}:{now.isoformat()}"))
        return VerificationResult(outcome=VerificationOutcome.SHOWN, certificate=cert, status=status,
                                  purpose=share.purpose, share_expires_at=share.expires_at)

    async def _log(self, share: ShareCode, cert: Certificate, outcome: VerificationOutcome,
                   status: CertificateStatus | None, cmd: VerifyInput) -> None:
        await self.d.verifications.add(Verification(
            id=new_id(), share_code_id=share.id, certificate_id=cert.id, holder_id=cert.holder_id,
            outcome=outcome, certificate_status=status, purpose=share.purpose, verifier=cmd.verifier[:200],
            client=cmd.client, at=self.d.clock.now()))


class PublicStatus(UseCase):
    """What the PDF's QR link shows: number, type, dates and live status; no personal data."""

    async def execute(self, token: str) -> tuple[Certificate, CertificateStatus]:
        cert = await self.d.certificates.by_verify_token(token)
        if cert is None:
            raise _nf()
        return cert, cert.status(self.d.clock.now())
