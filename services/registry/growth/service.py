"""Recording, correcting and reading a child's measurements; posyandu uploads.

One counted measurement per child per month (DOMAIN.md): every visit is kept, and of a
child's current visits in a calendar month the latest visit date counts (same date: the
one recorded last). A second visit on the same date is refused (correct the first
instead), so re-sending a posyandu file does not double anything.
"""

import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, cast

import numpy as np
import orjson
from fastapi import Response
from sqlalchemy.ext.asyncio import AsyncSession

from common.audit_header import mark_audit
from common.auth import Identity
from common.clock import today
from common.errors import ProblemError, field_error, not_found
from common.etag import stale
from common.feed import emit
from common.ids import uuid7
from common.pii import mask_birth_date, mask_name
from common.scoping import require_writable_region
from services.registry.growth import ENGINE_VERSION
from services.registry.growth import repository as repo
from services.registry.growth.age import DAYS_PER_MONTH
from services.registry.growth.bulk import BulkResult, compute_bulk
from services.registry.growth.classify import SCHEMES
from services.registry.growth.csv_io import parse_columns
from services.registry.growth.issues import WARNINGS, decode_errors, decode_warnings
from services.registry.growth.models import (
    CLASSIFIED_INDICATORS,
    INDICATORS,
    GrowthResult,
    MeasurementInput,
)
from services.registry.growth.rules import (
    ALREADY_RECORDED,
    BIRTH_DATE_MISMATCH,
    DUPLICATE_ROW,
    IDENTIFIER_MISMATCH,
    NAME_MISMATCH,
    PERSON_MERGED,
    PERSON_NOT_FOUND,
    SEX_MISMATCH,
    VisitIssue,
    check_visit,
    from_engine,
    names_agree,
)
from services.registry.growth.schemas import (
    ChildRead,
    ClassRead,
    IssueRead,
    MeasurementCorrection,
    MeasurementCreate,
    MeasurementRead,
    MeasurementValues,
)
from services.registry.growth.upload import ENGINE_COLUMNS, Sheet
from services.registry.growth.validation import InputColumns
from services.registry.growth.zscores import Z_DISPLAY_DECIMALS, compute_zscores
from services.registry.persons.crypto import pii_codec

CHILD = {"en": "Child", "id": "Anak"}
MEASUREMENT = {"en": "Measurement", "id": "Pengukuran"}
RECORDED = "measurement.recorded"
CORRECTED = "measurement.corrected"
PAYLOAD_KEYS = (
    "person_id",
    "household_id",
    "village_code",
    "visit_date",
    "sex",
    "birth_date",
    "age_days",
    "weight_kg",
    "height_cm",
    "measure",
    "oedema",
    "head_cm",
    "muac_cm",
    "place",
    *(f"z{name}" for name in INDICATORS),
    *(f"f{name}" for name in INDICATORS),
    *(f"class_{name}" for name in CLASSIFIED_INDICATORS),
    "supersedes",
)
_LABELS = {name: {c.code: c.label for c in SCHEMES[name].classes} for name in CLASSIFIED_INDICATORS}
_WARNING_BY_CODE = {w.code: w for w in WARNINGS}
# Engine fields that the registry supplies itself (sex, birth date) or derives from the
# visit date: their errors are reported through the person and visit-date checks.
_REGISTRY_FIELDS = frozenset({"sex", "birth_date"})
_AGE_FIELDS = frozenset({"age_days", "visit_date"})


# --- problems ------------------------------------------------------------------------------


def visit_problem(issues: Sequence[VisitIssue]) -> ProblemError:
    first = issues[0]
    return ProblemError(
        first.status,
        first.code,
        detail=first.message,
        errors=[field_error(["body", i.field], i.message, i.code) for i in issues],
    )


async def load_child(
    session: AsyncSession, person_id: uuid.UUID, caller: Identity, *, lock: bool = False
) -> dict[str, Any]:
    child = await repo.get_child(session, person_id, caller.region, lock=lock)
    if child is None:
        raise not_found(CHILD)
    return child


