"""Child growth: visits with WHO z-scores, corrections, history, charts, posyandu
uploads, and a stateless z-score calculator for other systems."""

import csv
import io
import uuid
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from common.auth import Caller, require
from common.clock import today
from common.db import Session
from common.errors import ProblemError, not_found
from common.etag import required_version, set_etag
from common.i18n import current_lang
from services.registry.growth import repository as repo
from services.registry.growth import service
from services.registry.growth.age import DAYS_PER_MONTH
from services.registry.growth.charts import (
    MEDIA_TYPES,
    ChartPoint,
    Indicator,
    growth_chart,
    wflh_table,
)
from services.registry.growth.csv_io import (
    MAX_API_ROWS,
    CsvFormatError,
    compute_rows,
    convert_stream,
)
from services.registry.growth.schemas import (
    GrowthHistory,
    MeasurementCorrection,
    MeasurementCreate,
    MeasurementRead,
    RowErrorRead,
    UploadReport,
    UploadSummary,
    ZscoreRows,
)
from services.registry.growth.upload import MAX_UPLOAD_BYTES, SheetError, read_sheet

router = APIRouter(prefix="/v1/growth", tags=["growth"])

READ = Depends(require("registry.measurement.read"))
WRITE = Depends(require("registry.measurement.write"))
CSV_TYPES = ("text/csv", "application/csv", "text/plain", "application/vnd.ms-excel")
UPLOAD_FILE_FIELD = "file"
HISTORY_FIELDS = ["full_name", "birth_date", "age_days"]


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _unsupported(kind: str) -> ProblemError:
    return ProblemError(
        415,
        detail={
            "en": f"Send {kind}.",
            "id": f"Kirim {kind}.",
        },
    )


async def _read_measurement(
    session: Session, measurement_id: uuid.UUID, caller: Caller, response: Response
) -> MeasurementRead:
    row = await repo.get_measurement(session, measurement_id, caller.region)
    if row is None:
        raise not_found(service.MEASUREMENT)
    set_etag(response, row["version"])
    service.audit_unmasked(
        response,
        caller,
        record_type="measurement",
        record_ids=[row["id"]],
        person_id=row["person_id"],
        fields=["birth_date", "age_days"],
    )
    return service.measurement_view(row, caller)


@router.post(
    "/measurements",
    status_code=201,
    summary="Record a child's visit; stored with WHO z-scores and classifications.",
    dependencies=[WRITE],
)
async def create_measurement(
    body: MeasurementCreate, session: Session, caller: Caller, response: Response
) -> MeasurementRead:
    measurement_id = await service.record_measurement(session, caller, body)
    response.headers["Location"] = f"/v1/growth/measurements/{measurement_id}"
    return await _read_measurement(session, measurement_id, caller, response)


@router.get(
    "/measurements/{measurement_id}",
    summary="One measurement (current or superseded), with its ETag.",
    dependencies=[READ],
)
async def get_measurement(
    measurement_id: uuid.UUID, session: Session, caller: Caller, response: Response
) -> MeasurementRead:
    return await _read_measurement(session, measurement_id, caller, response)


@router.post(
    "/measurements/{measurement_id}/corrections",
    status_code=201,
    summary="Correct a measurement (If-Match); the old version is kept as superseded.",
    dependencies=[WRITE],
)
async def correct_measurement(
    measurement_id: uuid.UUID,
    body: MeasurementCorrection,
    request: Request,
    session: Session,
    caller: Caller,
    response: Response,
) -> MeasurementRead:
    version = required_version(request)
    new_id = await service.correct_measurement(session, caller, measurement_id, version, body)
    response.headers["Location"] = f"/v1/growth/measurements/{new_id}"
    return await _read_measurement(session, new_id, caller, response)


@router.get(
    "/children/{person_id}/measurements",
    summary="A child's growth history with z-scores, oldest visit first.",
    dependencies=[READ],
)
async def list_child_measurements(
    person_id: uuid.UUID,
    session: Session,
    caller: Caller,
    response: Response,
    include_superseded: Annotated[
        bool, Query(description="Also list measurements replaced by a correction")
    ] = False,
) -> GrowthHistory:
    child = await service.load_child(session, person_id, caller)
    rows = await repo.history(session, person_id, include_superseded=include_superseded)
    service.audit_unmasked(
        response,
        caller,
        record_type="growth_history",
        record_ids=[r["id"] for r in rows] or [person_id],
        person_id=person_id,
        fields=HISTORY_FIELDS,
    )
    return GrowthHistory(
        child=service.child_view(child, caller),
        measurements=[service.measurement_view(r, caller) for r in rows],
    )


