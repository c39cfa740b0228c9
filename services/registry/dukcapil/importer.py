"""Running an extract import: stage the file, reconcile batch by batch, flag exits.

Each batch commits on its own with its counts (``dukcapil_import_batch``), so an import
that stops half-way resumes where it stopped: the file is staged again (same rows, same
batches) and the batches already done are skipped. A file whose import completed is not
imported again (same SHA-256 for the same regency) unless forced; a forced re-import
changes nothing either, since every row matches the hash its record was linked with.

Works on a plain asyncpg connection acting as the registry role, from the CLI and from
the registry's background job alike.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import structlog

from common.ids import uuid7
from services.registry.dukcapil.extract import ExtractFormatError, file_digest, read_layout
from services.registry.dukcapil.reconcile import BatchContext, flag_moved_out, reconcile_batch
from services.registry.dukcapil.staging import STAGING_TABLES, stage_file

log = structlog.get_logger(__name__)

COUNT_KEYS = (
    "households_added",
    "households_updated",
    "household_conflicts",
    "persons_added",
    "births",
    "nik_assigned",
    "persons_updated",
    "persons_moved",
    "person_conflicts",
    "deaths_reported",
    "moved_out_reported",
    "persons_unchanged",
    "dead_unregistered",
    "dead_in_registry",
)


@dataclass
class ImportProgress:
    import_id: uuid.UUID
    phase: str
    batches_done: int = 0
    batches_total: int = 0
    rows_total: int = 0
    rows_rejected: int = 0
    counts: dict[str, int] = field(default_factory=dict)


ProgressFn = Callable[[ImportProgress], None]


class ImportFailed(Exception):
    def __init__(self, code: str, message: dict[str, str]) -> None:
        super().__init__(message["en"])
        self.code = code
        self.message = message


_IMPORT_COLS = """
    id, regency_code, file_name, file_sha256, file_bytes, spool_path, extract_date, source,
    status, phase, rows_total, rows_rejected, batches_total, batches_done, counts, error,
    requested_by, created_at, started_at, finished_at
"""


def _row(record: asyncpg.Record | None) -> dict[str, Any] | None:
    if record is None:
        return None
    row = dict(record)
    for key in ("counts", "error"):
        if isinstance(row.get(key), str):
            row[key] = orjson.loads(row[key])
    return row


async def get_import(conn: asyncpg.Connection, import_id: uuid.UUID) -> dict[str, Any] | None:
    return _row(
        await conn.fetchrow(f"SELECT {_IMPORT_COLS} FROM dukcapil_import WHERE id = $1", import_id)
    )


async def prepare_import(
    conn: asyncpg.Connection,
    path: Path,
    *,
    regency_code: str,
    file_name: str,
    source: str,
    requested_by: str,
    extract_date: date,
    spool_path: str | None = None,
    force: bool = False,
) -> tuple[dict[str, Any], bool]:
    """The import for this file: ``(import, already_completed)``.

    A completed import of the same file for the regency is returned as is (nothing to
    do) unless ``force``; an unfinished one is returned to resume; else a new one.
    """
    digest, size = file_digest(path)
    if not force:
        done = await conn.fetchrow(
            f"""
            SELECT {_IMPORT_COLS} FROM dukcapil_import
            WHERE regency_code = $1 AND file_sha256 = $2 AND status = 'completed'
            ORDER BY finished_at DESC LIMIT 1
            """,
            regency_code,
            digest,
        )
        if done is not None:
            return _row(done), True  # type: ignore[return-value]
    unfinished = await conn.fetchrow(
        f"""
        SELECT {_IMPORT_COLS} FROM dukcapil_import
        WHERE regency_code = $1 AND file_sha256 = $2 AND status <> 'completed'
        ORDER BY created_at DESC LIMIT 1
        """,
        regency_code,
        digest,
    )
    if unfinished is not None:
        return _row(unfinished), False  # type: ignore[return-value]
    row = await conn.fetchrow(
        f"""
        INSERT INTO dukcapil_import (id, regency_code, file_name, file_sha256, file_bytes,
            spool_path, extract_date, source, status, requested_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9)
        RETURNING {_IMPORT_COLS}
        """,
        uuid7(),
        regency_code,
        file_name,
        digest,
        size,
        spool_path,
        extract_date,
        source,
        requested_by,
    )
    return _row(row), False  # type: ignore[return-value]


async def _session_setup(conn: asyncpg.Connection) -> None:
    # Registry writes of this session are Dukcapil's own data: nothing to queue for a
    # web-service check (see migration registry_0005).
    await conn.execute("SET kkb.dukcapil_queue = 'off'; SET work_mem = '256MB'")
    # The registry's tables are read from memory: a batch of 100,000 rows is cheaper
    # probed through the indexes than joined by scanning a million people three times,
    # which the default random_page_cost (disk seeks) has the planner choose.
    await conn.execute("SET random_page_cost = 1.1")
    try:
        await conn.execute("SET temp_buffers = '512MB'")
    except asyncpg.PostgresError:
        pass  # only settable before the session's first temporary table


async def _fail(
    conn: asyncpg.Connection, import_id: uuid.UUID, code: str, message: dict[str, str]
) -> None:
    await conn.execute(
        """
        UPDATE dukcapil_import SET status = 'failed', finished_at = now(), error = $2
        WHERE id = $1
        """,
        import_id,
        orjson.dumps({"code": code, "message": message}).decode(),
    )


_REJECTED_SQL = """
    INSERT INTO dukcapil_rejected_row (import_id, row_no, reasons, nik_masked, village_code)
    SELECT CAST($1 AS uuid), row_no, reasons,
           CASE WHEN nik ~ '^\\d{16}$' THEN left(nik, 4) || repeat('•', 8) || right(nik, 4)
                WHEN coalesce(nik, '') = '' THEN NULL ELSE repeat('•', 16) END,
           village_code
    FROM dk_row WHERE NOT ok
    UNION ALL
    SELECT CAST($1 AS uuid), row_no, ARRAY['row_malformed'], NULL, NULL FROM dk_malformed
    ON CONFLICT DO NOTHING
