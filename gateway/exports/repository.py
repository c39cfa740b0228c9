"""All SQL on export jobs."""

import uuid
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_COLS = """
    id, requested_by, role, sector, client_id, purpose, request_id, region, datasets, format,
    masked, status, progress, files, error, attempts, created_at, started_at, heartbeat_at,
    finished_at, expires_at
"""


async def insert_job(session: AsyncSession, job: dict[str, Any]) -> dict[str, Any]:
    row = (
        (
            await session.execute(
                text(
                    f"""
                    INSERT INTO export_job (id, requested_by, role, sector, client_id, purpose,
                        request_id, region, datasets, format, masked)
                    VALUES (:id, :requested_by, :role, :sector, :client_id, :purpose,
                        :request_id, :region, :datasets, :format, :masked)
                    RETURNING {_COLS}
                    """
                ),
                job,
            )
        )
        .mappings()
        .one()
    )
    return dict(row)


async def get_job(
    session: AsyncSession, job_id: uuid.UUID, requested_by: str | None = None
) -> dict[str, Any] | None:
    """A job; with ``requested_by``, only if that caller made it."""
    row = (
        (
            await session.execute(
                text(
                    f"SELECT {_COLS} FROM export_job WHERE id = :id"
                    " AND (CAST(:who AS text) IS NULL OR requested_by = :who)"
                ),
                {"id": job_id, "who": requested_by},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def claim_next(
    session: AsyncSession, stale_after_s: float, max_attempts: int
) -> dict[str, Any] | None:
    """Take the oldest queued job, or a running one whose worker went silent; several
    gateway processes may poll at once (SKIP LOCKED)."""
    row = (
        (
            await session.execute(
                text(
                    f"""
                    UPDATE export_job SET status = 'running', attempts = attempts + 1,
                        started_at = coalesce(started_at, now()), heartbeat_at = now(),
                        progress = '{{}}'
                    WHERE id = (
                        SELECT id FROM export_job
                        WHERE (status = 'queued'
                               OR (status = 'running' AND heartbeat_at
                                   < now() - make_interval(secs => :stale)))
                          AND attempts < :max_attempts
                        ORDER BY created_at
                        FOR UPDATE SKIP LOCKED LIMIT 1
                    )
                    RETURNING {_COLS}
                    """
                ),
                {"stale": stale_after_s, "max_attempts": max_attempts},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def give_up_exhausted(session: AsyncSession, stale_after_s: float, max_attempts: int) -> None:
    """Jobs whose worker died on every attempt fail rather than wait forever."""
    await session.execute(
        text(
            """
            UPDATE export_job SET status = 'failed', finished_at = now(),
                error = CAST(:error AS jsonb)
            WHERE status IN ('queued', 'running') AND attempts >= :max_attempts
              AND (status = 'queued'
                   OR heartbeat_at < now() - make_interval(secs => :stale))
            """
        ),
        {
            "stale": stale_after_s,
            "max_attempts": max_attempts,
            "error": orjson.dumps(
                {
                    "code": "export_abandoned",
                    "message": {
                        "en": "The export stopped repeatedly; ask for it again.",
                        "id": "Ekspor berkali-kali terhenti; ajukan ulang.",
                    },
                }
            ).decode(),
        },
    )


async def report_progress(
    session: AsyncSession, job_id: uuid.UUID, attempt: int, progress: dict[str, Any]
) -> bool:
    """False when the job is no longer this worker's (taken over after a stall)."""
    return (
        await session.execute(
            text(
                """
                UPDATE export_job SET progress = CAST(:progress AS jsonb), heartbeat_at = now()
                WHERE id = :id AND status = 'running' AND attempts = :attempt
                RETURNING id
                """
            ),
            {"id": job_id, "attempt": attempt, "progress": orjson.dumps(progress).decode()},
        )
    ).first() is not None


async def finish(
    session: AsyncSession,
    job_id: uuid.UUID,
    attempt: int,
    *,
    progress: dict[str, Any],
    files: list[dict[str, Any]] | None = None,
    error: dict[str, Any] | None = None,
    retention_s: int = 0,
) -> bool:
    return (
        await session.execute(
            text(
                """
                UPDATE export_job SET
                    status = CASE WHEN CAST(:error AS jsonb) IS NULL THEN 'done' ELSE 'failed' END,
                    progress = CAST(:progress AS jsonb), files = CAST(:files AS jsonb),
                    error = CAST(:error AS jsonb), finished_at = now(), heartbeat_at = now(),
                    expires_at = CASE WHEN CAST(:error AS jsonb) IS NULL
                                      THEN now() + make_interval(secs => :retention) END
                WHERE id = :id AND status = 'running' AND attempts = :attempt
                RETURNING id
                """
            ),
            {
                "id": job_id,
                "attempt": attempt,
                "progress": orjson.dumps(progress).decode(),
                "files": orjson.dumps(files or []).decode(),
                "error": orjson.dumps(error).decode() if error else None,
                "retention": retention_s,
            },
        )
    ).first() is not None


async def expire_due(session: AsyncSession) -> list[uuid.UUID]:
    """Mark finished jobs past their retention expired; their files are to be deleted."""
    rows = await session.execute(
        text(
            """
            UPDATE export_job SET status = 'expired'
            WHERE status = 'done' AND expires_at <= now()
            RETURNING id
            """
        )
    )
    return [r.id for r in rows]