def _chart_points(indicator: str, rows: list[dict[str, Any]], latest_age: int) -> list[ChartPoint]:
    points = []
    for r in rows:
        months = r["age_days"] / DAYS_PER_MONTH
        match indicator:
            case "lhfa":
                xy = (months, r["height_used_cm"], r["flen"])
            case "wfa":
                xy = (months, None if r["oedema"] else r["weight_kg"], r["fwei"])
            case "bmi":
                xy = (months, None if r["oedema"] else r["bmi"], r["fbmi"])
            case "hcfa":
                xy = (months, r["head_cm"], r["fhc"])
            case "acfa":
                xy = (months, r["muac_cm"] if r["age_days"] >= 91 else None, r["fac"])
            case _:  # wflh: only the visits on the same table as the latest one
                same = wflh_table(r["age_days"]) == wflh_table(latest_age)
                weight = None if r["oedema"] or not same else r["weight_kg"]
                xy = (r["height_used_cm"], weight, r["fwfl"])
        x, y, flagged = xy
        if x is not None and y is not None:
            points.append(ChartPoint(x=x, y=y, flagged=bool(flagged)))
    return points


@router.get(
    "/children/{person_id}/chart",
    summary="The child's growth chart over the WHO median and ±2/±3 SD curves.",
    dependencies=[READ],
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}, "image/png": {}}}},
)
async def get_child_chart(
    person_id: uuid.UUID,
    session: Session,
    caller: Caller,
    indicator: Annotated[Indicator, Query(description="WHO indicator")] = "lhfa",
    format: Annotated[Literal["svg", "png"], Query()] = "svg",  # noqa: A002 - API name
) -> Response:
    child = await service.load_child(session, person_id, caller)
    rows = await repo.history(session, person_id, include_superseded=False)
    latest_age = max((r["age_days"] for r in rows), default=(today() - child["birth_date"]).days)
    name = child["full_name"] if caller.may_unmask else None
    content = await run_in_threadpool(
        growth_chart,
        indicator,
        child["sex"],
        _chart_points(indicator, rows, latest_age),
        latest_age_days=latest_age,
        lang="en" if current_lang.get() == "en" else "id",
        child_name=name,
        fmt=format,
    )
    response = Response(content, media_type=MEDIA_TYPES[format])
    service.audit_unmasked(
        response,
        caller,
        record_type="growth_chart",
        record_ids=[person_id],
        person_id=person_id,
        fields=["full_name"],
    )
    return response


def _too_large() -> ProblemError:
    mib = MAX_UPLOAD_BYTES // (1024 * 1024)
    return ProblemError(
        413,
        "upload_too_large",
        detail={
            "en": f"A posyandu session file may be at most {mib} MiB; split the file",
            "id": f"Berkas sesi posyandu paling besar {mib} MiB; bagi berkasnya",
        },
    )


async def _upload_body(request: Request) -> tuple[bytes, str | None]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + 64 * 1024:
        raise _too_large()
    media_type = _media_type(request)
    if media_type == "multipart/form-data":
        form = await request.form()
        upload = form.get(UPLOAD_FILE_FIELD)
        if not isinstance(upload, UploadFile):
            raise ProblemError(
                422,
                "file_missing",
                detail={
                    "en": f"Attach the CSV file in the form field {UPLOAD_FILE_FIELD!r}.",
                    "id": f"Lampirkan berkas CSV pada isian formulir {UPLOAD_FILE_FIELD!r}.",
                },
            )
        if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
            raise _too_large()
        return await upload.read(), upload.filename
    if media_type in CSV_TYPES:
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise _too_large()
            chunks.append(chunk)
        return b"".join(chunks), request.headers.get("x-file-name")
    raise _unsupported("text/csv or multipart/form-data with a file field")


_CSV_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {UPLOAD_FILE_FIELD: {"type": "string", "format": "binary"}},
                "required": [UPLOAD_FILE_FIELD],
            }
        },
    },
}


@router.post(
    "/uploads",
    status_code=201,
    summary="Upload a posyandu session (CSV, docs/POSYANDU_CSV.md): valid rows are "
    "stored, the others come back as row errors.",
    dependencies=[WRITE],
    response_model=UploadReport,
    openapi_extra={"requestBody": _CSV_BODY},
)
async def create_upload(request: Request, session: Session, caller: Caller) -> Response:
    data, file_name = await _upload_body(request)
    try:
        sheet = read_sheet(data)
    except SheetError as exc:
        raise ProblemError(
            exc.status, exc.code, detail=exc.message, extra={"columns": exc.columns}
        ) from exc
    report = await service.upload_session(session, caller, sheet, file_name)
    # Serialised directly: a report of thousands of rows need not pass through models.
    return Response(
        orjson.dumps(report, default=str), status_code=201, media_type="application/json"
    )