"""

_TOTALS_SQL = """
    SELECT coalesce(jsonb_object_agg(key, total), '{}'::jsonb)
    FROM (
        SELECT key, sum(value::bigint) AS total
        FROM dukcapil_import_batch, jsonb_each_text(counts)
        WHERE import_id = $1 GROUP BY key
    ) t
"""


async def run_import(
    conn: asyncpg.Connection,
    import_id: uuid.UUID,
    path: Path,
    *,
    batch_rows: int,
    auto_apply_exits: bool,
    hash_key: bytes,
    today: date,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """Run (or resume) an import to the end; the import's final row.

    One import per regency at a time (an advisory lock waits for another to finish).
    Raises ``ImportFailed`` for a file that is not an extract (the import is marked
    failed); other errors leave it failed and resumable.
    """
    job = await get_import(conn, import_id)
    if job is None:
        raise LookupError(f"import {import_id} does not exist")
    regency = job["regency_code"]
    await conn.execute("SELECT pg_advisory_lock(hashtext('dukcapil-import:' || $1))", regency)
    try:
        job = await get_import(conn, import_id)
        assert job is not None
        if job["status"] == "completed":
            return job
        return await _run(conn, job, path, batch_rows, auto_apply_exits, hash_key, today, progress)
    finally:
        await conn.execute("SELECT pg_advisory_unlock(hashtext('dukcapil-import:' || $1))", regency)


async def _run(
    conn: asyncpg.Connection,
    job: dict[str, Any],
    path: Path,
    batch_rows: int,
    auto_apply_exits: bool,
    hash_key: bytes,
    today: date,
    progress: ProgressFn | None,
) -> dict[str, Any]:
    import_id = job["id"]
    state = ImportProgress(import_id=import_id, phase="staging")

    def report(phase: str) -> None:
        state.phase = phase
        if progress is not None:
            progress(state)

    await _session_setup(conn)
    await conn.execute(
        """
        UPDATE dukcapil_import SET status = 'running', phase = 'staging', error = NULL,
            started_at = coalesce(started_at, now()), finished_at = NULL
        WHERE id = $1
        """,
        import_id,
    )
    report("staging")
    try:
        layout = read_layout(path)
        staged = await stage_file(
            conn,
            path,
            layout,
            regency_code=job["regency_code"],
            today=today,
            hash_key=hash_key,
            batch_rows=batch_rows,
            batches=job["batches_total"],
        )
    except ExtractFormatError as exc:
        await _fail(conn, import_id, exc.code, exc.message)
        raise ImportFailed(exc.code, exc.message) from exc
    except Exception:
        await _fail(conn, import_id, "import_failed", _FAILED)
        raise
    previous = await conn.fetchval(
        """
        SELECT extract_date FROM dukcapil_import
        WHERE regency_code = $1 AND status = 'completed' AND id <> $2
        ORDER BY finished_at DESC LIMIT 1
        """,
        job["regency_code"],
        import_id,
    )
    async with conn.transaction():
        await conn.execute(_REJECTED_SQL, import_id)
        await conn.execute(
            """
            UPDATE dukcapil_import SET rows_total = $2, rows_rejected = $3,
                batches_total = $4, phase = 'reconciling'
            WHERE id = $1
            """,
            import_id,
            staged.rows,
            staged.rejected,
            staged.batches,
        )
    state.rows_total, state.rows_rejected = staged.rows, staged.rejected
    state.batches_total = staged.batches
    ctx = BatchContext(
        import_id=import_id,
        extract_date=job["extract_date"],
        previous_extract_date=previous,
        as_of=today,
        auto_apply_exits=auto_apply_exits,
        actor=f"dukcapil-import:{job['requested_by']}",
    )
    done = {
        r["batch"]
        for r in await conn.fetch(
            "SELECT batch FROM dukcapil_import_batch WHERE import_id = $1", import_id
        )
    }
    state.batches_done = len(done)
    growth = _Growth(await conn.fetchval(_PERSONS_ESTIMATE_SQL))
    report("reconciling")
    try:
        for batch in range(staged.batches):
            if batch in done:
                continue
            async with conn.transaction():
                counts = await reconcile_batch(conn, ctx, batch)
                await conn.execute(
                    "INSERT INTO dukcapil_import_batch (import_id, batch, counts)"
                    " VALUES ($1, $2, $3)",
                    import_id,
                    batch,
                    orjson.dumps(counts).decode(),
                )
                totals = await conn.fetchval(_TOTALS_SQL, import_id)
                await conn.execute(
                    """
                    UPDATE dukcapil_import SET batches_done = batches_done + 1, counts = $2
                    WHERE id = $1
                    """,
                    import_id,
                    totals,
                )
            state.batches_done += 1
            state.counts = _counts(totals)
            if growth.added(counts["persons_added"]):
                await conn.execute(_ANALYZE_SQL)
            report("reconciling")
        async with conn.transaction():
            moved_out = await flag_moved_out(conn, ctx, job["regency_code"])
            totals = _counts(await conn.fetchval(_TOTALS_SQL, import_id))
            totals["moved_out_reported"] = moved_out
            totals["rows_rejected"] = staged.rejected
            totals["persons_unchanged"] += staged.unchanged
            await conn.execute(
                """
                UPDATE dukcapil_import SET status = 'completed', phase = 'done',
                    finished_at = now(), counts = $2
                WHERE id = $1
                """,
                import_id,
                orjson.dumps(totals).decode(),
            )
        state.counts = totals
        report("done")
    except Exception:
        await _fail(conn, import_id, "import_failed", _FAILED)
        raise
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {', '.join(STAGING_TABLES)}")
    final = await get_import(conn, import_id)
    assert final is not None
    return final


# Batches that add many people change the tables' shape: fresh statistics, or the next
# batch's plans assume the tables are as small as they were. Once the tables have grown
# by half since their statistics (and by this many people): ANALYZE reads a sample of
# every table, so after each batch of a first import it would cost a tenth of the load.
_GROWTH_ANALYZE = 10_000
_PERSONS_ESTIMATE_SQL = (
    "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'person'::regclass"
)


@dataclass
class _Growth:
    analyzed_rows: int
    since: int = 0

    def added(self, rows: int) -> bool:
        """Count ``rows`` new people; True when the statistics are due."""
        self.since += rows
        if self.since < max(_GROWTH_ANALYZE, self.analyzed_rows // 2):
            return False
        self.analyzed_rows += self.since
        self.since = 0
        return True

_ANALYZE_SQL = """
    ANALYZE person; ANALYZE household; ANALYZE household_membership;
    ANALYZE dukcapil_person_link; ANALYZE dukcapil_household_link
"""

_FAILED = {
    "id": "Impor berhenti karena kesalahan; jalankan lagi untuk melanjutkan.",
    "en": "The import stopped on an error; run it again to resume.",
}


def _counts(raw: Any) -> dict[str, int]:
    values = orjson.loads(raw) if isinstance(raw, str) else dict(raw or {})
    return {k: int(values.get(k, 0)) for k in COUNT_KEYS} | {
        k: int(v) for k, v in values.items() if k not in COUNT_KEYS
    }
