"""Serving registry records as FHIR, and importing a Bundle of growth Observations.

Import semantics (docs/FHIR.md): a ``transaction`` Bundle is all or nothing, any
entry's problem rejects it with an OperationOutcome (422) and nothing is stored; a
``batch`` or ``collection`` Bundle stores every visit that is valid and answers a
``batch-response`` with each entry's own status. Each visit goes through the growth
service (:func:`services.registry.growth.service.record_measurement`), so z-scores,
the visit rules and the feed event are exactly those of a visit recorded over the API.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from fastapi import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from common.audit_header import mark_audit
from common.auth import Identity
from common.errors import ProblemError, not_found
from common.i18n import tr
from services.registry.fhir import intake
from services.registry.fhir import repository as repo
from services.registry.fhir import resources as fhir
from services.registry.fhir.intake import BundleIn, EntryIn, Visit
from services.registry.fhir.resources import Issue, Member
from services.registry.fhir.terms import ARM, BMI, BY_KIND, HEAD, HEIGHT, LENGTH, WEIGHT, Quantity
from services.registry.growth import repository as growth_repo
from services.registry.growth import service as growth
from services.registry.growth.schemas import MeasurementCreate
from services.registry.households import repository as households_repo
from services.registry.persons import repository as persons_repo
from services.registry.persons.crypto import KK_CONTEXT, NIK_CONTEXT, pii_codec
from services.registry.persons.service import may_see_pii

PATIENT = {"en": "Patient", "id": "Pasien"}
OBSERVATION = {"en": "Observation", "id": "Observasi"}
GROUP = {"en": "Household", "id": "Rumah tangga"}
IMPORT_PLACE = "other"  # a health-centre system does not say where the child was measured
_FIELD_QUANTITIES: dict[str, tuple[Quantity, ...]] = {
    "weight_kg": (WEIGHT,),
    "height_cm": (LENGTH, HEIGHT),
    "measure": (LENGTH, HEIGHT),
    "head_cm": (HEAD,),
    "muac_cm": (ARM,),
}
_ISSUE_TYPE_BY_STATUS = {404: "not-found", 409: "conflict", 412: "conflict", 422: "business-rule"}


def _nik(row: dict[str, Any]) -> str | None:
    return pii_codec().decrypt(row["nik_enc"], NIK_CONTEXT) if row["nik_enc"] else None


def _audit(
    response: Response, caller: Identity, record_type: str, record_ids: list, subject_ids: list
) -> None:
    if may_see_pii(caller):
        mark_audit(
            response,
            record_type=record_type,
            record_ids=[str(i) for i in record_ids],
            subject_ids=[str(i) for i in subject_ids],
            fields=["nik", "kk_number", "full_name", "birth_date"],
            unmasked=True,
        )


# --- reading ---------------------------------------------------------------------------------


def _subject(person: dict[str, Any], caller: Identity) -> dict[str, Any]:
    unmasked = may_see_pii(caller)
    return fhir.person_reference(person["id"], _nik(person), person["full_name"], unmasked)


async def child_observations(
    session: AsyncSession,
    caller: Identity,
    person_id: uuid.UUID,
    codes: set[str] | None,
    lang: str,
    response: Response,
) -> list[dict[str, Any]]:
    """The current measurements of a child as Observations; none for a child unknown
    or outside the caller's region (a search finds nothing rather than failing)."""
    person = await persons_repo.get_person(session, person_id, caller.region)
    if person is None:
        return []
    rows = await growth_repo.history(session, person_id, include_superseded=False)
    imported = await repo.imported_identifiers(session, [r["id"] for r in rows])
    subject = _subject(person, caller)
    found = [
        obs
        for row in rows
        for obs in fhir.observations(row, subject, lang, imported.get(row["id"]))
        if codes is None or obs["code"]["coding"][0]["code"] in codes
    ]
    _audit(response, caller, "fhir_observation", [r["id"] for r in rows], [person_id])
    return found