def _writable_child(child: dict[str, Any], caller: Identity) -> None:
    require_writable_region(caller, child["village_code"])
    if child["merged_into"] is not None:
        raise visit_problem([PERSON_MERGED])


# --- scoring -------------------------------------------------------------------------------


def score_visit(values: MeasurementValues, child: dict[str, Any]) -> GrowthResult:
    """z-scores of one visit with the registry's sex and birth date; a problem (nothing
    stored) if the visit or its values are not acceptable."""
    issues = check_visit(values.visit_date, child["birth_date"], child["death_date"], today())
    if issues:
        raise visit_problem(issues)
    result = compute_zscores(
        MeasurementInput(
            sex=child["sex"],
            age_days=(values.visit_date - child["birth_date"]).days,
            weight_kg=values.weight_kg,
            height_cm=values.height_cm,
            measure=values.measure,
            oedema=values.oedema,
            head_cm=values.head_cm,
            muac_cm=values.muac_cm,
        )
    )
    if result.errors:
        raise visit_problem([from_engine(e) for e in result.errors])
    return result


def stored_values(
    values: MeasurementValues,
    child: dict[str, Any],
    result: GrowthResult,
    caller: Identity,
    **extra: Any,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": uuid7(),
        "person_id": child["id"],
        "household_id": child["household_id"],
        "village_code": child["village_code"],
        "visit_date": values.visit_date,
        "sex": child["sex"],
        "birth_date": child["birth_date"],
        "age_days": (values.visit_date - child["birth_date"]).days,
        "weight_kg": values.weight_kg,
        "height_cm": values.height_cm,
        "measure": values.measure,
        "oedema": values.oedema,
        "head_cm": values.head_cm,
        "muac_cm": values.muac_cm,
        "place": values.place,
        "posyandu_name": values.posyandu_name,
        "height_used_cm": result.height_used_cm,
        "measure_used": result.measure_used,
        "bmi": result.bmi,
        "warnings": [w.code for w in result.warnings],
        "engine_version": ENGINE_VERSION,
        "recorded_by": caller.sub,
        "supersedes": None,
        "correction_reason": None,
        **extra,
    }
    for name in INDICATORS:
        row[f"z{name}"] = getattr(result, f"z{name}")
        row[f"f{name}"] = getattr(result, f"f{name}")
    for name in CLASSIFIED_INDICATORS:
        cls = getattr(result, f"class_{name}")
        row[f"class_{name}"] = cls.code if cls else None
    return row


def _month(day: date) -> date:
    return day.replace(day=1)


def measurement_payload(row: Mapping[str, Any]) -> dict[str, Any]:
    """The payload of measurement.* events (docs/CONTRACTS.md): ids, codes, dates and
    values, never a name or NIK."""
    return {"measurement_id": row["id"], **{key: row[key] for key in PAYLOAD_KEYS}}


async def _emit(session: AsyncSession, event_type: str, row: dict[str, Any]) -> None:
    await emit(
        session,
        event_type,
        "measurement",
        row["id"],
        measurement_payload(row),
        region_code=row["village_code"],
    )


# --- single visits -------------------------------------------------------------------------


async def record_measurement(
    session: AsyncSession, caller: Identity, body: MeasurementCreate
) -> uuid.UUID:
    """Store one visit with its z-scores and publish ``measurement.recorded``."""
    child = await load_child(session, body.person_id, caller, lock=True)
    _writable_child(child, caller)
    result = score_visit(body, child)
    existing = await repo.recorded_on(session, child["id"], body.visit_date)
    if existing is not None:
        raise ProblemError(
            409,
            ALREADY_RECORDED.code,
            detail=ALREADY_RECORDED.message,
            extra={"measurement_id": str(existing)},
        )
    row = stored_values(body, child, result, caller, source="api")
    await repo.insert_measurement(session, row)
    await repo.recount_months(session, child["id"], [_month(body.visit_date)])
    await _emit(session, RECORDED, row)
    return row["id"]


