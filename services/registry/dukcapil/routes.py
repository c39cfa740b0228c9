"""Dukcapil: NIK verification of a person, extract imports with their reports, the
conflicts operators resolve and the deaths and moves out they confirm."""

import asyncio
import csv
import io
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import text

from common.app import start_background
from common.audit_header import mark_audit
from common.auth import Caller, Identity, require
from common.clock import today
from common.db import Session, raw_connection
from common.errors import ProblemError, not_found
from common.pagination import Page, PageOut, paginate
from common.pii import mask_birth_date, mask_name
from common.scoping import require_writable_region
from services.registry.dukcapil import publish
from services.registry.dukcapil import repository as repo
from services.registry.dukcapil.extract import REJECT_REASONS, ExtractFormatError, read_layout
from services.registry.dukcapil.importer import get_import as job_row
from services.registry.dukcapil.importer import prepare_import
from services.registry.dukcapil.reconcile import CannotApply, apply_exits, resolve_conflict
from services.registry.dukcapil.schemas import (
    ConflictRead,
    ConflictResolve,
    ExitDecision,
    ExitFlagRead,
    FieldConflict,
    ImportRead,
    VerificationRead,
    VerificationStatus,
)
from services.registry.dukcapil.verification import STATUS_LABELS
from services.registry.dukcapil.worker import MESSAGES, check_person, run_import_job

verification_router = APIRouter(prefix="/v1/persons", tags=["persons"])
router = APIRouter(prefix="/v1/dukcapil", tags=["dukcapil"])