async def one_observation(
    session: AsyncSession, caller: Identity, observation_id: str, lang: str, response: Response
) -> dict[str, Any]:
    parts = fhir.split_observation_id(observation_id)
    if parts is None:
        raise not_found(OBSERVATION)
    try:
        measurement_id = uuid.UUID(parts[0])
    except ValueError as exc:
        raise not_found(OBSERVATION) from exc
    row = await growth_repo.get_measurement(session, measurement_id, caller.region)
    if row is None:
        raise not_found(OBSERVATION)
    quantities = fhir.quantities_of(row)
    wanted = BY_KIND[parts[1]]
    if wanted not in quantities:
        raise not_found(OBSERVATION)
    person = await persons_repo.get_person(session, row["person_id"], caller.region)
    if person is None:
        raise not_found(OBSERVATION)
    imported = (await repo.imported_identifiers(session, [measurement_id])).get(measurement_id, {})
    _audit(response, caller, "fhir_observation", [measurement_id], [person["id"]])
    return fhir.observation(
        row,
        wanted,
        _subject(person, caller),
        lang,
        imported=imported.get(wanted.loinc, ()),
        siblings=quantities,
    )


async def one_patient(
    session: AsyncSession, caller: Identity, person_id: uuid.UUID, response: Response
) -> dict[str, Any]:
    person = await persons_repo.get_person(session, person_id, caller.region)
    if person is None:
        raise not_found(PATIENT)
    _audit(response, caller, "fhir_patient", [person_id], [person_id])
    return fhir.patient(person, _nik(person), may_see_pii(caller))


async def one_group(
    session: AsyncSession, caller: Identity, household_id: uuid.UUID, response: Response
) -> dict[str, Any]:
    row = await households_repo.get_household(session, household_id, caller.region)
    if row is None:
        raise not_found(GROUP)
    unmasked = may_see_pii(caller)
    people = await persons_repo.household_people(session, household_id)
    members = [
        Member(
            person_id=p["id"],
            name=p["full_name"],
            relationship=p["member_relationship"],
            since=p["member_since"],
            died=p["end_reason"] == "died",
        )
        for p in people
    ]
    kk = pii_codec().decrypt(row["kk_number_enc"], KK_CONTEXT)
    _audit(response, caller, "fhir_group", [household_id], [p["id"] for p in people])
    return fhir.group(row, kk, members, unmasked)


# --- importing -------------------------------------------------------------------------------


@dataclass
class Stored:
    status: int
    location: str
    notes: list[Issue] = field(default_factory=list)


@dataclass
class ImportReport:
    http_status: int
    body: dict[str, Any]


def _issue(
    code: str, issue_type: str, status: int, en: str, id_: str, where: str | None = None
) -> Issue:
    return Issue(code, issue_type, status, {"en": en, "id": id_}, where)


def _not_found(entry: EntryIn) -> Issue:
    return _issue(
        "patient_not_found",
        "not-found",
        404,
        "No child with this NIK or registry id in your region.",
        "Tidak ada anak dengan NIK atau id registrasi ini di wilayah Anda.",
        f"{entry.where}.resource.subject"
        if entry.resource_type == "Observation"
        else f"{entry.where}.resource.identifier",
    )


async def _resolve_children(session: AsyncSession, caller: Identity, bundle: BundleIn) -> None:
    keyed: list[tuple[EntryIn, intake.SubjectKey]] = []
    for entry in bundle.entries:
        if entry.issues:
            continue
        key = entry.observation.subject if entry.observation else entry.patient_key
        if key is not None:
            keyed.append((entry, key))
    codec = pii_codec()
    hashes = {k.value: codec.hash("nik", k.value) for _, k in keyed if k.kind == "nik"}
    by_hash = await repo.persons_by_nik_hash(session, sorted(set(hashes.values())), caller.region)
    ids = {uuid.UUID(k.value) for _, k in keyed if k.kind == "id"}
    in_scope = await repo.persons_in_scope(session, sorted(ids), caller.region)
    for entry, key in keyed:
        found = by_hash.get(hashes[key.value]) if key.kind == "nik" else uuid.UUID(key.value)
        if found is None or (key.kind == "id" and found not in in_scope):
            entry.fail(_not_found(entry))
        else:
            entry.person_id = found