async def correct_measurement(
    session: AsyncSession,
    caller: Identity,
    measurement_id: uuid.UUID,
    version: int,
    body: MeasurementCorrection,
) -> uuid.UUID:
    """Replace a current measurement with a corrected one; the old one is kept with
    ``superseded_by`` set. Publishes ``measurement.corrected`` for the new one."""
    found = await repo.get_measurement(session, measurement_id, caller.region)
    if found is None:
        raise not_found(MEASUREMENT)
    # The child first, then the measurement: the same lock order as new visits.
    child = await load_child(session, found["person_id"], caller, lock=True)
    _writable_child(child, caller)
    old = await repo.get_measurement(session, measurement_id, caller.region, lock=True)
    if old is None:
        raise not_found(MEASUREMENT)
    if old["superseded_by"] is not None:
        raise ProblemError(
            409,
            "measurement_superseded",
            detail={
                "en": f"This measurement was already corrected by {old['superseded_by']}; "
                "correct that one.",
                "id": f"Pengukuran ini sudah dikoreksi oleh {old['superseded_by']}; "
                "koreksi yang itu.",
            },
            extra={"superseded_by": str(old["superseded_by"])},
        )
    if old["version"] != version:
        raise stale()
    result = score_visit(body, child)
    existing = await repo.recorded_on(session, child["id"], body.visit_date)
    if existing is not None and existing != measurement_id:
        raise ProblemError(
            409,
            ALREADY_RECORDED.code,
            detail=ALREADY_RECORDED.message,
            extra={"measurement_id": str(existing)},
        )
    row = stored_values(
        body,
        child,
        result,
        caller,
        source="api",
        supersedes=measurement_id,
        correction_reason=body.reason,
    )
    await repo.insert_measurement(session, row)
    if not await repo.supersede(session, measurement_id, row["id"], version):
        raise stale()
    months = {_month(old["visit_date"]), _month(body.visit_date)}
    await repo.recount_months(session, child["id"], sorted(months))
    await _emit(session, CORRECTED, row)
    return row["id"]


# --- views -----------------------------------------------------------------------------------


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, Z_DISPLAY_DECIMALS) + 0.0


def _class(indicator: str, code: str | None) -> ClassRead | None:
    return None if code is None else ClassRead(code=code, label=_LABELS[indicator][code])


def measurement_view(row: dict[str, Any], caller: Identity) -> MeasurementRead:
    """A stored visit for the API: birth date (year) and no exact age in days unless the
    caller may unmask (age in days and the visit date would give the birth date away)."""
    unmasked = caller.may_unmask
    z = {f"z{n}": _rounded(row[f"z{n}"]) for n in INDICATORS}
    flags = {f"f{n}": row[f"f{n}"] for n in INDICATORS}
    classes = {f"class_{n}": _class(n, row[f"class_{n}"]) for n in CLASSIFIED_INDICATORS}
    warnings = [
        IssueRead(code=w.code, field=w.field, message=w.message)
        for w in (_WARNING_BY_CODE[c] for c in row["warnings"] if c in _WARNING_BY_CODE)
    ]
    return MeasurementRead(
        id=row["id"],
        person_id=row["person_id"],
        household_id=row["household_id"],
        village_code=row["village_code"],
        visit_date=row["visit_date"],
        sex=row["sex"],
        birth_date=row["birth_date"].isoformat()
        if unmasked
        else mask_birth_date(row["birth_date"]),
        age_days=row["age_days"] if unmasked else None,
        age_months=math.floor(row["age_days"] / DAYS_PER_MONTH),
        weight_kg=row["weight_kg"],
        height_cm=row["height_cm"],
        measure=row["measure"],
        head_cm=row["head_cm"],
        muac_cm=row["muac_cm"],
        oedema=row["oedema"],
        place=row["place"],
        posyandu_name=row["posyandu_name"],
        height_used_cm=row["height_used_cm"],
        measure_used=row["measure_used"],
        bmi=_rounded(row["bmi"]),
        **z,
        **flags,
        **classes,
        warnings=warnings,
        counted=row["counted"],
        supersedes=row["supersedes"],
        superseded_by=row["superseded_by"],
        correction_reason=row["correction_reason"],
        source=row["source"],
        upload_id=row["upload_id"],
        engine_version=row["engine_version"],
        recorded_at=row["recorded_at"],
        version=row["version"],
        masked=not unmasked,
    )


