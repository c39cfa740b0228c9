"""The registry's Dukcapil client and its background work.

One ``DukcapilClient`` per registry process (``app.state.dukcapil``), built from the
settings at start-up. Two kinds of background task run beside the API:

- the verification worker: every few seconds it leases a small batch of due checks
  (new or edited persons queued by the person table's trigger, and failed checks whose
  retry time came) and asks Dukcapil, while the circuit is closed and the day's quota
  lasts;
- extract import jobs: one per upload, resumed at start-up when the process stopped
  half-way (the uploaded file waits in the spool folder until its import completes).

NIKs are decrypted only in memory for the call; logs carry the client's short keyed
reference, never a NIK.
"""

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import structlog
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from common.app import start_background
from common.clock import today
from common.db import plain_url
from services.registry.dukcapil import repository as repo
from services.registry.dukcapil.breaker import CircuitBreaker, CircuitState
from services.registry.dukcapil.client import MESSAGES as CLIENT_MESSAGES
from services.registry.dukcapil.client import DukcapilClient, InvalidIdentifier
from services.registry.dukcapil.importer import ImportFailed, run_import
from services.registry.dukcapil.verification import outcome_of, registry_person
from services.registry.persons.crypto import KK_CONTEXT, NIK_CONTEXT, pii_codec
from services.registry.settings import RegistrySettings

log = structlog.get_logger(__name__)

MESSAGES: dict[str, dict[str, str]] = {
    **CLIENT_MESSAGES,
    "dukcapil_differs": {
        "id": "Data ditemukan di Dukcapil, tetapi ada yang berbeda.",
        "en": "Record found at Dukcapil, but some details differ.",
    },
    "dukcapil_extract": {
        "id": "Sesuai data ekstrak Dukcapil yang diimpor.",
        "en": "As in the imported Dukcapil extract.",
    },
}
# A leased check is given up after this long if its worker stopped mid-call.
LEASE_S = 120.0


def make_client(settings: RegistrySettings, hash_key: bytes) -> DukcapilClient | None:
    if not settings.dukcapil_url:
        return None
    return DukcapilClient(
        base_url=settings.dukcapil_url,
        institution_path=settings.dukcapil_institution,
        user_id=settings.dukcapil_user,
        password=settings.dukcapil_password,
        ip_user=settings.dukcapil_ip,
        hash_key=hash_key,
        timeout_s=settings.dukcapil_timeout_s,
        rate_per_s=settings.dukcapil_rate_per_s,
        daily_quota=settings.dukcapil_daily_quota,
        breaker=CircuitBreaker(reset_timeout_s=settings.dukcapil_breaker_reset_s),
    )


async def check_person(
    session: AsyncSession,
    client: DukcapilClient,
    settings: RegistrySettings,
    person: dict[str, Any],
) -> None:
    """Ask Dukcapil about one person (a ``repository.person_for_check`` row); store it."""
    codec = pii_codec()
    nik = codec.decrypt(person["nik_enc"], NIK_CONTEXT)
    kk = codec.decrypt(person["kk_number_enc"], KK_CONTEXT) if person["kk_number_enc"] else None
    try:
        result = await client.get_by_nik(nik)
    except InvalidIdentifier:
        await repo.store_verification(
            session,
            person["id"],
            status="not_found",
            code="dukcapil_invalid_nik",
            differences=[],
            answered=True,
            retry_at=None,
        )
        return
    attempts = await repo.attempts_of(session, person["id"]) + 1
    outcome = outcome_of(
        result,
        registry_person(person, nik, kk),
        now=datetime.now(UTC),
        attempts=attempts,
        retry_base_s=settings.dukcapil_retry_base_s,
        retry_max_s=settings.dukcapil_retry_max_s,
    )
    await repo.store_verification(
        session,
        person["id"],
        status=outcome.status,
        code=outcome.code,
        differences=list(outcome.differences),
        answered=outcome.answered,
        retry_at=outcome.retry_at,
    )


def _may_call(client: DukcapilClient) -> bool:
    return client.breaker.state is not CircuitState.OPEN and client.limiter.remaining_today > 0


async def verify_due(app: FastAPI) -> int:
    """One round of the worker: the checks it leased (0 when it may not call now)."""
    client: DukcapilClient = app.state.dukcapil
    settings: RegistrySettings = app.state.settings
    if not _may_call(client):
        return 0
    maker = app.state.sessionmaker
    async with maker() as session, session.begin():
        leased = await repo.claim_due(session, settings.dukcapil_worker_batch, LEASE_S)
    for i, person_id in enumerate(leased):
        if not _may_call(client):
            async with maker() as session, session.begin():
                await repo.release(session, leased[i:])
            break
        async with maker() as session:
            async with session.begin():
                person = await repo.person_for_check(session, person_id, "")
            if person is None or person["nik_enc"] is None or person["merged_into"]:
                continue
            # The call runs outside any transaction; its result gets a short one.
            async with session.begin():
                await check_person(session, client, settings, person)
    return len(leased)


