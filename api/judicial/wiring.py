"""Wiring of the judicial context: the e-certificate key material and signers, the working-day
calendar, the issuing authorities (read once from ``units``), and the ports of one unit of work."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from adapters.blobs.local import LocalBlobStore
from adapters.calendar.vietnam import VietnamHolidays
from adapters.dev.judicial_standins import StandInCrossCheck, StandInPopulation
from adapters.postgres.judicial.authorities import load_default_schedule
from adapters.postgres.judicial.fees import PgFeePayments
from adapters.postgres.judicial.repositories import (
    PgCertificates,
    PgRequests,
    PgShareCodes,
    PgStatusLists,
    PgVerifications,
)
from adapters.postgres.notifications.notifier import PgNotifier
from adapters.vc import setup
from api.payments.wiring import intent_canceller, intent_creator
from api.platform.container import Container
from api.platform.settings import Settings
from domain.feedback.calendar import WorkingCalendar, parse_periods
from domain.judicial.authority import AuthoritySchedule
from domain.judicial.fee_payment import CancelFeePayment, OpenFeePayment
from domain.judicial.usecases.common import Deps
from domain.judicial.usecases.common import Settings as JudicialSettings

VERIFY_PATH = "/api/v1/public/judicial/verify"


@dataclass
class JudicialServices:
    settings: Settings
    blobs: LocalBlobStore
    calendar: WorkingCalendar
    cross_check: StandInCrossCheck
    config: JudicialSettings
    _authorities: AuthoritySchedule | None = None
    _certificates: setup.Certificates | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def authorities(self, conn: Any) -> AuthoritySchedule:
        if self._authorities is None:
            self._authorities = await load_default_schedule(conn)
        return self._authorities

    async def certificates(self, conn: Any) -> setup.Certificates:
        """Key rings and PDF signers, built on first use (the authorities come from the database)."""
        if self._certificates is None:
            async with self._lock:
                if self._certificates is None:
                    schedule = await self.authorities(conn)
                    keys = Path(self.settings.data_dir) / "keys" / "judicial"
                    self._certificates = await asyncio.to_thread(
                        setup.build, keys, schedule, self.settings.base_url,
                        generate=self.settings.environment != "production")
        return self._certificates


def build_judicial(settings: Settings, pool: asyncpg.Pool[Any]) -> JudicialServices:
    root = Path(settings.blob_dir) if settings.blob_dir else Path(settings.data_dir) / "blobs"
    calendar = WorkingCalendar(VietnamHolidays(settings.feedback_extra_days_off),
                               parse_periods(settings.feedback_working_hours), settings.feedback_makeup_workdays)
    config = JudicialSettings(verify_base_url=f"{settings.base_url}{VERIFY_PATH}")
    return JudicialServices(settings=settings, blobs=LocalBlobStore(root), calendar=calendar,
                            cross_check=StandInCrossCheck(), config=config)


def services(container: Container) -> JudicialServices:
    return container.get(JudicialServices)


async def judicial_deps(container: Container, conn: Any) -> Deps:
    """The ports of one unit of work (all on the request's connection = one transaction)."""
    s = services(container)
    certs = await s.certificates(conn)
    identity = container.identity
    fees = PgFeePayments(conn)  # what the citizen still owes goes through the payments context
    notifier = PgNotifier(conn, container.clock)  # also writes a transition's notice in its update statement
    return Deps(requests=PgRequests(conn, identity.pii, notifier), certificates=PgCertificates(conn),
                status_lists=PgStatusLists(conn), share_codes=PgShareCodes(conn), verifications=PgVerifications(conn),
                cross_check=s.cross_check, population=StandInPopulation(conn, identity.pii), signer=certs.signer,
                renderer=certs.renderer, blobs=s.blobs, notifier=notifier,
                clock=container.clock, calendar=s.calendar, authorities=await s.authorities(conn),
                attempts=identity.limiter, settings=s.config, fee_payments=fees,
                open_fee_payment=OpenFeePayment(intent_creator(container, conn), fees, container.clock),
                cancel_fee_payment=CancelFeePayment(intent_canceller(container, conn), fees, container.clock))
