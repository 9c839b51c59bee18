"""Read use cases: the citizen's record in the app, and the FHIR read API (read, search, summary)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import msgspec

from domain.errors import InvalidInput, NotFound
from domain.health.access import Access, AccessPolicy
from domain.health.fhirjson import parse_datetime
from domain.health.model import TYPE_CATEGORIES, Category, RecordItem, StoredPatient, StoredResource
from domain.health.ports import OwnItems, OwnItemsQuery, Patients, Record
from domain.identity.principal import Principal
from domain.shared.paging import MAX_LIMIT, Page, decode_cursor, encode_cursor

# --- the citizen's app view ---------------------------------------------------------------------------


def _cursor_of(r: StoredResource) -> str:
    return encode_cursor(r.date.isoformat() if r.date else "", str(r.id))


def _position(cursor: str | None) -> tuple[datetime | None, uuid.UUID] | None:
    if not cursor:
        return None
    date, rid = decode_cursor(cursor, 2)
    try:
        return (datetime.fromisoformat(date) if date else None), uuid.UUID(rid)
    except ValueError:
        raise InvalidInput(field="cursor", rule="cursor") from None


def _page(rows: list[StoredResource], limit: int) -> Page[RecordItem]:
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=[r.item for r in rows], next_cursor=_cursor_of(rows[-1]) if more and rows else None)


class CitizenRecord:
    """The citizen's own record: timeline (visits) and one list per category, newest first."""

    def __init__(self, policy: AccessPolicy, record: Record) -> None:
        self.policy = policy
        self.record = record

    async def entries(self, principal: Principal, categories: tuple[Category, ...], *, cursor: str | None = None,
                   limit: int = 20) -> Page[RecordItem]:
        if len(categories) == 1:  # the app's lists: one read (Record.own_items)
            query = self.own_query(principal, categories[0], cursor, limit)
            return self.own_page(query, await self.record.own_items(query))
        patient_id = await self.policy.own(principal)
        limit = max(1, min(limit, MAX_LIMIT))
        rows = await self.record.items(patient_id, categories, facility_id=None, before=_position(cursor),
                                       limit=limit + 1)
        return _page(rows, limit)

    def own_query(self, principal: Principal, category: Category, cursor: str | None, limit: int) -> OwnItemsQuery:
        """A page of one category of the caller's own record, checked (a level-2 citizen, a valid cursor)."""
        self.policy.require_citizen(principal)
        return OwnItemsQuery(user_id=principal.id, category=category, before=_position(cursor),
                             limit=max(1, min(limit, MAX_LIMIT)))

    @staticmethod
    def own_page(query: OwnItemsQuery, found: OwnItems) -> Page[RecordItem]:
        """The page ``query`` read (by ``entries``, or by a handler whose one query also checked the caller's
        session): not found when the record does not know the caller."""
        if found.patient_id is None:
            raise NotFound("health.record_not_found")
        return _page(found.rows, query.limit)

    async def detail(self, principal: Principal, item_id: uuid.UUID) -> tuple[RecordItem, list[RecordItem]]:
        """One entry; for a visit, everything recorded during it."""
        patient_id = await self.policy.own(principal)
        found = await self.record.item(patient_id, item_id)
        if found is None:
            raise NotFound("health.item_not_found")
        related: list[RecordItem] = []
        if found.resource_type == "Encounter":
            rows = await self.record.items(patient_id, tuple(Category), facility_id=None, before=None,
                                           limit=MAX_LIMIT, encounter_id=found.id)
            related = [r.item for r in rows if r.id != found.id]
        return found.item, related


# --- FHIR read API ------------------------------------------------------------------------------------

class DateFilter(msgspec.Struct, frozen=True):
    start: datetime | None
    end: datetime | None  # exclusive


_PREFIXES = ("eq", "ge", "le", "gt", "lt")


