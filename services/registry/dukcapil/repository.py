"""SQL of the Dukcapil API and worker: verification state, imports, conflicts, exit flags.

Every read of a personal record filters on the caller's region (``scope_sql``); the
bulk reconciliation SQL lives in ``staging``, ``reconcile`` and ``publish``.
"""

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from common.scoping import scope_sql

# --- verification ----------------------------------------------------------------------


async def person_for_check(
    session: AsyncSession, person_id: uuid.UUID, scope: str
) -> dict[str, Any] | None:
    """A person with what Dukcapil can confirm, and its household's KK and address."""
    row = (
        (
            await session.execute(
                text(
                    f"""
                    SELECT p.id, p.nik_enc, p.full_name, p.birth_place, p.birth_date, p.sex,
                           p.religion, p.marital_status, p.relationship, p.education,
                           p.occupation, p.mother_name, p.village_code, p.version,
                           p.merged_into, h.kk_number_enc, h.dusun, h.rw, h.rt, h.address
                    FROM person p LEFT JOIN household h ON h.id = p.household_id
                    WHERE p.id = :id AND {scope_sql("p.village_code")}
                    """
                ),
                {"id": person_id, "scope": scope},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def verification_of(session: AsyncSession, person_id: uuid.UUID) -> dict[str, Any] | None:
    """The stored check, and the extract link with whether the record changed since."""
    row = (
        (
            await session.execute(
                text(
                    """
                    SELECT v.status, v.differences, v.code, v.source, v.requested_at,
                           v.attempted_at, v.checked_at, v.attempts, v.next_attempt_at,
                           l.linked_at, l.person_version = p.version AS link_current
                    FROM person p
                    LEFT JOIN person_verification v ON v.person_id = p.id
                    LEFT JOIN dukcapil_person_link l ON l.person_id = p.id
                    WHERE p.id = :id
                    """
                ),
                {"id": person_id},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def store_verification(
    session: AsyncSession,
    person_id: uuid.UUID,
    *,
    status: str,
    code: str,
    differences: list[str],
    answered: bool,
    retry_at: datetime | None,
) -> None:
    """Record one attempt: an answer resets the attempts, a failure counts one more."""
    await session.execute(
        text(
            """
            INSERT INTO person_verification AS v (person_id, status, differences, code,
                source, attempted_at, checked_at, attempts, next_attempt_at)
            VALUES (:p, :status, :differences, :code, 'web_service', now(),
                    CASE WHEN :answered THEN now() END, CASE WHEN :answered THEN 0 ELSE 1 END,
                    coalesce(:retry_at, now()))
            ON CONFLICT (person_id) DO UPDATE SET
                status = CASE WHEN :answered OR v.status NOT IN ('verified', 'differs',
                                                                 'not_found')
                              THEN EXCLUDED.status ELSE v.status END,
                differences = CASE WHEN :answered THEN EXCLUDED.differences
                                   ELSE v.differences END,
                code = EXCLUDED.code, source = 'web_service', attempted_at = now(),
                checked_at = CASE WHEN :answered THEN now() ELSE v.checked_at END,
                attempts = CASE WHEN :answered THEN 0 ELSE v.attempts + 1 END,
                next_attempt_at = coalesce(:retry_at, now())
            """
        ),
        {
            "p": person_id,
            "status": status,
            "code": code,
            "differences": differences,
            "answered": answered,
            "retry_at": retry_at,
        },
    )


async def attempts_of(session: AsyncSession, person_id: uuid.UUID) -> int:
    value = (
        await session.execute(
            text("SELECT attempts FROM person_verification WHERE person_id = :p"),
            {"p": person_id},
        )
    ).scalar_one_or_none()
    return int(value or 0)


async def claim_due(session: AsyncSession, limit: int, lease_s: float) -> list[uuid.UUID]:
    """Due checks, leased so another worker (another replica) skips them meanwhile."""
    rows = await session.execute(
        text(
            """
            UPDATE person_verification SET next_attempt_at = now() + make_interval(secs => :lease)
            WHERE person_id IN (
                SELECT person_id FROM person_verification
                WHERE status IN ('pending', 'unverified') AND next_attempt_at <= now()
                ORDER BY next_attempt_at LIMIT :n FOR UPDATE SKIP LOCKED)
            RETURNING person_id, next_attempt_at
            """
        ),
        {"n": limit, "lease": lease_s},
    )
    return [r[0] for r in sorted(rows.all(), key=lambda r: r[1])]


async def release(session: AsyncSession, person_ids: list[uuid.UUID]) -> None:
    """Give leased checks back: they are due again now."""
    await session.execute(
        text(
            "UPDATE person_verification SET next_attempt_at = now()"
            " WHERE person_id = ANY(:ids) AND status IN ('pending', 'unverified')"
        ),
        {"ids": person_ids},
    )


# --- imports ---------------------------------------------------------------------------

_IMPORT_COLS = """
    i.id, i.regency_code, i.file_name, i.file_sha256, i.file_bytes, i.extract_date,
    i.source, i.status, i.phase, i.rows_total, i.rows_rejected, i.batches_total,
    i.batches_done, i.counts, i.error, i.requested_by, i.created_at, i.started_at,
    i.finished_at
"""


async def get_import(
    session: AsyncSession, import_id: uuid.UUID, scope: str
) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                text(
                    f"SELECT {_IMPORT_COLS} FROM dukcapil_import i"
                    f" WHERE i.id = :id AND {scope_sql('i.regency_code')}"
                ),
                {"id": import_id, "scope": scope},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def list_imports(
    session: AsyncSession, scope: str, after: list[Any] | None, limit: int
) -> list[dict[str, Any]]:
    """Newest first."""
    rows = await session.execute(
        text(
            f"""
            SELECT {_IMPORT_COLS} FROM dukcapil_import i
            WHERE {scope_sql("i.regency_code")}
              AND (CAST(:after_at AS timestamptz) IS NULL
                   OR (i.created_at, i.id) < (:after_at, :after_id))
            ORDER BY i.created_at DESC, i.id DESC
            LIMIT :n
            """
        ),
        {
            "scope": scope,
            "after_at": datetime.fromisoformat(after[0]) if after else None,
            "after_id": uuid.UUID(after[1]) if after else uuid.UUID(int=0),
            "n": limit,
        },
    )
    return [dict(r) for r in rows.mappings()]


async def unfinished_imports(session: AsyncSession) -> list[dict[str, Any]]:
    """Uploaded imports to pick up again after a restart."""
    rows = await session.execute(
        text(
            "SELECT id, spool_path FROM dukcapil_import"
            " WHERE source = 'api' AND status IN ('queued', 'running')"
            " AND spool_path IS NOT NULL ORDER BY created_at"
        )
    )
    return [dict(r) for r in rows.mappings()]


async def stream_changes(
    conn: AsyncConnection, import_id: uuid.UUID
) -> AsyncIterator[tuple[Any, ...]]:
    result = await conn.stream(
        text(
            """
            SELECT kind, person_id, household_id, village_code, row_no,
                   array_to_string(fields, ' ')
            FROM dukcapil_change WHERE import_id = :id ORDER BY id
            """
        ),
        {"id": import_id},
    )
    async for row in result:
        yield tuple(row)


async def stream_rejected(
    conn: AsyncConnection, import_id: uuid.UUID
) -> AsyncIterator[tuple[Any, ...]]:
    result = await conn.stream(
        text(
            """
            SELECT row_no, array_to_string(reasons, ' '), nik_masked, village_code
            FROM dukcapil_rejected_row WHERE import_id = :id ORDER BY row_no
            """
        ),
        {"id": import_id},
    )
    async for row in result:
        yield tuple(row)


# --- conflicts and exit flags ------------------------------------------------------------

_CONFLICT_COLS = """
    c.id, c.import_id, c.record_type, c.person_id, c.household_id, c.village_code,
    c.fields, c.proposed, c.row_hash, c.status, c.created_at, c.resolved_at, c.resolved_by,
    p.full_name AS person_name
"""


async def get_conflict(
    session: AsyncSession, conflict_id: uuid.UUID, scope: str, *, lock: bool = False
) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                text(
                    f"""
                    SELECT {_CONFLICT_COLS}
                    FROM dukcapil_conflict c LEFT JOIN person p ON p.id = c.person_id
                    WHERE c.id = :id AND {scope_sql("c.village_code")}
                    {"FOR UPDATE OF c" if lock else ""}
                    """
                ),
                {"id": conflict_id, "scope": scope},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def list_conflicts(
    session: AsyncSession,
    scope: str,
    filters: dict[str, Any],
    after: list[Any] | None,
    limit: int,
) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            f"""
            SELECT {_CONFLICT_COLS}
            FROM dukcapil_conflict c LEFT JOIN person p ON p.id = c.person_id
            WHERE {scope_sql("c.village_code")} AND {scope_sql("c.village_code", "within")}
              AND (CAST(:status AS text) IS NULL OR c.status = :status)
              AND (CAST(:import_id AS uuid) IS NULL OR c.import_id = :import_id)
              AND (c.village_code, c.id) > (:after_code, :after_id)
            ORDER BY c.village_code, c.id
            LIMIT :n
            """
        ),
        {
            "scope": scope,
            "within": filters.get("within") or "",
            "status": filters.get("status"),
            "import_id": filters.get("import_id"),
            "after_code": after[0] if after else "",
            "after_id": uuid.UUID(after[1]) if after else uuid.UUID(int=0),
            "n": limit,
        },
    )
    return [dict(r) for r in rows.mappings()]


_FLAG_COLS = """
    f.id, f.import_id, f.person_id, f.household_id, f.village_code, f.kind, f.death_date,
    f.status, f.created_at, f.resolved_at, f.resolved_by, f.note, p.full_name AS person_name
"""


async def get_exit_flag(
    session: AsyncSession, flag_id: uuid.UUID, scope: str, *, lock: bool = False
) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                text(
                    f"""
                    SELECT {_FLAG_COLS}
                    FROM dukcapil_exit_flag f JOIN person p ON p.id = f.person_id
                    WHERE f.id = :id AND {scope_sql("f.village_code")}
                    {"FOR UPDATE OF f" if lock else ""}
                    """
                ),
                {"id": flag_id, "scope": scope},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def list_exit_flags(
    session: AsyncSession,
    scope: str,
    filters: dict[str, Any],
    after: list[Any] | None,
    limit: int,
) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            f"""
            SELECT {_FLAG_COLS}
            FROM dukcapil_exit_flag f JOIN person p ON p.id = f.person_id
            WHERE {scope_sql("f.village_code")} AND {scope_sql("f.village_code", "within")}
              AND (CAST(:status AS text) IS NULL OR f.status = :status)
              AND (CAST(:kind AS text) IS NULL OR f.kind = :kind)
              AND (CAST(:import_id AS uuid) IS NULL OR f.import_id = :import_id)
              AND (f.village_code, f.id) > (:after_code, :after_id)
            ORDER BY f.village_code, f.id
            LIMIT :n
            """
        ),
        {
            "scope": scope,
            "within": filters.get("within") or "",
            "status": filters.get("status"),
            "kind": filters.get("kind"),
            "import_id": filters.get("import_id"),
            "after_code": after[0] if after else "",
            "after_id": uuid.UUID(after[1]) if after else uuid.UUID(int=0),
            "n": limit,
        },
    )
    return [dict(r) for r in rows.mappings()]


async def reject_exit_flag(
    session: AsyncSession, flag_id: uuid.UUID, actor: str, note: str | None
) -> None:
    await session.execute(
        text(
            """
            UPDATE dukcapil_exit_flag SET status = 'rejected', resolved_at = now(),
                resolved_by = :actor, note = :note
            WHERE id = :id AND status = 'pending'
            """
        ),
        {"id": flag_id, "actor": actor, "note": note},
    )