def child_view(child: dict[str, Any], caller: Identity) -> ChildRead:
    unmasked = caller.may_unmask
    return ChildRead(
        id=child["id"],
        full_name=child["full_name"] if unmasked else mask_name(child["full_name"]),
        sex=child["sex"],
        birth_date=child["birth_date"].isoformat()
        if unmasked
        else mask_birth_date(child["birth_date"]),
        village_code=child["village_code"],
        household_id=child["household_id"],
        alive=child["death_date"] is None,
        masked=not unmasked,
    )


def audit_unmasked(
    response: Response,
    caller: Identity,
    *,
    record_type: str,
    record_ids: Sequence[uuid.UUID],
    person_id: uuid.UUID,
    fields: list[str],
) -> None:
    """Tell the gateway a child's personal data was shown unmasked (nothing when masked)."""
    if caller.may_unmask:
        mark_audit(
            response,
            record_type=record_type,
            record_ids=[str(i) for i in record_ids],
            subject_ids=[str(person_id)],
            fields=fields,
            unmasked=True,
        )


# --- posyandu uploads -----------------------------------------------------------------------


def _resolve_rows(sheet: Sheet, found: list[dict[str, Any]], on: date) -> list[dict | None]:
    """The registry person of each row, or None with the row's errors added."""
    resolved: list[dict | None] = [None] * len(sheet)
    for i, f in enumerate(found):
        key_column = "nik" if sheet.nik[i] else "person_id"
        if sheet.errors[i] and any(e.field in ("nik", "person_id") for e in sheet.errors[i]):
            continue
        unknown = (
            f["id"] is None
            or (sheet.person_id[i] is not None and f["by_id"] is None)
            or (sheet.nik[i] is not None and f["by_nik"] is None)
        )
        if unknown:
            _add(sheet, i, PERSON_NOT_FOUND, key_column)
            continue
        if f["by_id"] is not None and f["by_nik"] is not None and f["by_id"] != f["by_nik"]:
            _add(sheet, i, IDENTIFIER_MISMATCH)
            continue
        if f["merged_into"] is not None:
            _add(sheet, i, PERSON_MERGED, key_column)
            continue
        resolved[i] = f
        if sheet.sex[i] is not None and sheet.sex[i] != f["sex"]:
            _add(sheet, i, SEX_MISMATCH)
        if sheet.birth_date[i] is not None and sheet.birth_date[i] != f["birth_date"]:
            _add(sheet, i, BIRTH_DATE_MISMATCH)
        if not names_agree(sheet.name[i], f["full_name"]):
            _add(sheet, i, NAME_MISMATCH)
        visit = sheet.visit_date[i]
        if visit is not None:
            for issue in check_visit(visit, f["birth_date"], f["death_date"], on):
                _add(sheet, i, issue)
    return resolved


def _add(sheet: Sheet, i: int, issue: VisitIssue, column: str | None = None) -> None:
    sheet.error(i, column or issue.field, issue.code, issue.message)


