"""Ingestion: a facility sends one encounter as a FHIR Bundle; we store it whole or not at all.

Order of checks: the caller is a registered facility; the bundle is structurally valid FHIR R4
(``StructureValidator``); the business rules hold (``rules.check_bundle``); the patient exists.
Any issue → ``BundleRejected`` with all of them, nothing written. Otherwise the encounter is upserted
by facility + visit identifier: resources matched to what is stored keep their ids, get a new
``meta.versionId`` only when their content changed, and resources no longer sent are removed.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

import msgspec

from domain.errors import Conflict, Forbidden
from domain.health import codes, notifications  # noqa: F401 - registers the templates
from domain.health.extract import columns, diagnoses_of, item
from domain.health.fhirjson import Json, rewrite_references
from domain.health.issues import BundleRejected, Issue, IssueType
from domain.health.model import (
    BUNDLE_PATIENT,
    Demographics,
    EncounterHeader,
    ExistingResource,
    Facility,
    IngestResult,
    PatientRef,
    ResourceOutcome,
    StoredResource,
    bind_patient,
)
from domain.health.ports import Encounters, Facilities, Patients, StructureValidator
from domain.health.rules import CheckedBundle, check_bundle, source_key
from domain.identity.principal import ClientKind, Principal, PrincipalKind
from domain.notifications.model import Notification
from domain.notifications.ports import Notifier
from domain.shared.ids import new_id
from domain.shared.time import Clock

_ENCODER = msgspec.json.Encoder(order="sorted")
_PLAIN = msgspec.json.Encoder()
_BUNDLE_PATIENT_ID = str(BUNDLE_PATIENT)


def content_hash(data: object) -> str:
    return hashlib.sha256(_ENCODER.encode(data)).hexdigest()


def _meta_tail(at: datetime, facility: Facility) -> bytes:
    """The end of every stored resource's ``meta`` after its versionId (the same for a whole bundle)."""
    return _PLAIN.encode({"lastUpdated": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                          "source": f"{codes.NAMESPACE}/facility/{facility.code}"})[1:]


def _stored_json(rtype: str, rid: str, version: int, meta_tail: bytes, body: bytes) -> bytes:
    """``{"resourceType", "id", "meta", …body}`` spliced as bytes: the body is never decoded or re-encoded."""
    head = b'{"resourceType":"%s","id":"%s","meta":{"versionId":"%d",%s' % (
        rtype.encode(), rid.encode(), version, meta_tail)
    return head + (b"," + body[1:] if len(body) > 2 else b"}")


