"""The export job: stream each dataset from the service that owns it into a file.

A worker takes the oldest waiting job (``repository.claim_next``), asks the owning
service for each dataset (``GET /internal/export/<dataset>`` with a service identity
carrying the job's region and personal-data right), and writes the stream to
``<dir>/<job id>/<dataset>.<ndjson|csv>`` chunk by chunk: memory stays flat whatever
the size. Progress and a heartbeat go to the job row about once a second; a job whose
worker went silent is taken over by another; finished files are deleted after the
retention time.
"""

import asyncio
import hashlib
import shutil
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.http import IDENTITY_HEADER
from common.identity import encode_identity, service_identity
from gateway.exports import repository as repo
from gateway.exports.frames import CsvConverter, FrameReader, StreamError
from gateway.exports.settings import ExportSettings

log = structlog.get_logger()

DATASET_SERVICE: dict[str, str] = {
    "households": "registry",
    "persons": "registry",
    "measurements": "registry",
    "deliveries": "interventions",
    "referrals": "interventions",
}
MEDIA_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


class ExportFailed(Exception):
    def __init__(self, code: str, en: str, id_: str) -> None:
        super().__init__(en)
        self.error = {"code": code, "message": {"en": en, "id": id_}}


class Superseded(Exception):
    """Another worker took the job over; this one stops quietly."""


def file_name(dataset: str, fmt: str) -> str:
    return f"{dataset}.{fmt}"


def job_dir(settings: ExportSettings, job_id: uuid.UUID | str) -> Path:
    return settings.dir / str(job_id)


@dataclass
class Progress:
    datasets: list[str]
    rows: dict[str, int] = field(default_factory=dict)
    estimated: dict[str, int | None] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "datasets": [
                {
                    "dataset": d,
                    "rows": self.rows.get(d, 0),
                    "estimated_rows": self.estimated.get(d),
                    "done": d in self.done,
                }
                for d in self.datasets
            ]
        }


@dataclass
class FileSink:
    """A file written through a temporary name, with its size and SHA-256."""

    path: Path
    bytes: int = 0

    def __post_init__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._part = self.path.with_name(self.path.name + ".part")
        self._file = self._part.open("wb")
        self._hash = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._hash.update(data)
        self.bytes += len(data)

    def close(self) -> str:
        self._file.close()
        self._part.replace(self.path)
        return self._hash.hexdigest()

    def discard(self) -> None:
        self._file.close()
        self._part.unlink(missing_ok=True)