def _score(sheet: Sheet, resolved: list[dict | None]) -> tuple[InputColumns, BulkResult]:
    """The engine's bulk path over every row, with the registry's sex and birth date;
    its row errors are added to the sheet's."""
    table: dict[str, Sequence[object]] = {
        "sex": [p["sex"] if p else None for p in resolved],
        "birth_date": [p["birth_date"] if p else None for p in resolved],
        "visit_date": sheet.visit_date,
        **{name: sheet.cells[name] for name in ENGINE_COLUMNS},
    }
    cols = parse_columns(table, len(sheet))
    result = compute_bulk(cols)
    for i in np.flatnonzero(result.errors).tolist():
        usable_age = resolved[i] is not None and sheet.visit_date[i] is not None
        present = {(e.field, e.code) for e in sheet.errors[i]}
        for issue in decode_errors(int(result.errors[i])):
            visit_issue = from_engine(issue)
            if issue.field in _REGISTRY_FIELDS or (issue.field in _AGE_FIELDS and not usable_age):
                continue
            if (visit_issue.field, visit_issue.code) not in present:
                _add(sheet, i, visit_issue)
    return cols, result


def _values(array: np.ndarray, rows: np.ndarray) -> list[float | None]:
    """Floats of the chosen rows, None for NaN."""
    return [None if v != v else v for v in array[rows].tolist()]


def _coded(codes: np.ndarray, rows: np.ndarray, mapping: Sequence[object]) -> list[Any]:
    """``mapping[code + 1]`` for each chosen row (codes start at -1 or 0)."""
    lookup = np.array(mapping, dtype=object)
    return lookup[codes[rows].astype(np.int64) + 1].tolist()


def _scored_columns(
    sheet: Sheet,
    resolved: list[dict | None],
    valid: list[int],
    cols: InputColumns,
    result: BulkResult,
) -> dict[str, list[Any]]:
    """The measurement columns of the valid rows, column by column from the arrays."""
    rows = np.array(valid, dtype=np.int64)
    people = [cast(dict[str, Any], resolved[i]) for i in valid]
    visits = [sheet.visit_date[i] for i in valid]
    flag_values = (None, False, True)
    warning_masks, inverse = np.unique(result.warnings[rows], return_inverse=True)
    warning_codes = [[w.code for w in decode_warnings(int(m))] for m in warning_masks.tolist()]
    out: dict[str, list[Any]] = {
        "person_id": [p["id"] for p in people],
        "household_id": [p["household_id"] for p in people],
        "village_code": [p["village_code"] for p in people],
        "visit_date": visits,
        "sex": [p["sex"] for p in people],
        "birth_date": [p["birth_date"] for p in people],
        "age_days": [(v - p["birth_date"]).days for v, p in zip(visits, people, strict=True)],
        "weight_kg": _values(cols.weight_kg, rows),
        "height_cm": _values(cols.height_cm, rows),
        "measure": _coded(cols.measure, rows, (None, None, "l", "h")),
        "oedema": cols.oedema[rows].tolist(),
        "head_cm": _values(cols.head_cm, rows),
        "muac_cm": _values(cols.muac_cm, rows),
        "place": [sheet.place[i] for i in valid],
        "posyandu_name": [sheet.posyandu[i] for i in valid],
        "height_used_cm": _values(result.height_used_cm, rows),
        "measure_used": _coded(result.measure_used, rows, (None, None, "l", "h")),
        "bmi": _values(result.bmi, rows),
        "warnings": [warning_codes[k] for k in inverse.reshape(-1).tolist()],
    }
    for name in INDICATORS:
        out[f"z{name}"] = _values(result.z[name], rows)
        out[f"f{name}"] = _coded(result.flags[name], rows, flag_values)
    for name in CLASSIFIED_INDICATORS:
        codes = (None, *(c.code for c in SCHEMES[name].classes))
        out[f"class_{name}"] = _coded(result.classes[name], rows, codes)
    return out


