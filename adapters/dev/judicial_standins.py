"""Local stand-ins for the judicial context's outside systems (development, tests, the embedded
default): the police/court cross-check with configurable answers, and the population database
behind VNeID's pre-fill.

Production replaces both with adapters over the Ministry of Public Security's and the courts'
interfaces (through the national data integration platform, NDXP); they are ports, so nothing
else changes.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import UTC, date, datetime
from typing import Any

import msgspec

from domain.judicial.model import (
    Address,
    Applicant,
    Ban,
    CertificateType,
    Conviction,
    CrossCheckOutcome,
    CrossCheckResult,
    IdDocument,
)


class CrossCheckAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """A configured answer for one person (matched on name and date of birth)."""

    full_name: str
    date_of_birth: date
    outcome: CrossCheckOutcome
    convictions: tuple[Conviction, ...] = ()
    bans: tuple[Ban, ...] = ()


def _key(name: str, born: date) -> tuple[str, date]:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split()), born


class StandInCrossCheck:
    """Answers "clear" unless an answer was configured for the person (``answers`` or a JSON list
    of ``CrossCheckAnswer`` in ``JUDICIAL_CROSSCHECK_FILE``)."""

    def __init__(self, answers: tuple[CrossCheckAnswer, ...] = ()) -> None:
        self.answers = {_key(a.full_name, a.date_of_birth): a for a in answers}

    @classmethod
    def from_json(cls, data: bytes) -> StandInCrossCheck:
        return cls(msgspec.json.decode(data, type=tuple[CrossCheckAnswer, ...]))

    def configure(self, answer: CrossCheckAnswer) -> None:
        self.answers[_key(answer.full_name, answer.date_of_birth)] = answer

    async def check(self, applicant: Applicant, certificate_type: CertificateType) -> CrossCheckResult:
        now = datetime.now(UTC)
        found = None
        if applicant.full_name and applicant.date_of_birth:
            found = self.answers.get(_key(applicant.full_name, applicant.date_of_birth))
        if found is None:
            return CrossCheckResult(outcome=CrossCheckOutcome.CLEAR, sources=("police-standin", "court-standin"),
                                    checked_at=now)
        return CrossCheckResult(outcome=found.outcome, convictions=found.convictions, bans=found.bans,
                                sources=("police-standin", "court-standin"), checked_at=now)


class StandInPopulation:
    """What VNeID's population database would pre-fill: the account's name, date of birth and ID
    number from our ``users`` row, plus the rest of a configured demo profile."""

    def __init__(self, conn: Any, pii: Any, extra: Applicant | None = None) -> None:
        self.conn = conn
        self.pii = pii
        self.extra = extra or Applicant(
            sex=None, place_of_birth="Hà Nội", nationality="VN", ethnicity="Kinh",
            permanent_residence=Address(text="Số 1 phố Tràng Tiền, phường Hoàn Kiếm, Hà Nội", province_code="01"))

    async def profile(self, user_id: uuid.UUID) -> Applicant | None:
        row = await self.conn.fetchrow(
            "SELECT full_name, date_of_birth, personal_id_enc, level FROM users WHERE id = $1", user_id)
        if row is None or row["level"] < 2:
            return None
        number = self.pii.decrypt(row["personal_id_enc"])
        doc = (IdDocument(kind="cccd", number=number) if self.extra.id_document is None
               else msgspec.structs.replace(self.extra.id_document, number=number))
        return msgspec.structs.replace(self.extra, full_name=row["full_name"], date_of_birth=row["date_of_birth"],
                                       id_document=doc)