async def _check_identifiers(
    session: AsyncSession, bundle: BundleIn, stored: dict[int, Stored]
) -> None:
    """Already imported with the same content: nothing to do (200). Already imported
    with other content: a conflict (409)."""
    entries = [e for e in bundle.observations if e.person_id is not None]
    existing = await repo.links(session, [e.observation.identifier for e in entries])  # type: ignore[union-attr]
    for entry in entries:
        obs = entry.observation
        assert obs is not None and entry.person_id is not None
        link = existing.get(obs.identifier)
        if link is None:
            continue
        if link["content_digest"] == intake.content_digest(entry.person_id, obs):
            location = fhir.observation_id(link["measurement_id"], obs.quantity.kind)
            stored[entry.index] = Stored(200, f"Observation/{location}")
        else:
            entry.fail(
                _issue(
                    "identifier_conflict",
                    "conflict",
                    409,
                    f"Identifier {obs.identifier[0]}|{obs.identifier[1]} was imported before "
                    "with a different child, date, code or value; correct the measurement "
                    "instead of re-sending it.",
                    f"Identifier {obs.identifier[0]}|{obs.identifier[1]} sudah pernah diimpor "
                    "dengan anak, tanggal, kode atau nilai yang berbeda; koreksi pengukurannya, "
                    "jangan dikirim ulang.",
                    f"{entry.where}.resource.identifier",
                )
            )


def _visit_body(visit: Visit) -> MeasurementCreate:
    length = visit.value(LENGTH)
    return MeasurementCreate(
        person_id=visit.person_id,
        visit_date=visit.visit_date,
        weight_kg=visit.value(WEIGHT),
        height_cm=length if length is not None else visit.value(HEIGHT),
        measure=visit.measure,
        head_cm=visit.value(HEAD),
        muac_cm=visit.value(ARM),
        place=IMPORT_PLACE,
        posyandu_name=visit.performer,
    )


def _as_text(message: Any) -> dict[str, str]:
    if isinstance(message, dict):
        return {"en": tr(message, "en"), "id": tr(message, "id")}
    return {"en": str(message), "id": str(message)}


def _visit_issues(visit: Visit, exc: ProblemError) -> list[Issue]:
    """The growth service's refusal of a visit, pointed at the entries it concerns."""
    issue_type = _ISSUE_TYPE_BY_STATUS.get(exc.status, "processing")
    issues = []
    for error in exc.errors or [{"loc": [], "msg": exc.detail or exc.title, "code": exc.code}]:
        name = str(error["loc"][-1]) if error.get("loc") else ""
        culprits = [
            e
            for e in visit.entries
            if e.observation and e.observation.quantity in _FIELD_QUANTITIES.get(name, ())
        ] or visit.measured
        for culprit in culprits:
            issues.append(
                Issue(
                    str(error.get("code") or exc.code),
                    issue_type,
                    exc.status,
                    _as_text(error.get("msg") or exc.detail),
                    f"{culprit.where}.resource",
                )
            )
    return issues


def _invalid_values(visit: Visit, exc: ValidationError) -> list[Issue]:
    where = f"{visit.measured[0].where}.resource" if visit.measured else None
    return [
        _issue(
            "value_invalid",
            "value",
            422,
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}",
            f"{'.'.join(str(p) for p in err['loc'])}: nilai tidak valid",
            where,
        )
        for err in exc.errors()
    ]