async def upload_session(
    session: AsyncSession, caller: Identity, sheet: Sheet, file_name: str | None
) -> dict[str, Any]:
    """Store every valid row of a posyandu file; report the others row by row.

    A row with any error is left out whole. Set-based: the rows' keys are staged with
    COPY and resolved in one query, z-scores come from the engine's bulk path, the valid
    rows are inserted in one statement and their events in another. Returns the
    :class:`UploadReport` as a plain dict (thousands of rows: no per-row model).
    """
    n = len(sheet)
    on = today()
    await repo.bulk_settings(session)
    hashes = pii_codec().hash_many("nik", sheet.nik)
    await repo.stage_keys(
        session,
        [(i, sheet.person_id[i], hashes[i], sheet.visit_date[i]) for i in range(n)],
    )
    resolved = _resolve_rows(sheet, await repo.resolve_staged(session, caller.region), on)
    people = sorted({p["id"] for p in resolved if p is not None})
    await repo.lock_children(session, people)

    keyed = [
        (i, p["id"], sheet.visit_date[i])
        for i, p in enumerate(resolved)
        if p is not None and sheet.visit_date[i] is not None
    ]
    recorded = await repo.already_recorded(session, [k[1] for k in keyed], [k[2] for k in keyed])
    seen: set[tuple[uuid.UUID, date]] = set()
    for i, person_id, visit in keyed:
        if (person_id, visit) in recorded:
            _add(sheet, i, ALREADY_RECORDED)
        elif (person_id, visit) in seen:
            _add(sheet, i, DUPLICATE_ROW)
        seen.add((person_id, visit))

    cols, result = _score(sheet, resolved)
    valid = [i for i in range(n) if not sheet.errors[i] and resolved[i] is not None]
    errors = [e.as_dict() for row_errors in sheet.errors for e in row_errors]
    if not valid:
        raise ProblemError(
            422,
            "upload_rejected",
            detail={
                "en": "No row of the file could be stored; see row_errors.",
                "id": "Tidak ada baris berkas yang dapat disimpan; lihat row_errors.",
            },
            extra={"rows": n, "rejected": n, "row_errors": errors},
        )

    upload_id = uuid7()
    columns = _scored_columns(sheet, resolved, valid, cols, result)
    columns["id"] = [uuid7() for _ in valid]
    constant = {
        "engine_version": ENGINE_VERSION,
        "supersedes": None,
        "correction_reason": None,
        "source": "upload",
        "upload_id": upload_id,
        "recorded_by": caller.sub,
    }
    for name, value in constant.items():
        columns[name] = [value] * len(valid)
    columns["event_id"] = [uuid7() for _ in valid]
    payload_columns = [columns[key] for key in ("id", *PAYLOAD_KEYS)]
    columns["payload"] = [
        orjson.dumps(
            dict(zip(("measurement_id", *PAYLOAD_KEYS), values, strict=True)), default=str
        ).decode()
        for values in zip(*payload_columns, strict=True)
    ]
    await repo.insert_upload(
        session,
        {
            "id": upload_id,
            "uploaded_by": caller.sub,
            "region_scope": caller.region,
            "file_name": file_name,
            "rows_total": n,
            "rows_stored": len(valid),
            "rows_rejected": n - len(valid),
            "errors": errors,
            "engine_version": ENGINE_VERSION,
        },
    )
    records = list(zip(*(columns[c] for c in repo.SCORED_COLUMNS), strict=True))
    await repo.insert_scored(session, records, RECORDED)
    shown = {
        f"z{name}": [
            None if v is None else round(v, Z_DISPLAY_DECIMALS) + 0.0 for v in columns[f"z{name}"]
        ]
        for name in INDICATORS
    }
    results = [
        {
            "row": sheet.rows[i],
            "measurement_id": columns["id"][k],
            "person_id": columns["person_id"][k],
            "visit_date": columns["visit_date"][k],
            **{key: values[k] for key, values in shown.items()},
            **{f"class_{name}": columns[f"class_{name}"][k] for name in CLASSIFIED_INDICATORS},
            "warnings": columns["warnings"][k],
        }
        for k, i in enumerate(valid)
    ]
    return {
        "upload_id": upload_id,
        "file_name": file_name,
        "rows": n,
        "stored": len(valid),
        "rejected": n - len(valid),
        "ignored_columns": sheet.ignored,
        "engine_version": ENGINE_VERSION,
        "errors": errors,
        "results": results,
    }