@router.get(
    "/uploads/{upload_id}",
    summary="The report of an upload made in your region.",
    dependencies=[READ],
)
async def get_upload(upload_id: uuid.UUID, session: Session, caller: Caller) -> UploadSummary:
    row = await repo.get_upload(session, upload_id, caller.region)
    if row is None:
        raise not_found({"en": "Upload", "id": "Unggahan"})
    return UploadSummary(
        upload_id=row["id"],
        file_name=row["file_name"],
        uploaded_by=row["uploaded_by"],
        uploaded_at=row["uploaded_at"],
        rows=row["rows_total"],
        stored=row["rows_stored"],
        rejected=row["rows_rejected"],
        engine_version=row["engine_version"],
        errors=[RowErrorRead(**e) for e in row["errors"]],
    )


def _csv_problem(exc: CsvFormatError) -> ProblemError:
    status = 413 if exc.code == "too_many_rows" else 422
    return ProblemError(status, exc.code, detail=exc.message)


def _too_many_rows() -> ProblemError:
    return _csv_problem(
        CsvFormatError(
            "too_many_rows",
            {
                "en": f"At most {MAX_API_ROWS:,} rows per request; use `kkb zscores` for more",
                "id": f"Paling banyak {MAX_API_ROWS} baris per permintaan; gunakan `kkb zscores`",
            },
        )
    )


def _zscore_csv(text: str, lang: str) -> str:
    rows = sum(1 for row in csv.reader(io.StringIO(text)) if any(row)) - 1
    if rows > MAX_API_ROWS:
        raise _too_many_rows()
    out = io.StringIO()
    convert_stream(io.StringIO(text), out, lang)
    return out.getvalue()


def _zscore_json(rows: list[dict[str, Any]], lang: str) -> bytes:
    computed = compute_rows(rows, lang)
    errors = sum(1 for r in computed if r["error"])
    return orjson.dumps({"rows": computed, "rows_with_errors": errors})


_ZSCORE_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "array",
                "maxItems": MAX_API_ROWS,
                "items": {"type": "object", "additionalProperties": True},
            }
        },
        "text/csv": {"schema": {"type": "string"}},
    },
}


@router.post(
    "/zscores",
    summary="Stateless WHO z-scores for up to 10,000 rows (JSON list or CSV); nothing is "
    "stored. Answers in the format sent.",
    dependencies=[READ],
    response_model=ZscoreRows,
    openapi_extra={"requestBody": _ZSCORE_BODY},
    responses={200: {"content": {"text/csv": {}}}},
)
async def compute_zscores(request: Request) -> Response:
    media_type = _media_type(request)
    lang = "en" if current_lang.get() == "en" else "id"
    body = await request.body()
    try:
        if media_type in CSV_TYPES:
            try:
                text = body.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise ProblemError(
                    422,
                    "encoding_invalid",
                    detail={"en": "Send UTF-8 text.", "id": "Kirim teks UTF-8."},
                ) from exc
            content = await run_in_threadpool(_zscore_csv, text, lang)
            return Response(content, media_type="text/csv; charset=utf-8")
        if media_type != "application/json":
            raise _unsupported("application/json (a list of rows) or text/csv")
        try:
            rows = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ProblemError(
                400, "malformed_json", detail={"en": str(exc), "id": "JSON tidak valid."}
            ) from exc
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ProblemError(
                422,
                "rows_expected",
                detail={
                    "en": "The body must be a JSON list of row objects.",
                    "id": "Isi permintaan harus daftar JSON berisi objek baris.",
                },
            )
        if len(rows) > MAX_API_ROWS:
            raise _too_many_rows()
        content = await run_in_threadpool(_zscore_json, rows, lang)
        return Response(content, media_type="application/json")
    except CsvFormatError as exc:
        raise _csv_problem(exc) from exc
    except csv.Error as exc:
        raise ProblemError(
            422,
            "malformed_csv",
            detail={
                "en": f"The body is not readable CSV: {exc}",
                "id": f"Isi permintaan bukan CSV yang dapat dibaca: {exc}",
            },
        ) from exc