async def verification_loop(app: FastAPI) -> None:
    settings: RegistrySettings = app.state.settings
    stop: asyncio.Event = app.state.stop
    while not stop.is_set():
        done = 0
        try:
            done = await verify_due(app)
        except Exception:  # noqa: BLE001 - the worker must outlive one bad round
            log.exception("dukcapil_worker_round_failed")
        full = done >= settings.dukcapil_worker_batch
        try:
            await asyncio.wait_for(
                stop.wait(), 0.05 if full else settings.dukcapil_worker_interval_s
            )
        except TimeoutError:
            pass


def _asyncpg_dsn(url: str) -> tuple[str, dict[str, str]]:
    """asyncpg does not read ``?host=/socket/dir``: pass it as a keyword."""
    parts = urlsplit(plain_url(url))
    query = dict(parse_qsl(parts.query))
    extra = {"host": query.pop("host")} if "host" in query else {}
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), "")), extra


async def job_connection(settings: RegistrySettings) -> asyncpg.Connection:
    """A connection of its own for a long import (never one of the request pool)."""
    dsn, extra = _asyncpg_dsn(settings.database_url)
    return await asyncpg.connect(
        dsn,
        server_settings={"search_path": "registry", "application_name": "kkb-registry-import"},
        **extra,
    )


async def run_import_job(app: FastAPI, import_id: uuid.UUID, path: Path) -> None:
    """Run one uploaded import to the end; its file goes once the import completes."""
    running: dict[uuid.UUID, asyncio.Task] = app.state.dukcapil_jobs
    current = asyncio.current_task()
    if import_id in running and running[import_id] is not current:
        return
    if current is not None:
        running[import_id] = current
    settings: RegistrySettings = app.state.settings
    try:
        conn = await job_connection(settings)
        try:
            # The request that created the import commits after answering.
            for _ in range(150):
                if await conn.fetchval("SELECT 1 FROM dukcapil_import WHERE id = $1", import_id):
                    break
                await asyncio.sleep(0.2)
            job = await run_import(
                conn,
                import_id,
                path,
                batch_rows=settings.dukcapil_import_batch_rows,
                auto_apply_exits=settings.dukcapil_auto_apply_exits,
                hash_key=app.state.common.hash_key.encode(),
                today=today(),
                progress=lambda p: log.info(
                    "dukcapil_import_progress",
                    import_id=str(p.import_id),
                    phase=p.phase,
                    batches_done=p.batches_done,
                    batches_total=p.batches_total,
                ),
            )
            if job["status"] == "completed":
                await asyncio.to_thread(path.unlink, missing_ok=True)
        finally:
            await conn.close()
    except ImportFailed as exc:
        log.warning("dukcapil_import_refused", import_id=str(import_id), code=exc.code)
        await asyncio.to_thread(path.unlink, missing_ok=True)
    except Exception:  # noqa: BLE001 - logged; the import stays resumable
        log.exception("dukcapil_import_failed", import_id=str(import_id))
    finally:
        running.pop(import_id, None)


async def resume_imports(app: FastAPI) -> None:
    """Pick up uploaded imports a previous process left unfinished."""
    try:
        async with app.state.sessionmaker() as session:
            pending = await repo.unfinished_imports(session)
    except Exception:  # noqa: BLE001 - no database yet: nothing to resume now
        log.warning("dukcapil_resume_skipped")
        return
    for job in pending:
        path = Path(job["spool_path"])
        if await asyncio.to_thread(path.exists):
            start_background(app, run_import_job(app, job["id"], path))


async def start_dukcapil(app: FastAPI) -> None:
    """Startup hook: the client, the verification worker, unfinished imports."""
    settings: RegistrySettings = app.state.settings
    app.state.dukcapil = make_client(settings, app.state.common.hash_key.encode())
    app.state.dukcapil_jobs = {}
    if app.state.dukcapil is not None and settings.dukcapil_worker_enabled:
        start_background(app, verification_loop(app))
    start_background(app, resume_imports(app))


async def stop_dukcapil(app: FastAPI) -> None:
    client = getattr(app.state, "dukcapil", None)
    if client is not None:
        await client.aclose()