class Exporter:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        service_urls: dict[str, str],
        internal_secret: str,
        settings: ExportSettings,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.client = client
        self.service_urls = service_urls
        self.secret = internal_secret
        self.settings = settings
        self.wake = asyncio.Event()

    # --- the loop -------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                job = await self._claim()
                if job is not None:
                    await self.run_job(job)
                    continue
                await self.sweep()
            except Exception as exc:  # noqa: BLE001 - the loop must outlive any one job
                log.error("export_worker_error", error=str(exc))
            self.wake.clear()
            wait = asyncio.ensure_future(self.wake.wait())
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait(
                {wait, stopped}, timeout=self.settings.poll_s, return_when="FIRST_COMPLETED"
            )
            wait.cancel()
            stopped.cancel()

    async def _claim(self) -> dict[str, Any] | None:
        s = self.settings
        async with self.sessionmaker() as session, session.begin():
            await repo.give_up_exhausted(session, s.stale_after_s, s.max_attempts)
            return await repo.claim_next(session, s.stale_after_s, s.max_attempts)

    async def sweep(self) -> None:
        async with self.sessionmaker() as session, session.begin():
            expired = await repo.expire_due(session)
        for job_id in expired:
            await asyncio.to_thread(shutil.rmtree, job_dir(self.settings, job_id), True)

    async def _write(self, fn: Callable[..., Awaitable[bool]], *args: Any, **kwargs: Any) -> None:
        async with self.sessionmaker() as session, session.begin():
            if not await fn(session, *args, **kwargs):
                raise Superseded()

    # --- one job ----------------------------------------------------------------------------

    async def run_job(self, job: dict[str, Any]) -> None:
        job_id, attempt = job["id"], job["attempts"]
        progress = Progress(list(job["datasets"]))
        files: list[dict[str, Any]] = []
        folder = job_dir(self.settings, job_id)
        log.info("export_started", export_id=str(job_id), datasets=job["datasets"])
        started = time.monotonic()
        try:
            await asyncio.to_thread(shutil.rmtree, folder, True)  # a previous attempt's
            for dataset in job["datasets"]:
                files.append(await self._dataset(job, dataset, progress))
                progress.done.add(dataset)
            await self._write(
                repo.finish,
                job_id,
                attempt,
                progress=progress.as_dict(),
                files=files,
                retention_s=self.settings.retention_s,
            )
            log.info(
                "export_done",
                export_id=str(job_id),
                rows=sum(f["rows"] for f in files),
                seconds=round(time.monotonic() - started, 2),
            )
        except Superseded:
            log.warning("export_taken_over", export_id=str(job_id))
        except ExportFailed as exc:
            await asyncio.to_thread(shutil.rmtree, folder, True)
            await self._fail(job_id, attempt, progress, exc.error)
        except Exception as exc:  # noqa: BLE001 - any failure ends the job, not the worker
            log.exception("export_failed", export_id=str(job_id))
            await asyncio.to_thread(shutil.rmtree, folder, True)
            failure = ExportFailed(
                "export_failed",
                f"The export failed ({type(exc).__name__}); ask for it again.",
                f"Ekspor gagal ({type(exc).__name__}); ajukan ulang.",
            )
            await self._fail(job_id, attempt, progress, failure.error)

    async def _fail(
        self, job_id: uuid.UUID, attempt: int, progress: Progress, error: dict[str, Any]
    ) -> None:
        try:
            await self._write(
                repo.finish, job_id, attempt, progress=progress.as_dict(), error=error
            )
        except Superseded:
            pass
        log.warning("export_failed", export_id=str(job_id), code=error["code"])

    def _identity_header(self, job: dict[str, Any]) -> str:
        identity = service_identity(
            "gateway", request_id=job["request_id"], region=job["region"], pii=not job["masked"]
        )
        return encode_identity(identity, self.secret)

    async def _dataset(self, job: dict[str, Any], dataset: str, progress: Progress) -> dict:
        service = DATASET_SERVICE[dataset]
        name = file_name(dataset, job["format"])
        sink = FileSink(job_dir(self.settings, job["id"]) / name)
        reader = FrameReader()
        converter: CsvConverter | None = None
        pending: list[bytes] = []
        pending_bytes = 0
        last_report = time.monotonic()
        try:
            async with self.client.stream(
                "GET",
                f"{self.service_urls[service]}/internal/export/{dataset}",
                params={"region": job["region"], "masked": "true" if job["masked"] else "false"},
                headers={
                    IDENTITY_HEADER: self._identity_header(job),
                    "x-request-id": job["request_id"],
                },
            ) as response:
                if response.status_code != 200:
                    body = (await response.aread())[:500].decode(errors="replace")
                    raise ExportFailed(
                        "service_refused",
                        f"The {service} service answered {response.status_code}: {body}",
                        f"Layanan {service} menjawab {response.status_code}.",
                    )
                async for chunk in response.aiter_raw():
                    lines = reader.feed(chunk)
                    if reader.header is not None and dataset not in progress.estimated:
                        progress.estimated[dataset] = reader.header.get("estimated_rows")
                        if job["format"] == "csv":
                            converter = CsvConverter(reader.columns)
                            sink.write(converter.header_line())
                    if lines:
                        pending.append(lines)
                        pending_bytes += len(lines)
                    if pending_bytes >= self.settings.flush_bytes:
                        await self._flush(sink, pending, converter)
                        pending, pending_bytes = [], 0
                    if time.monotonic() - last_report >= self.settings.progress_every_s:
                        progress.rows[dataset] = reader.rows
                        await self._write(
                            repo.report_progress, job["id"], job["attempts"], progress.as_dict()
                        )
                        last_report = time.monotonic()
            reader.finish()
            await self._flush(sink, pending, converter)
            sha256 = await asyncio.to_thread(sink.close)
        except StreamError as exc:
            sink.discard()
            raise ExportFailed(
                "stream_incomplete",
                f"The {service} service's {dataset} stream broke off: {exc}",
                f"Aliran data {dataset} dari layanan {service} terputus.",
            ) from exc
        except httpx.HTTPError as exc:
            sink.discard()
            raise ExportFailed(
                "service_unavailable",
                f"The {service} service could not be read ({type(exc).__name__}).",
                f"Layanan {service} tidak dapat dibaca ({type(exc).__name__}).",
            ) from exc
        except BaseException:
            sink.discard()
            raise
        progress.rows[dataset] = reader.rows
        return {
            "name": name,
            "dataset": dataset,
            "rows": reader.rows,
            "bytes": sink.bytes,
            "sha256": sha256,
            "media_type": MEDIA_TYPES[job["format"]],
        }

    async def _flush(
        self, sink: FileSink, pending: list[bytes], converter: CsvConverter | None
    ) -> None:
        if not pending:
            return
        data = b"".join(pending)

        def write() -> None:
            sink.write(data if converter is None else converter.convert(data))

        await asyncio.to_thread(write)