PERSON = {"en": "Person", "id": "Orang"}
IMPORT = {"en": "Import", "id": "Impor"}
CONFLICT = {"en": "Conflict", "id": "Konflik"}
EXIT_FLAG = {"en": "Exit flag", "id": "Tanda keluar"}
RegionQuery = Annotated[
    str | None,
    Query(pattern=r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$", description="Only under this code"),
]
_UPLOAD_BLOCK = 1 << 20


async def _committed(session: Any) -> None:
    """Commit before answering: FastAPI runs a yield dependency's exit (the session's
    commit) only after the response is sent, so a client could read the old state."""
    await session.commit()


def _not_configured() -> ProblemError:
    return ProblemError(
        503,
        "dukcapil_not_configured",
        detail={
            "en": "The Dukcapil web service is not configured (REGISTRY_DUKCAPIL_URL).",
            "id": "Layanan web Dukcapil belum dikonfigurasi (REGISTRY_DUKCAPIL_URL).",
        },
    )


# --- verification ------------------------------------------------------------------------


def _verification_view(person_id: uuid.UUID, has_nik: bool, row: dict | None) -> VerificationRead:
    row = row or {}
    status = row.get("status")
    source = row.get("source")
    checked_at = row.get("checked_at")
    if not has_nik:
        status, source = VerificationStatus.NO_NIK, None
    elif status is None and row.get("link_current"):
        # Linked by an extract import and not edited since: Dukcapil's own data.
        status, source, checked_at = VerificationStatus.VERIFIED, "extract", row["linked_at"]
    elif status is None:
        status = VerificationStatus.UNCHECKED
    code = row.get("code") if status not in ("no_nik", "unchecked") else None
    due = status in ("pending", "unverified")
    return VerificationRead(
        person_id=person_id,
        status=status,
        label=STATUS_LABELS[str(status)],
        differences=list(row.get("differences") or []) if status == "differs" else [],
        source=source,
        code=code,
        message=MESSAGES.get(code) if code else None,
        checked_at=checked_at,
        attempted_at=row.get("attempted_at") if status not in ("no_nik",) else None,
        next_attempt_at=row.get("next_attempt_at") if due else None,
    )


@verification_router.get(
    "/{person_id}/verification",
    summary="The person's NIK check against Dukcapil: status, differing fields, when.",
    dependencies=[Depends(require("registry.person.read"))],
)
async def get_person_verification(
    person_id: uuid.UUID, session: Session, caller: Caller
) -> VerificationRead:
    person = await repo.person_for_check(session, person_id, caller.region)
    if person is None:
        raise not_found(PERSON)
    row = await repo.verification_of(session, person_id)
    return _verification_view(person_id, person["nik_enc"] is not None, row)


@verification_router.post(
    "/{person_id}/verify",
    summary="Check the person's NIK with Dukcapil now (CALL_NIK); the result is stored.",
    dependencies=[Depends(require("registry.person.write"))],
)
async def verify_person(
    person_id: uuid.UUID, request: Request, session: Session, caller: Caller
) -> VerificationRead:
    client = request.app.state.dukcapil
    person = await repo.person_for_check(session, person_id, caller.region)
    if person is None:
        raise not_found(PERSON)
    require_writable_region(caller, person["village_code"])
    if person["nik_enc"] is None:
        raise ProblemError(
            409,
            "no_nik",
            detail={
                "en": "The person has no NIK yet; there is nothing to check.",
                "id": "Orang ini belum punya NIK; tidak ada yang dapat diperiksa.",
            },
        )
    if client is None:
        raise _not_configured()
    await check_person(session, client, request.app.state.settings, person)
    view = _verification_view(person_id, True, await repo.verification_of(session, person_id))
    await _committed(session)
    return view


# --- imports -----------------------------------------------------------------------------


def _import_read(row: dict[str, Any], already: bool = False) -> ImportRead:
    total = row["batches_total"] or 0
    done = row["batches_done"] or 0
    progress = 1.0 if row["status"] == "completed" else (done / total if total else 0.0)
    return ImportRead(
        **{k: v for k, v in row.items() if k in ImportRead.model_fields},
        progress=round(progress, 4),
        already_imported=already,
    )


def spool_dir(settings: Any) -> Path:
    path = Path(settings.dukcapil_spool_dir or Path(tempfile.gettempdir()) / "kkb-dukcapil")
    path.mkdir(parents=True, exist_ok=True)
    return path


async def _receive(upload: UploadFile, folder: Path) -> Path:
    """The upload, copied to the spool folder in blocks (it may be hundreds of MB)."""
    part = folder / f"upload-{uuid.uuid4().hex}.part"
    with part.open("wb") as out:
        while block := await upload.read(_UPLOAD_BLOCK):
            await asyncio.to_thread(out.write, block)
    return part


@router.post(
    "/imports",
    status_code=202,
    summary="Upload a regency extract (CSV, multipart 'file'); returns the import job.",
    dependencies=[Depends(require("registry.dukcapil.import"))],
)
async def create_dukcapil_import(
    request: Request,
    session: Session,
    caller: Caller,
    file: Annotated[UploadFile, File(description="The extract: CSV with a header row")],
    regency_code: Annotated[str, Form(pattern=r"^\d{2}\.\d{2}$", examples=["61.04"])],
    extract_date: Annotated[date | None, Form(description="Date of the extract")] = None,
    force: Annotated[bool, Form(description="Import even a file imported before")] = False,
) -> ImportRead:
    require_writable_region(caller, regency_code)
    level = (
        await session.execute(text("SELECT level FROM region WHERE code = :c"), {"c": regency_code})
    ).scalar_one_or_none()
    if level != "regency":
        raise ProblemError(
            422,
            "regency_unknown",
            detail={
                "en": f"{regency_code} is not a regency in the region list.",
                "id": f"{regency_code} bukan kabupaten/kota dalam daftar wilayah.",
            },
        )
    folder = spool_dir(request.app.state.settings)
    part = await _receive(file, folder)
    try:
        await asyncio.to_thread(read_layout, part)
    except ExtractFormatError as exc:
        await asyncio.to_thread(part.unlink, missing_ok=True)
        raise ProblemError(422, exc.code, detail=exc.message, extra=dict(exc.detail)) from exc
    conn = await raw_connection(await session.connection())
    job, already = await prepare_import(
        conn,
        part,
        regency_code=regency_code,
        file_name=Path(file.filename or "extract.csv").name,
        source="api",
        requested_by=caller.sub,
        extract_date=extract_date or today(),
        spool_path=None,
        force=force,
    )
    if already:
        await asyncio.to_thread(part.unlink, missing_ok=True)
        return JSONResponse(  # type: ignore[return-value]
            status_code=200, content=_import_read(job, True).model_dump(mode="json")
        )
    spooled = folder / f"{job['id']}.csv"
    waiting = job["spool_path"] and await asyncio.to_thread(Path(job["spool_path"]).exists)
    if waiting:
        await asyncio.to_thread(part.unlink, missing_ok=True)  # identical upload waits
        spooled = Path(job["spool_path"])
    else:
        await asyncio.to_thread(part.rename, spooled)
        await session.execute(
            text("UPDATE dukcapil_import SET spool_path = :p WHERE id = :id"),
            {"p": str(spooled), "id": job["id"]},
        )
    job = await job_row(conn, job["id"])
    assert job is not None
    await _committed(session)
    start_background(request.app, run_import_job(request.app, job["id"], spooled))
    return _import_read(job)


@router.get(
    "/imports",
    summary="Extract imports of your region, newest first.",
    dependencies=[Depends(require("registry.dukcapil.import"))],
)
async def list_dukcapil_imports(
    session: Session, caller: Caller, page: Page
) -> PageOut[ImportRead]:
    rows = await repo.list_imports(session, caller.region, page.after, page.limit + 1)
    return paginate(
        [_import_read(r) for r in rows],
        page,
        key=lambda i: [i.created_at.isoformat(), str(i.id)],
    )


async def _load_import(session: Any, import_id: uuid.UUID, caller: Identity) -> dict[str, Any]:
    row = await repo.get_import(session, import_id, caller.region)
    if row is None:
        raise not_found(IMPORT)
    return row


@router.get(
    "/imports/{import_id}",
    summary="One import: status, progress and the reconciliation counts by kind.",
    dependencies=[Depends(require("registry.dukcapil.import"))],
)
async def get_dukcapil_import(import_id: uuid.UUID, session: Session, caller: Caller) -> ImportRead:
    return _import_read(await _load_import(session, import_id, caller))


def _csv_lines(rows: list[tuple[Any, ...]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        ["" if v is None else v for v in row] for row in rows
    )
    return buffer.getvalue()


async def _csv_stream(
    request: Request, header: tuple[str, ...], rows: Any, import_id: uuid.UUID
) -> AsyncIterator[str]:
    yield _csv_lines([header])
    async with request.app.state.engine.connect() as conn:
        chunk: list[tuple[Any, ...]] = []
        async for row in rows(conn, import_id):
            chunk.append(row)
            if len(chunk) >= 2000:
                yield _csv_lines(chunk)
                chunk = []
        if chunk:
            yield _csv_lines(chunk)


def _csv_response(body: AsyncIterator[str], name: str) -> StreamingResponse:
    return StreamingResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/imports/{import_id}/report.csv",
    summary="Every change the import made or flagged, and every rejected row (CSV).",
    dependencies=[Depends(require("registry.dukcapil.import"))],
    response_class=StreamingResponse,
)
async def get_dukcapil_import_report(
    import_id: uuid.UUID, request: Request, session: Session, caller: Caller
) -> StreamingResponse:
    await _load_import(session, import_id, caller)

    async def rows(conn: Any, job: uuid.UUID) -> AsyncIterator[tuple[Any, ...]]:
        async for r in repo.stream_changes(conn, job):
            yield r
        async for row_no, reasons, _nik, village in repo.stream_rejected(conn, job):
            yield ("rejected", None, None, village, row_no, reasons)

    header = ("kind", "person_id", "household_id", "village_code", "row", "fields")
    return _csv_response(
        _csv_stream(request, header, rows, import_id), f"dukcapil-import-{import_id}.csv"
    )


@router.get(
    "/imports/{import_id}/rejected.csv",
    summary="Rejected rows with their reasons (row 1 = first row after the header; CSV).",
    dependencies=[Depends(require("registry.dukcapil.import"))],
    response_class=StreamingResponse,
)
async def get_dukcapil_import_rejected(
    import_id: uuid.UUID, request: Request, session: Session, caller: Caller
) -> StreamingResponse:
    await _load_import(session, import_id, caller)

    async def rows(conn: Any, job: uuid.UUID) -> AsyncIterator[tuple[Any, ...]]:
        async for row_no, reasons, nik, village in repo.stream_rejected(conn, job):
            codes = reasons.split()
            yield (
                row_no,
                nik,
                village,
                reasons,
                "; ".join(REJECT_REASONS[c]["id"] for c in codes if c in REJECT_REASONS),
                "; ".join(REJECT_REASONS[c]["en"] for c in codes if c in REJECT_REASONS),
            )

    header = ("row", "nik_masked", "village_code", "reasons", "alasan", "explanation")
    return _csv_response(
        _csv_stream(request, header, rows, import_id), f"dukcapil-rejected-{import_id}.csv"
    )


# --- conflicts ----------------------------------------------------------------------------

_OWN = {"fields", "person_name", "masked"}
_MASKED_FIELDS = {"full_name": mask_name, "mother_name": mask_name, "birth_date": mask_birth_date}


def _conflict_read(row: dict[str, Any], unmasked: bool) -> ConflictRead:
    fields = []
    for f in row["fields"]:
        mask = None if unmasked else _MASKED_FIELDS.get(f["field"])
        fields.append(
            FieldConflict(
                field=f["field"],
                registry=mask(f["registry"]) if mask else f["registry"],
                dukcapil=mask(f["dukcapil"]) if mask else f["dukcapil"],
            )
        )
    name = row["person_name"]
    return ConflictRead(
        **{k: row[k] for k in ConflictRead.model_fields if k in row and k not in _OWN},
        person_name=name if unmasked else mask_name(name),
        fields=fields,
        masked=not unmasked,
    )


def _audit_people(response: Response, caller: Identity, record_type: str, rows: list) -> None:
    if caller.may_unmask and rows:
        mark_audit(
            response,
            record_type=record_type,
            record_ids=[str(r["id"]) for r in rows],
            subject_ids=[str(r["person_id"]) for r in rows if r.get("person_id")],
            fields=["full_name", "mother_name", "birth_date"],
            unmasked=True,
        )


@router.get(
    "/conflicts",
    summary="Records an operator and Dukcapil both changed, awaiting a decision.",
    dependencies=[Depends(require("registry.person.read"))],
)
async def list_dukcapil_conflicts(
    session: Session,
    caller: Caller,
    page: Page,
    response: Response,
    region: RegionQuery = None,
    status: Annotated[
        str | None, Query(pattern="^(open|kept_registry|took_dukcapil|superseded)$")
    ] = "open",
    import_id: uuid.UUID | None = None,
) -> PageOut[ConflictRead]:
    rows = await repo.list_conflicts(
        session,
        caller.region,
        {"within": region, "status": status, "import_id": import_id},
        page.after,
        page.limit + 1,
    )
    out = paginate(
        [_conflict_read(r, caller.may_unmask) for r in rows],
        page,
        key=lambda c: [c.village_code, str(c.id)],
    )
    _audit_people(response, caller, "dukcapil_conflict", rows[: page.limit])
    return out


@router.post(
    "/conflicts/{conflict_id}/resolve",
    summary="Keep the registry's values, or take Dukcapil's (applied with its events).",
    dependencies=[Depends(require("registry.person.write"))],
)
async def resolve_dukcapil_conflict(
    conflict_id: uuid.UUID,
    body: ConflictResolve,
    session: Session,
    caller: Caller,
    response: Response,
) -> ConflictRead:
    row = await repo.get_conflict(session, conflict_id, caller.region, lock=True)
    if row is None:
        raise not_found(CONFLICT)
    require_writable_region(caller, row["village_code"])
    if row["status"] != "open":
        raise ProblemError(
            409,
            "conflict_closed",
            detail={
                "en": f"This conflict is already {row['status']}.",
                "id": f"Konflik ini sudah berstatus {row['status']}.",
            },
        )
    conn = await raw_connection(await session.connection())
    try:
        await resolve_conflict(conn, row, body.resolution.value, caller.sub, today())
    except CannotApply as exc:
        raise ProblemError(409, exc.code, detail=exc.message) from exc
    updated = await repo.get_conflict(session, conflict_id, caller.region)
    assert updated is not None
    await _committed(session)
    _audit_people(response, caller, "dukcapil_conflict", [updated])
    return _conflict_read(updated, caller.may_unmask)


# --- exit flags -----------------------------------------------------------------------------


def _flag_read(row: dict[str, Any], unmasked: bool) -> ExitFlagRead:
    name = row["person_name"]
    return ExitFlagRead(
        **{k: row[k] for k in ExitFlagRead.model_fields if k in row and k not in _OWN},
        person_name=name if unmasked else mask_name(name),
        masked=not unmasked,
    )


@router.get(
    "/exits",
    summary="Deaths and moves out of the regency reported by extracts, to confirm.",
    dependencies=[Depends(require("registry.person.read"))],
)
async def list_dukcapil_exits(
    session: Session,
    caller: Caller,
    page: Page,
    response: Response,
    region: RegionQuery = None,
    status: Annotated[
        str | None, Query(pattern="^(pending|confirmed|rejected|auto_applied)$")
    ] = "pending",
    kind: Annotated[str | None, Query(pattern="^(died|moved_out)$")] = None,
    import_id: uuid.UUID | None = None,
) -> PageOut[ExitFlagRead]:
    rows = await repo.list_exit_flags(
        session,
        caller.region,
        {"within": region, "status": status, "kind": kind, "import_id": import_id},
        page.after,
        page.limit + 1,
    )
    out = paginate(
        [_flag_read(r, caller.may_unmask) for r in rows],
        page,
        key=lambda f: [f.village_code, str(f.id)],
    )
    _audit_people(response, caller, "dukcapil_exit_flag", rows[: page.limit])
    return out


async def _pending_flag(session: Any, flag_id: uuid.UUID, caller: Identity) -> dict[str, Any]:
    row = await repo.get_exit_flag(session, flag_id, caller.region, lock=True)
    if row is None:
        raise not_found(EXIT_FLAG)
    require_writable_region(caller, row["village_code"])
    if row["status"] != "pending":
        raise ProblemError(
            409,
            "exit_flag_closed",
            detail={
                "en": f"This flag is already {row['status']}.",
                "id": f"Tanda ini sudah berstatus {row['status']}.",
            },
        )
    return row


@router.post(
    "/exits/{flag_id}/confirm",
    summary="Confirm a reported death or move out: the membership closes, with events.",
    dependencies=[Depends(require("registry.person.write"))],
)
async def confirm_dukcapil_exit(
    flag_id: uuid.UUID, body: ExitDecision, session: Session, caller: Caller
) -> ExitFlagRead:
    await _pending_flag(session, flag_id, caller)
    conn = await raw_connection(await session.connection())
    prefix = publish.id_prefix()
    await publish.begin(conn)
    applied = await apply_exits(conn, [flag_id], "confirmed", caller.sub, today())
    if not applied:
        raise ProblemError(
            409,
            "exit_flag_stale",
            detail={
                "en": "The person has died or been merged since; reject this flag instead.",
                "id": "Orang ini sudah meninggal atau digabung; tolak tanda ini.",
            },
        )
    await publish.publish(conn, today(), prefix)
    if body.note:
        await session.execute(
            text("UPDATE dukcapil_exit_flag SET note = :n WHERE id = :id"),
            {"n": body.note, "id": flag_id},
        )
    row = await repo.get_exit_flag(session, flag_id, caller.region)
    assert row is not None
    await _committed(session)
    return _flag_read(row, caller.may_unmask)


@router.post(
    "/exits/{flag_id}/reject",
    summary="Reject a reported death or move out: the record stays as it is.",
    dependencies=[Depends(require("registry.person.write"))],
)
async def reject_dukcapil_exit(
    flag_id: uuid.UUID, body: ExitDecision, session: Session, caller: Caller
) -> ExitFlagRead:
    await _pending_flag(session, flag_id, caller)
    await repo.reject_exit_flag(session, flag_id, caller.sub, body.note)
    row = await repo.get_exit_flag(session, flag_id, caller.region)
    assert row is not None
    await _committed(session)
    return _flag_read(row, caller.may_unmask)
