"""Who may read a patient's record, within which limits, and the log of every third-party read.

* The patient (a level-2 e-ID user whose personal ID is the patient's) reads everything, unlogged.
* A holder of a share (a doctor who logged in, or a facility) that redeemed the citizen's code reads
  the shared categories until the share expires or is revoked.
* A facility reads what *it* sent about a patient it has treated (its own rows only).
* Anyone else gets ``NotFound``: another citizen's record does not exist for the caller.

Every read by someone other than the patient is written to the access log (who, when, what, why);
the first read by a new reader notifies the citizen.
"""

from __future__ import annotations

import uuid

import msgspec

from domain.errors import Forbidden, NotFound
from domain.health import notifications  # noqa: F401 - registers the templates
from domain.health.model import AccessEntry, Category, ReaderKind, Share
from domain.health.ports import AccessLog, Facilities, Patients, Record, Shares
from domain.identity.principal import ClientKind, Principal, PrincipalKind
from domain.notifications.model import Notification
from domain.notifications.ports import Notifier
from domain.shared.ids import new_id
from domain.shared.time import Clock

ALL_CATEGORIES: tuple[Category, ...] = tuple(Category)


class Access(msgspec.Struct, frozen=True, kw_only=True):
    patient_id: uuid.UUID
    categories: tuple[Category, ...]          # what may be read
    facility_id: uuid.UUID | None = None      # only rows this facility sent
    reader_kind: ReaderKind | None = None     # None: the patient themselves
    reader_id: uuid.UUID | None = None
    reader_name: str = ""
    shares: tuple[Share, ...] = ()

    @property
    def is_patient(self) -> bool:
        return self.reader_kind is None

    def allowed(self, wanted: tuple[Category, ...]) -> tuple[Category, ...]:
        return tuple(c for c in wanted if c in self.categories)


def reader_key(principal: Principal) -> tuple[str, uuid.UUID]:
    return ("user", principal.id) if principal.kind is PrincipalKind.USER else ("client", principal.id)


class AccessPolicy:
    def __init__(self, *, patients: Patients, facilities: Facilities, shares: Shares, record: Record,
                 log: AccessLog, notifier: Notifier, clock: Clock) -> None:
        self.patients = patients
        self.facilities = facilities
        self.shares = shares
        self.record = record
        self.log = log
        self.notifier = notifier
        self.clock = clock

    @staticmethod
    def require_citizen(principal: Principal) -> None:
        """The citizen app reads one's own record: a user with a level-2 e-ID."""
        if principal.kind is not PrincipalKind.USER:
            raise Forbidden("health.citizens_only")
        if principal.level < 2:
            raise Forbidden("health.level2_required")

    async def own(self, principal: Principal) -> uuid.UUID:
        """The caller's own patient id (citizen app); level-2 e-ID required."""
        self.require_citizen(principal)
        patient_id = await self.patients.of_user(principal.id)
        if patient_id is None:
            raise NotFound("health.record_not_found")
        return patient_id

    async def open(self, principal: Principal, patient_id: uuid.UUID) -> Access:
        """The caller's access to this patient's record, or ``NotFound``."""
        now = self.clock.now()
        if principal.kind is PrincipalKind.USER:
            if principal.level < 2:
                raise Forbidden("health.level2_required")
            if await self.patients.of_user(principal.id) == patient_id:
                return Access(patient_id=patient_id, categories=ALL_CATEGORIES)
            return await self._shared(principal, "user", principal.id, "", patient_id, now)
        if principal.kind is PrincipalKind.CLIENT and principal.client_kind is ClientKind.FACILITY:
            facility = await self.facilities.by_client(principal.id)
            if facility is None or not facility.active:
                raise NotFound("health.record_not_found")
            grants = [g.share for g in await self.shares.grants_of("facility", facility.id, patient_id)
                      if g.share.active(now)]
            if grants:
                return self._from_shares(patient_id, grants, ReaderKind.SHARED, facility.id, facility.name)
            if facility.id in await self.record.facilities_of(patient_id):
                return Access(patient_id=patient_id, categories=ALL_CATEGORIES, facility_id=facility.id,
                              reader_kind=ReaderKind.FACILITY, reader_id=facility.id, reader_name=facility.name)
        raise NotFound("health.record_not_found")

    async def _shared(self, principal: Principal, kind: str, reader_id: uuid.UUID, name: str,
                      patient_id: uuid.UUID, now: object) -> Access:
        grants = [g.share for g in await self.shares.grants_of(kind, reader_id, patient_id)
                  if g.share.active(self.clock.now())]
        if not grants:
            raise NotFound("health.record_not_found")
        return self._from_shares(patient_id, grants, ReaderKind.SHARED, reader_id, name or grants[0].recipient)

    @staticmethod
    def _from_shares(patient_id: uuid.UUID, shares: list[Share], kind: ReaderKind, reader_id: uuid.UUID,
                     name: str) -> Access:
        cats: set[Category] = set()
        for s in shares:
            cats.update(s.categories or ALL_CATEGORIES)
        return Access(patient_id=patient_id, categories=tuple(c for c in ALL_CATEGORIES if c in cats),
                      reader_kind=kind, reader_id=reader_id, reader_name=name, shares=tuple(shares))

    async def record_read(self, access: Access, action: str, what: str) -> None:
        """Log a third-party read (no-op for the patient) and tell the citizen about a new reader."""
        if access.is_patient or access.reader_kind is None or access.reader_id is None:
            return
        share = access.shares[0] if access.shares else None
        why = f"share:{share.recipient}" if share else "treatment"
        entry = AccessEntry(id=new_id(), patient_id=access.patient_id, at=self.clock.now(),
                            reader_kind=access.reader_kind, reader_id=access.reader_id,
                            reader_name=access.reader_name or (share.recipient if share else ""), action=action,
                            what=what[:200], why=why[:200], share_id=share.id if share else None)
        first = await self.log.add(entry)
        if first:
            user_id = await self.patients.user_of(access.patient_id)
            if user_id is not None:
                await self.notifier.notify(Notification(
                    user_id=user_id, category="health", template="health.new_reader", object_type="health_access",
                    object_id=str(entry.id), params={"reader": entry.reader_name[:80]},
                    idempotency_key=f"health.new_reader:{access.patient_id}:{access.reader_kind}:{access.reader_id}"))