def parse_date_param(values: tuple[str, ...]) -> DateFilter:
    """FHIR ``date`` search values (``ge2025-01-01``, ``lt2026``, ``2026-03-09``) as one half-open range."""
    start: datetime | None = None
    end: datetime | None = None
    for raw in values:
        prefix, value = (raw[:2], raw[2:]) if raw[:2] in _PREFIXES else ("eq", raw)
        at = parse_datetime(value)
        if at is None:
            raise InvalidInput(field="date", rule="fhir_date")
        # The value's precision decides the width of the interval it names.
        if "T" in value:
            width = timedelta(seconds=1)
        elif len(value) == 4:
            width = timedelta(days=366 if at.year % 4 == 0 else 365)
        elif len(value) == 7:
            nxt = (at.replace(day=28) + timedelta(days=4)).replace(day=1)
            width = nxt - at
        else:
            width = timedelta(days=1)
        lo, hi = at, at + width
        if prefix in ("ge", "eq"):
            start = max(start, lo) if start else lo
        if prefix == "gt":
            start = max(start, hi) if start else hi
        if prefix in ("le", "eq"):
            end = min(end, hi) if end else hi
        if prefix == "lt":
            end = min(end, lo) if end else lo
    return DateFilter(start, end)


class Total(StrEnum):
    """FHIR ``_total``: how the client wants ``Bundle.total`` (optional in a searchset) filled in.

    Without ``_total`` the total is given, as the spec's partners expect (health.md: a searchset "with
    ``total``"), as is ``accurate`` (and ``estimate``, which an exact count satisfies): proven by the page
    itself when it is the last one (offset + its entries), else counted by a statement of its own over the
    index, which reads no resource. ``none`` never gives it and never counts: a client paging through
    ``next`` links saves that statement."""

    NONE = "none"
    ESTIMATE = "estimate"
    ACCURATE = "accurate"


class Search(msgspec.Struct, frozen=True, kw_only=True):
    resource_type: str
    patient_id: uuid.UUID
    category: tuple[str, ...] = ()
    code: tuple[str, ...] = ()
    date: tuple[str, ...] = ()
    clinical_status: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    intent: tuple[str, ...] = ()
    offset: int = 0
    count: int = 20
    total: Total | None = None  # no ``_total``: as ``accurate``


# The searches served (IPA + the spec), by resource type; CapabilityStatement lists exactly these.
SEARCH_PARAMS: dict[str, tuple[str, ...]] = {
    "Observation": ("patient", "category", "code", "date"),
    "Condition": ("patient", "category", "clinical-status", "code"),
    "AllergyIntolerance": ("patient", "clinical-status"),
    "MedicationRequest": ("patient", "intent", "status"),
    "Immunization": ("patient", "date", "status"),
    "Encounter": ("patient", "date", "status"),
    "DiagnosticReport": ("patient", "category", "code", "date"),
    "DocumentReference": ("patient", "category", "type", "date"),
    "Procedure": ("patient", "code", "date"),
    "ServiceRequest": ("patient", "category", "code", "status"),
    "Appointment": ("patient", "date", "status"),
}


class SearchResult(msgspec.Struct, frozen=True, kw_only=True):
    total: int | None  # None: not counted (``Bundle.total`` left out)
    resources: list[StoredResource]
    more: bool = False  # matches follow this page (the ``next`` link)


class SummaryData(msgspec.Struct, frozen=True, kw_only=True):
    patient: StoredPatient
    problems: list[StoredResource]
    allergies: list[StoredResource]
    medications: list[StoredResource]
    immunizations: list[StoredResource]
    results: list[StoredResource]
    procedures: list[StoredResource]


