"""Public routes of bulk exports: ask for one, poll it, download its files by link."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.responses import FileResponse

from common.db import Session
from common.errors import ProblemError
from common.identity import Identity, Role
from common.ids import uuid7
from common.permissions import allowed
from common.scoping import in_scope
from gateway import store
from gateway.exports import repository as repo
from gateway.exports.links import LinkCheck, LinkSigner
from gateway.exports.schemas import DatasetProgress, ExportCreate, ExportFileRead, ExportRead
from gateway.exports.settings import ExportSettings
from gateway.exports.worker import Exporter, job_dir
from gateway.routes import caller_with
from gateway.security import audit_entry, rate_limit

EXPORT_BULK = "export.bulk"
EXPORT = {"en": "Export", "id": "Ekspor"}
# What an unmasked export shows, for the audit log.
PII_FIELDS = ["nik", "kk_number", "full_name", "mother_name", "birth_date", "address"]
ExportCaller = Annotated[Identity, Depends(caller_with(EXPORT_BULK))]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the export workers with the gateway (after its own start-up has run)."""
    settings = ExportSettings()
    app.state.export_settings = settings
    app.state.export_links = LinkSigner.from_secret(app.state.common.internal_secret)
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.read_timeout_s, connect=3.0),
        limits=httpx.Limits(max_connections=settings.concurrency * 2),
    )
    exporter = Exporter(
        app.state.sessionmaker,
        client,
        app.state.service_urls,
        app.state.common.internal_secret,
        settings,
    )
    app.state.exporter = exporter
    stop = asyncio.Event()
    workers = (
        [asyncio.create_task(exporter.run(stop)) for _ in range(settings.concurrency)]
        if settings.enabled
        else []
    )
    try:
        yield
    finally:
        stop.set()
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        await client.aclose()


router = APIRouter(prefix="/v1/exports", tags=["exports"], lifespan=lifespan)


def _may_unmask(caller: Identity) -> bool:
    return caller.may_unmask and allowed(
        caller.role, "registry.person.read_pii", sector=caller.sector, scopes=caller.scopes
    )


def _percent(progress: list[DatasetProgress]) -> float:
    parts = []
    for p in progress:
        if p.done:
            parts.append(1.0)
        elif p.estimated_rows:
            parts.append(min(p.rows / p.estimated_rows, 0.99))
        else:
            parts.append(0.0)
    return round(100 * sum(parts) / len(parts), 1) if parts else 0.0


def _read(job: dict[str, Any], request: Request) -> ExportRead:
    settings: ExportSettings = request.app.state.export_settings
    signer: LinkSigner = request.app.state.export_links
    saved = {p["dataset"]: p for p in job["progress"].get("datasets", [])}
    progress = [
        DatasetProgress(
            dataset=d,
            rows=saved.get(d, {}).get("rows", 0),
            estimated_rows=saved.get(d, {}).get("estimated_rows"),
            done=saved.get(d, {}).get("done", False) or job["status"] == "done",
        )
        for d in job["datasets"]
    ]
    files = []
    if job["status"] == "done":
        expires = int(time.time()) + settings.link_ttl_s
        base = request.app.state.settings.public_url.rstrip("/")
        files = [
            ExportFileRead(
                **f,
                url=signer.url(base, str(job["id"]), f["name"], expires),
                url_expires_at=datetime.fromtimestamp(expires, UTC),
            )
            for f in job["files"]
        ]
    return ExportRead(
        id=job["id"],
        status=job["status"],
        region=job["region"],
        datasets=job["datasets"],
        format=job["format"],
        masked=job["masked"],
        percent=_percent(progress),
        progress=progress,
        files=files,
        created_at=job["created_at"],
        started_at=job["started_at"],
        finished_at=job["finished_at"],
        expires_at=job["expires_at"],
        error=job["error"],
    )


def _audit(
    request: Request,
    identity: Identity,
    status: int,
    job_id: uuid.UUID,
    record_type: str,
    unmasked: bool,
) -> dict[str, Any]:
    return audit_entry(
        request,
        identity,
        EXPORT_BULK,
        status,
        {
            "record_type": record_type,
            "record_ids": [str(job_id)],
            "fields": PII_FIELDS if unmasked else [],
            "unmasked": unmasked,
        },
    )