class IngestEncounterBundle:
    def __init__(self, *, facilities: Facilities, patients: Patients, encounters: Encounters,
                 validator: StructureValidator, notifier: Notifier, clock: Clock) -> None:
        self.facilities = facilities
        self.patients = patients
        self.encounters = encounters
        self.validator = validator
        self.notifier = notifier
        self.clock = clock

    async def facility_of(self, principal: Principal) -> Facility:
        if principal.kind is not PrincipalKind.CLIENT or principal.client_kind is not ClientKind.FACILITY:
            raise Forbidden("health.not_a_facility")
        facility = await self.facilities.by_client(principal.id)
        if facility is None or not facility.active:
            raise Forbidden("health.facility_not_registered")
        return facility

    async def execute(self, principal: Principal, bundle: object) -> IngestResult:
        facility = await self.facility_of(principal)
        structure = self.validator.validate(bundle)
        if structure:
            raise BundleRejected(structure + self._rules_despite(bundle, facility, structure))
        assert isinstance(bundle, dict)
        checked, issues = check_bundle(bundle, facility)
        if checked is None or issues:
            raise BundleRejected(issues)
        result, user_id = await self._store(facility, checked)
        if result.created and user_id is not None:
            await self.notifier.notify(Notification(
                user_id=user_id, category="health", template="health.new_visit", object_type="health_visit",
                object_id=str(result.encounter_id), params={"facility": facility.name}))
        return result

    @staticmethod
    def _rules_despite(bundle: object, facility: Facility, structure: list[Issue]) -> list[Issue]:
        """The business issues of a structurally broken bundle too, so one answer lists everything.

        The rules expect valid structure; where the broken part trips them up, only the structural
        issues are reported (the integrator fixes those first).
        """
        if not isinstance(bundle, dict) or any(i.expression in ("Bundle", "Bundle.entry") for i in structure):
            return []
        try:
            _, issues = check_bundle(bundle, facility)
        except (TypeError, AttributeError, KeyError, ValueError, IndexError):
            return []
        seen = {i.expression for i in structure}
        return [i for i in issues if i.expression not in seen]

    async def _store(self, facility: Facility, checked: CheckedBundle) -> tuple[IngestResult, uuid.UUID | None]:
        """The visit stored; (its result, the app user to notify)."""
        now = self.clock.now()
        bundle_hash = hashlib.sha256(b"\n".join(e.body for e in checked.entries)).hexdigest()
        # Most bundles are new visits of known patients: insert them as such straight away, planned for
        # BUNDLE_PATIENT, in the statement that finds (or enrols) the patient and stores the Patient's
        # demographics (no lookup first). A visit sent before makes that insert a no-op, and the update
        # path below takes over.
        header, upserts, _, outcomes = self._plan(facility, BUNDLE_PATIENT, checked, None, {}, bundle_hash, now)
        visit = await self.encounters.insert_new(checked.personal_id, header, upserts,
                                                 self._demographics(checked.patient.resource, now))
        patient = visit.patient
        if patient is None:
            raise BundleRejected([Issue(
                code=IssueType.NOT_FOUND, rule="health.patient_unknown",
                diagnostics="no citizen has this personal ID", expression=f"{checked.patient.path}.identifier")])
        if visit.inserted:
            return IngestResult(encounter_id=header.id, patient_id=patient.id, created=True,
                                resources=tuple(outcomes)), patient.user_id
        return await self._update(facility, patient, checked, bundle_hash, now), patient.user_id

    async def _update(self, facility: Facility, patient: PatientRef, checked: CheckedBundle, bundle_hash: str,
                      now: datetime) -> IngestResult:
        """A visit sent before: matched resources keep their ids; changed ones get a new version."""
        found = await self.encounters.find(facility.id, checked.visit_identifier)
        if found is None:  # removed between the two statements: the client retries
            raise Conflict("health.encounter_concurrent")
        if found.patient_id != patient.id:
            raise BundleRejected([Issue(
                code=IssueType.BUSINESS_RULE, rule="health.encounter_patient_changed",
                diagnostics="this visit identifier was sent before for another patient",
                expression=f"{checked.encounter.path}.identifier")])
        stored = await self.encounters.resources_of(found.id)
        if found.bundle_hash == bundle_hash:  # an identical resend: nothing to write
            return IngestResult(encounter_id=found.id, patient_id=patient.id, created=False, resources=tuple(
                ResourceOutcome(resource_type=r.resource_type, id=r.id, version_id=r.version_id,
                                last_updated=r.last_updated, outcome="unchanged") for r in stored))
        existing = {(r.resource_type, r.source_key): r for r in stored}
        header, upserts, deletes, outcomes = self._plan(facility, patient.id, checked, found, existing, bundle_hash,
                                                        now)
        await self.encounters.update(header, upserts=upserts, deletes=deletes)
        return IngestResult(encounter_id=header.id, patient_id=patient.id, created=False, resources=tuple(outcomes))

    def _plan(self, facility: Facility, patient_id: uuid.UUID, checked: CheckedBundle, found: EncounterHeader | None,
              existing: dict[tuple[str, str], ExistingResource], bundle_hash: str, now: datetime
              ) -> tuple[EncounterHeader, list[StoredResource], list[uuid.UUID], list[ResourceOutcome]]:
        """The rows to write for this bundle, given what is stored (nothing for a new visit).

        References to the Patient always name ``BUNDLE_PATIENT`` in the hashed body; the stored JSON has
        ``patient_id`` bound in unless that is ``BUNDLE_PATIENT`` itself (then the store binds it)."""
        encounter_id = found.id if found is not None else new_id()
        bind = patient_id != BUNDLE_PATIENT
        # Our ids first (kept for resources already stored), so references can be rewritten.
        # (type, id, id as text) by fullUrl; the text is made once (it goes into references and the JSON).
        ids: dict[str, tuple[str, uuid.UUID, str]] = {}
        new_refs: dict[str, str] = {}
        keys: dict[int, tuple[str, str]] = {}
        for entry in checked.entries:
            rtype = entry.type
            if rtype == "Patient":
                rid = BUNDLE_PATIENT
            elif rtype == "Encounter":
                rid = encounter_id
                keys[entry.index] = ("Encounter", source_key(entry))
            else:
                key = (rtype, source_key(entry))
                keys[entry.index] = key
                old = existing.get(key)
                rid = old.id if old else new_id()
            text = str(rid)
            ids[entry.full_url] = (rtype, rid, text)
            new_refs[entry.full_url] = ref = f"{rtype}/{text}"
            own = entry.resource.get("id")
            if isinstance(own, str):
                new_refs[f"{rtype}/{own}"] = ref

        # Every row has a clinical date (lists are ordered by it): its own, else the visit's start.
        encounter_cols = columns("Encounter", checked.encounter.resource)
        visit_date = encounter_cols.date or now
        meta_tail = _meta_tail(now, facility)
        conditions = [e.resource for e in checked.entries if e.type == "Condition"]
        diagnoses = diagnoses_of(conditions)
        upserts: list[StoredResource] = []
        outcomes: list[ResourceOutcome] = []
        seen: set[uuid.UUID] = set()
        for entry in checked.entries:
            if entry.type == "Patient":
                continue
            rtype, rid, rid_text = ids[entry.full_url]
            body = rewrite_references(entry.body, new_refs, entry.refs)
            digest = hashlib.sha256(body).hexdigest()
            old = existing.get(keys[entry.index])
            if old is not None and old.content_hash == digest:
                outcomes.append(ResourceOutcome(resource_type=rtype, id=rid, version_id=old.version_id,
                                                last_updated=old.last_updated, outcome="unchanged"))
                seen.add(rid)
                continue
            version = old.version_id + 1 if old else 1
            resource_json = _stored_json(rtype, rid_text, version, meta_tail, body)
            if bind:
                resource_json = bind_patient(resource_json, patient_id)
            cols = encounter_cols if entry is checked.encounter else columns(rtype, entry.resource)
            if cols.date is None:
                cols.date = visit_date
            upserts.append(StoredResource(
                id=rid, resource_type=rtype, source_key=keys[entry.index][1], patient_id=patient_id,
                facility_id=facility.id, encounter_id=encounter_id, category=cols.category,
                fhir_categories=cols.fhir_categories, codes=cols.codes, date=cols.date, status=cols.status,
                clinical_status=cols.clinical_status, intent=cols.intent, version_id=version, last_updated=now,
                content_hash=digest, resource_json=resource_json,
                item=item(rid, rtype, entry.resource, cols, facility, encounter_id,
                          diagnoses if rtype == "Encounter" else ())))
            outcomes.append(ResourceOutcome(resource_type=rtype, id=rid, version_id=version, last_updated=now,
                                            outcome="updated" if old else "created"))
            seen.add(rid)
        deletes = [r.id for r in existing.values() if r.id not in seen]
        outcomes.extend(ResourceOutcome(resource_type=r.resource_type, id=r.id, version_id=r.version_id,
                                        last_updated=now, outcome="deleted")
                        for r in existing.values() if r.id not in seen)
        header = EncounterHeader(
            id=encounter_id, facility_id=facility.id, patient_id=patient_id, identifier=checked.visit_identifier,
            bundle_hash=bundle_hash, version=(found.version + 1) if found else 1,
            received_at=found.received_at if found else now, updated_at=now,
            insurance_card=next((str(i["value"]) for i in checked.patient.resource.get("identifier", [])
                                 if i.get("system") == codes.HEALTH_INSURANCE and i.get("value")), None))
        return header, upserts, deletes, outcomes

    @staticmethod
    def _demographics(given: Json, now: datetime) -> Demographics:
        """The newest facility's Patient data, without the personal ID (kept only as a keyed hash), naming
        the patient as ``BUNDLE_PATIENT``; the store writes it only when its digest changed (usually not)."""
        body = {k: v for k, v in given.items() if k in ("name", "gender", "birthDate", "address", "telecom",
                                                         "deceasedBoolean", "deceasedDateTime", "communication")}
        others = [i for i in given.get("identifier", []) if i.get("system") != codes.PERSONAL_ID]
        body["identifier"] = [{"system": codes.PATIENT, "value": _BUNDLE_PATIENT_ID}, *others]
        return Demographics(patient_id=BUNDLE_PATIENT, body=body, digest=content_hash(body), at=now)


class ValidateEncounterBundle:
    """``Bundle/$validate`` for integrators: every issue ingestion would raise, nothing stored.

    Runs the thorough structural validator (``fhir.resources`` itself in production) and the same
    business rules as ingestion, including whether the patient is known.
    """

    def __init__(self, ingest: IngestEncounterBundle, thorough: StructureValidator) -> None:
        self.ingest = ingest
        self.thorough = thorough

    async def execute(self, principal: Principal, bundle: object) -> list[Issue]:
        facility = await self.ingest.facility_of(principal)
        issues = self.ingest.validator.validate(bundle)
        seen = {i.expression for i in issues}
        issues += [i for i in self.thorough.validate(bundle) if i.expression not in seen]
        if issues:
            return issues + IngestEncounterBundle._rules_despite(bundle, facility, issues)
        assert isinstance(bundle, dict)
        checked, issues = check_bundle(bundle, facility)
        if checked is not None and not issues and await self.ingest.patients.resolve(checked.personal_id) is None:
            issues.append(Issue(code=IssueType.NOT_FOUND, rule="health.patient_unknown",
                                diagnostics="no citizen has this personal ID",
                                expression=f"{checked.patient.path}.identifier"))
        return issues