class FhirReads:
    def __init__(self, policy: AccessPolicy, record: Record, patients: Patients) -> None:
        self.policy = policy
        self.record = record
        self.patients = patients

    async def patient(self, principal: Principal, patient_id: uuid.UUID) -> StoredPatient:
        access = await self.policy.open(principal, patient_id)
        found = await self.patients.load(patient_id)
        if found is None:
            raise NotFound("health.record_not_found")
        await self.policy.record_read(access, "read", "Patient")
        return found

    async def read(self, principal: Principal, resource_type: str, resource_id: uuid.UUID) -> StoredResource:
        found = await self.record.read(resource_type, resource_id)
        if found is None:
            raise NotFound("health.resource_not_found")
        try:
            access = await self.policy.open(principal, found.patient_id)
        except NotFound:
            raise NotFound("health.resource_not_found") from None
        if not self._visible(access, found):
            raise NotFound("health.resource_not_found")
        await self.policy.record_read(access, "read", resource_type)
        return found

    @staticmethod
    def _visible(access: Access, r: StoredResource) -> bool:
        return r.category in access.categories and (access.facility_id is None or r.facility_id == access.facility_id)

    async def search(self, principal: Principal, q: Search) -> SearchResult:
        """A page of ``q.count`` matches from ``q.offset``, newest first.

        One row past the page is read to know whether a ``next`` page exists; the matches are counted in a
        statement of their own only when the page does not prove the total and the client did not ask for
        none (``_total=none``)."""
        if q.resource_type not in SEARCH_PARAMS:
            raise InvalidInput("health.search_not_supported", field="resourceType", rule="supported")
        access = await self.policy.open(principal, q.patient_id)
        allowed = access.allowed(TYPE_CATEGORIES[q.resource_type])
        dates = parse_date_param(q.date)
        offset, count = max(0, q.offset), max(0, min(q.count, MAX_LIMIT))
        rows: list[StoredResource] = []
        more = False
        total: int | None = None
        if not allowed:
            total = 0  # nothing of this type is visible to the caller
        else:
            where: dict[str, Any] = dict(
                categories=allowed, facility_id=access.facility_id, category=q.category, code=q.code,
                date_from=dates.start, date_to=dates.end, clinical_status=q.clinical_status, status=q.status,
                intent=q.intent)
            if count:
                rows = await self.record.search(q.patient_id, q.resource_type, **where, offset=offset,
                                                limit=count + 1)
                more = len(rows) > count
                rows = rows[:count]
                if not more and (rows or offset == 0):
                    total = offset + len(rows)  # the last page: the total is proven without counting
            if total is None and q.total is not Total.NONE:
                total = await self.record.count(q.patient_id, q.resource_type, **where)
        what = q.resource_type + ("?category=" + ",".join(q.category) if q.category else "")
        await self.policy.record_read(access, "search", what)
        return SearchResult(total=None if q.total is Total.NONE else total, resources=rows, more=more)

    async def summary(self, principal: Principal, patient_id: uuid.UUID) -> SummaryData:
        """The data of an International Patient Summary (the document is built by the FHIR adapter)."""
        access = await self.policy.open(principal, patient_id)
        patient = await self.patients.load(patient_id)
        if patient is None:
            raise NotFound("health.record_not_found")

        async def section(rtype: str, *, clinical_status: tuple[str, ...] = (), status: tuple[str, ...] = (),
                          category: tuple[str, ...] = ()) -> list[StoredResource]:
            allowed = access.allowed((Category.LABS,) if rtype == "Observation" else TYPE_CATEGORIES[rtype])
            if not allowed:
                return []
            return await self.record.search(patient_id, rtype, categories=allowed, facility_id=access.facility_id,
                                            clinical_status=clinical_status, status=status, category=category,
                                            limit=MAX_LIMIT)

        data = SummaryData(
            patient=patient,
            problems=_latest_by_code(await section("Condition", clinical_status=("active", "recurrence", "relapse"))),
            allergies=_latest_by_code(await section("AllergyIntolerance")),
            medications=_latest_by_code(await section("MedicationRequest", status=("active", "on-hold"))),
            immunizations=await section("Immunization", status=("completed",)),
            results=_latest_by_code(await section("Observation", category=("laboratory",))),
            procedures=await section("Procedure"))
        await self.policy.record_read(access, "summary", "Patient/$summary")
        return data


def _latest_by_code(rows: list[StoredResource]) -> list[StoredResource]:
    """Newest entry per code (a chronic diagnosis repeated at every visit is one problem)."""
    seen: set[str] = set()
    out: list[StoredResource] = []
    for r in rows:  # already newest first
        key = r.codes[0] if r.codes else str(r.id)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


class RecordExport(msgspec.Struct, frozen=True, kw_only=True):
    patient: StoredPatient | None
    items: list[RecordItem]
    resources: list[StoredResource]


class ExportRecord:
    """The citizen's whole record for identity's data export: app items and the FHIR resources."""

    def __init__(self, policy: AccessPolicy, record: Record, patients: Patients) -> None:
        self.policy = policy
        self.record = record
        self.patients = patients

    async def execute(self, principal: Principal, *, batch: int = MAX_LIMIT) -> RecordExport:
        patient_id = await self.policy.own(principal)
        rows: list[StoredResource] = []
        before: tuple[datetime | None, uuid.UUID] | None = None
        while True:
            page = await self.record.items(patient_id, tuple(Category), facility_id=None, before=before, limit=batch)
            rows += page
            if len(page) < batch:
                break
            before = (page[-1].date, page[-1].id)
        return RecordExport(patient=await self.patients.load(patient_id), items=[r.item for r in rows],
                            resources=rows)