@router.post(
    "",
    status_code=202,
    summary="Ask for a bulk export of datasets under a region (NDJSON or CSV); it runs in "
    "the background: poll GET /v1/exports/{id} for its progress and download links.",
)
async def create_export(
    body: ExportCreate,
    request: Request,
    response: Response,
    session: Session,
    caller: ExportCaller,
) -> ExportRead:
    if not in_scope(caller.region, body.region):
        raise ProblemError(
            403,
            "region_out_of_scope",
            detail={
                "en": f"Region {body.region or 'national'} is outside your scope "
                f"({caller.region or 'national'}).",
                "id": f"Wilayah {body.region or 'nasional'} di luar cakupan Anda "
                f"({caller.region or 'nasional'}).",
            },
        )
    unmasked = _may_unmask(caller)
    job = await repo.insert_job(
        session,
        {
            "id": uuid7(),
            "requested_by": caller.sub,
            "role": caller.role.value,
            "sector": caller.sector.value if caller.sector else None,
            "client_id": caller.client_id,
            "purpose": caller.purpose,
            "request_id": caller.request_id,
            "region": body.region,
            "datasets": list(body.datasets),
            "format": body.format,
            "masked": not unmasked,
        },
    )
    await store.append_audit(session, [_audit(request, caller, 202, job["id"], "export", unmasked)])
    await session.commit()
    request.app.state.exporter.wake.set()
    response.headers["Location"] = f"/v1/exports/{job['id']}"
    return _read(job, request)


@router.get("/{export_id}", summary="An export you asked for: status, progress, links.")
async def get_export(
    export_id: uuid.UUID, request: Request, session: Session, caller: ExportCaller
) -> ExportRead:
    job = await repo.get_job(session, export_id, requested_by=caller.sub)
    if job is None:
        raise ProblemError(
            404,
            "not_found",
            detail={"en": "Export not found.", "id": "Ekspor tidak ditemukan."},
        )
    return _read(job, request)


def _link_problem(status: int, code: str, en: str, id_: str) -> ProblemError:
    return ProblemError(status, code, detail={"en": en, "id": id_})


@router.get(
    "/{export_id}/files/{name}",
    summary="Download an export file by its signed link (no token needed; it expires).",
    response_class=FileResponse,
    responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}},
    openapi_extra={"security": []},
)
async def download_export_file(
    export_id: uuid.UUID,
    name: str,
    request: Request,
    session: Session,
    expires: Annotated[int, Query(description="Unix time the link stops working")],
    sig: Annotated[str, Query(max_length=100)],
) -> FileResponse:
    rate_limit(request, f"export-link:{request.client.host if request.client else '?'}")
    signer: LinkSigner = request.app.state.export_links
    check = signer.check(str(export_id), name, expires, sig, time.time())
    if check is LinkCheck.invalid:
        raise _link_problem(
            403,
            "link_invalid",
            "This download link is not valid.",
            "Tautan unduhan ini tidak sah.",
        )
    if check is LinkCheck.expired:
        raise _link_problem(
            410,
            "link_expired",
            "This download link has expired; poll the export for a fresh one.",
            "Tautan unduhan ini sudah kedaluwarsa; buka ekspornya lagi untuk tautan baru.",
        )
    job = await repo.get_job(session, export_id)
    file = next((f for f in job["files"] if f["name"] == name), None) if job else None
    path = job_dir(request.app.state.export_settings, export_id) / name
    if job is None or file is None or job["status"] != "done" or not path.is_file():
        raise _link_problem(
            410,
            "export_expired",
            "The export's files are no longer kept; ask for a new export.",
            "Berkas ekspor ini sudah tidak disimpan; ajukan ekspor baru.",
        )
    owner = Identity(
        sub=job["requested_by"],
        role=Role(job["role"]),
        region=job["region"],
        sector=job["sector"],
        client_id=job["client_id"],
        purpose=job["purpose"],
        request_id=request.state.request_id,
    )
    await store.append_audit(
        session, [_audit(request, owner, 200, export_id, "export_file", not job["masked"])]
    )
    return FileResponse(path, media_type=file["media_type"], filename=name)