async def _store_visit(
    session: AsyncSession, caller: Identity, visit: Visit, stored: dict[int, Stored]
) -> list[dict[str, Any]]:
    """Record one visit in its own savepoint; its link rows, or the entries fail."""
    try:
        body = _visit_body(visit)
    except ValidationError as exc:
        issues = _invalid_values(visit, exc)
        for entry in visit.entries:
            entry.issues.extend(issues)
        return []
    try:
        async with session.begin_nested():
            measurement_id = await growth.record_measurement(session, caller, body)
    except ProblemError as exc:
        issues = _visit_issues(visit, exc)
        for entry in visit.entries:
            entry.issues.extend(issues)
        return []
    links = []
    for entry in visit.entries:
        obs = entry.observation
        assert obs is not None
        notes = []
        if obs.quantity is BMI:
            notes.append(
                Issue(
                    "bmi_recomputed",
                    "informational",
                    201,
                    {
                        "en": "BMI is recomputed from the weight and length/height; the value "
                        "sent is not stored.",
                        "id": "IMT dihitung ulang dari berat dan panjang/tinggi badan; nilai "
                        "yang dikirim tidak disimpan.",
                    },
                    f"{entry.where}.resource.valueQuantity",
                    severity="information",
                )
            )
        stored[entry.index] = Stored(
            201, f"Observation/{fhir.observation_id(measurement_id, obs.quantity.kind)}", notes
        )
        links.append(
            {
                "identifier_system": obs.identifier[0],
                "identifier_value": obs.identifier[1],
                "measurement_id": measurement_id,
                "person_id": visit.person_id,
                "loinc_code": obs.quantity.loinc,
                "effective_date": obs.effective,
                "value": obs.value,
                "unit": obs.quantity.unit,
                "content_digest": intake.content_digest(visit.person_id, obs),
                "imported_by": caller.sub,
            }
        )
    return links


def _status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


def _response_bundle(
    bundle: BundleIn, stored: dict[int, Stored], lang: str, now: datetime
) -> dict[str, Any]:
    entries = []
    for entry in bundle.entries:
        response: dict[str, Any]
        if entry.issues:
            status = max(i.status for i in entry.issues)
            response = {
                "status": _status_line(status),
                "outcome": fhir.outcome(entry.issues, lang),
            }
        elif entry.index in stored:
            done = stored[entry.index]
            response = {"status": _status_line(done.status), "location": done.location}
            if done.notes:
                response["outcome"] = fhir.outcome(done.notes, lang)
        else:  # a Patient entry that named a child of the registry
            response = {"status": _status_line(200), "location": f"Patient/{entry.person_id}"}
        entries.append({"response": response})
    kind = "transaction-response" if bundle.all_or_nothing else "batch-response"
    return {
        "resourceType": "Bundle",
        "type": kind,
        "timestamp": fhir.instant(now),
        "entry": entries,
    }


def _rejection(issues: Sequence[Issue], lang: str) -> ImportReport:
    """One status when every issue agrees on it (e.g. 404 for an unknown child), else 422."""
    statuses = {i.status for i in issues}
    return ImportReport(statuses.pop() if len(statuses) == 1 else 422, fhir.outcome(issues, lang))


async def import_bundle(
    session: AsyncSession, caller: Identity, body: Any, lang: str
) -> ImportReport:
    """Read, check and store a Bundle of growth Observations (see the module doc)."""
    try:
        bundle = intake.read_bundle(body)
    except intake.BundleRejected as exc:
        return _rejection(exc.issues, lang)
    stored: dict[int, Stored] = {}
    await _resolve_children(session, caller, bundle)
    await _check_identifiers(session, bundle, stored)
    visits = intake.visits([e for e in bundle.observations if e.index not in stored])
    failed = [i for e in bundle.entries for i in e.issues]
    if bundle.all_or_nothing and failed:
        return _rejection(failed, lang)
    # Everything this import writes sits in one savepoint, so a transaction Bundle
    # that fails late leaves nothing behind while the request's own transaction ends
    # normally (the answer is an OperationOutcome, not an exception).
    outer = await session.begin_nested()
    links: list[dict[str, Any]] = []
    for visit in visits:
        links += await _store_visit(session, caller, visit, stored)
    failed = [i for e in bundle.entries for i in e.issues]
    if bundle.all_or_nothing and failed:
        await outer.rollback()
        return _rejection(failed, lang)
    await repo.insert_links(session, links)
    await outer.commit()
    return ImportReport(200, _response_bundle(bundle, stored, lang, datetime.now(UTC)))
