"""All SQL on deliveries: single rows, superseding rows, listings, and the bulk path
(COPY into a staging table, set-based checks, one insert)."""

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import raw_connection
from common.feed import EMIT_MANY_SQL
from common.scoping import scope_sql
from services.interventions.subjects.repository import krs_of

COLUMNS = (
    "id",
    "kind",
    "supersedes",
    "subject_id",
    "counted_subject_id",
    "subject_kind",
    "household_id",
    "village_code",
    "intervention_code",
    "catalogue_version",
    "delivered_on",
    "quantity",
    "unit",
    "sector",
    "organisation",
    "officer",
    "place",
    "funding_source",
    "note",
    "reason",
    "batch_id",
    "recorded_by",
)
_READ_COLS = (
    "d.id, d.kind, d.supersedes, d.is_current AS current,"
    " (d.is_current AND d.kind <> 'voided') AS counts, d.subject_id, d.subject_kind,"
    " d.household_id, d.village_code, d.intervention_code, d.catalogue_version, d.delivered_on,"
    " d.quantity::float8 AS quantity, d.unit, d.sector, d.organisation, d.officer, d.place,"
    " d.funding_source, d.note, d.reason, d.batch_id, d.recorded_by, d.recorded_at"
)


async def insert(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(
        text(
            f"INSERT INTO delivery ({', '.join(COLUMNS)})"
            f" VALUES ({', '.join(':' + c for c in COLUMNS)})"
        ),
        {c: row.get(c) for c in COLUMNS},
    )


async def supersede(session: AsyncSession, delivery_id: uuid.UUID) -> bool:
    """Mark a delivery replaced; False when something else replaced it first."""
    result = await session.execute(
        text(
            "UPDATE delivery SET is_current = false"
            " WHERE id = :id AND is_current AND kind <> 'voided'"
        ),
        {"id": delivery_id},
    )
    return result.rowcount == 1


async def get(session: AsyncSession, delivery_id: uuid.UUID, scope: str) -> dict | None:
    row = (
        (
            await session.execute(
                text(
                    f"SELECT {_READ_COLS} FROM delivery d"
                    f" WHERE d.id = :id AND {scope_sql('d.village_code')}"
                ),
                {"id": delivery_id, "scope": scope},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def history(session: AsyncSession, delivery_id: uuid.UUID) -> list[dict]:
    """Every row of the chain the delivery belongs to, oldest first."""
    rows = await session.execute(
        text(
            f"""
            WITH RECURSIVE back AS (
                SELECT id, supersedes FROM delivery WHERE id = :id
                UNION ALL
                SELECT d.id, d.supersedes FROM delivery d JOIN back b ON d.id = b.supersedes
            ),
            forth AS (
                SELECT id FROM delivery WHERE id = :id
                UNION ALL
                SELECT d.id FROM delivery d JOIN forth f ON d.supersedes = f.id
            )
            SELECT {_READ_COLS} FROM delivery d
            WHERE d.id IN (SELECT id FROM back UNION SELECT id FROM forth)
            ORDER BY d.recorded_at, d.id
            """
        ),
        {"id": delivery_id},
    )
    return [dict(r) for r in rows.mappings()]


async def list_deliveries(
    session: AsyncSession,
    scope: str,
    filters: dict[str, Any],
    after: list[Any] | None,
    limit: int,
) -> list[dict]:
    """Newest first by delivery date; only what counts unless history is asked for."""
    rows = await session.execute(
        text(
            f"""
            SELECT {_READ_COLS} FROM delivery d
            WHERE {scope_sql("d.village_code")} AND {scope_sql("d.village_code", "within")}
              AND (CAST(:subject AS uuid) IS NULL OR d.subject_id = :subject)
              AND (CAST(:code AS text) IS NULL OR d.intervention_code = :code)
              AND (CAST(:from_day AS date) IS NULL OR d.delivered_on >= :from_day)
              AND (CAST(:to_day AS date) IS NULL OR d.delivered_on <= :to_day)
              AND (CAST(:batch AS uuid) IS NULL OR d.batch_id = :batch)
              AND (:history OR (d.is_current AND d.kind <> 'voided'))
              AND (d.delivered_on, d.id) < (CAST(:after_day AS date), CAST(:after_id AS uuid))
            ORDER BY d.delivered_on DESC, d.id DESC
            LIMIT :n
            """
        ),
        {
            "scope": scope,
            "within": filters.get("within") or "",
            "subject": filters.get("subject_id"),
            "code": filters.get("intervention"),
            "from_day": filters.get("from"),
            "to_day": filters.get("to"),
            "batch": filters.get("batch_id"),
            "history": bool(filters.get("history")),
            "after_day": date.fromisoformat(after[0]) if after else date(9999, 12, 31),
            "after_id": uuid.UUID(after[1]) if after else uuid.UUID(int=(1 << 128) - 1),
            "n": limit,
        },
    )
    return [dict(r) for r in rows.mappings()]


# --- bulk --------------------------------------------------------------------------------

STAGE_COLUMNS = (
    "row_no",
    "id",
    "event_id",
    "subject_id",
    "intervention_code",
    "catalogue_version",
    "delivered_on",
    "quantity",
    "unit",
    "funding_source",
    "sector",
    "note",
)


async def stage(session: AsyncSession, records: Sequence[tuple]) -> None:
    """COPY the rows that passed the per-row checks into a temporary staging table."""
    await session.execute(
        text(
            """
            CREATE TEMP TABLE delivery_stage (
                row_no integer PRIMARY KEY, id uuid, event_id uuid, subject_id uuid,
                intervention_code text, catalogue_version integer, delivered_on date,
                quantity float8, unit text, funding_source text, sector text, note text,
                error text
            ) ON COMMIT DROP
            """
        )
    )
    raw = await raw_connection(await session.connection())
    await raw.copy_records_to_table("delivery_stage", records=records, columns=STAGE_COLUMNS)
    await session.execute(text("ANALYZE delivery_stage"))


async def stage_subjects(session: AsyncSession, with_krs: bool) -> list[uuid.UUID]:
    """Copy the staged rows' subjects into ``stage_subject`` and return the ids not in the
    projection.
    ``with_krs``: also look up each person's household KRS status (for rules on it)."""
    krs = krs_of("s") if with_krs else "s.krs"
    # The projection is in memory: probing its index is cheap next to scanning it.
    await session.execute(text("SET LOCAL random_page_cost = 1.1"))
    await session.execute(
        text(
            f"""
            CREATE TEMP TABLE stage_subject ON COMMIT DROP AS
            SELECT s.*, {krs} AS household_krs
            FROM subject s WHERE s.id IN (SELECT subject_id FROM delivery_stage)
            """
        )
    )
    await session.execute(text("CREATE UNIQUE INDEX ON stage_subject (id)"))
    await session.execute(text("ANALYZE stage_subject"))
    rows = await session.execute(
        text(
            "SELECT DISTINCT st.subject_id FROM delivery_stage st"
            " WHERE NOT EXISTS (SELECT 1 FROM stage_subject s WHERE s.id = st.subject_id)"
        )
    )
    return [r[0] for r in rows]


async def add_stage_subjects(session: AsyncSession, ids: list[uuid.UUID]) -> None:
    """Subjects fetched from the registry after staging."""
    if ids:
        await session.execute(
            text(
                f"INSERT INTO stage_subject SELECT s.*, {krs_of('s')} FROM subject s"
                " WHERE s.id = ANY(:ids) ON CONFLICT DO NOTHING"
            ),
            {"ids": ids},
        )


async def mark_subject_errors(session: AsyncSession, scope: str) -> None:
    """Set-based checks against the subject: known and in the caller's region, not a
    merged duplicate, delivered between birth and death."""
    await session.execute(
        text(
            f"""
            UPDATE delivery_stage st SET error = 'not_found'
            WHERE st.error IS NULL AND NOT EXISTS (
                SELECT 1 FROM stage_subject s
                WHERE s.id = st.subject_id AND {scope_sql("s.village_code")})
            """
        ),
        {"scope": scope},
    )
    await session.execute(
        text(
            """
            UPDATE delivery_stage st SET error = CASE
                WHEN s.merged_into IS NOT NULL THEN 'subject_merged'
                WHEN st.delivered_on < s.birth_date THEN 'delivery_before_birth'
                ELSE 'delivery_after_death' END
            FROM stage_subject s
            WHERE s.id = st.subject_id AND st.error IS NULL
              AND (s.merged_into IS NOT NULL OR st.delivered_on < s.birth_date
                   OR st.delivered_on > s.death_date)
            """
        )
    )


async def mark_ineligible(
    session: AsyncSession, code: str, version: int, rule: str, params: dict[str, Any]
) -> None:
    """Rows of one catalogue version whose subject the (exact) rule does not hold for on
    the delivery day."""
    await session.execute(
        text(
            f"""
            UPDATE delivery_stage st SET error = 'intervention_not_applicable'
            WHERE st.error IS NULL AND st.intervention_code = :code
              AND st.catalogue_version = :version
              AND NOT EXISTS (SELECT 1 FROM stage_subject s
                              WHERE s.id = st.subject_id AND {rule})
            """
        ),
        {**params, "code": code, "version": version},
    )


async def stage_rows_for(
    session: AsyncSession, code: str, version: int, errors_only: bool
) -> list[dict]:
    """Staged rows of one version with their subject, for rules evaluated in Python and
    for explaining refusals."""
    rows = await session.execute(
        text(
            f"""
            SELECT st.row_no, st.delivered_on, s.kind, s.sex, s.birth_date, s.target_groups,
                   s.household_krs AS krs, s.growth, s.welfare_decile,
                   s.has_birth_certificate, s.has_nik
            FROM delivery_stage st JOIN stage_subject s ON s.id = st.subject_id
            WHERE st.intervention_code = :code AND st.catalogue_version = :version
              AND {
                "st.error = 'intervention_not_applicable'" if errors_only else "st.error IS NULL"
            }
            ORDER BY st.row_no
            """
        ),
        {"code": code, "version": version},
    )
    return [dict(r) for r in rows.mappings()]


async def mark_rows(session: AsyncSession, row_nos: list[int], error: str) -> None:
    if row_nos:
        await session.execute(
            text("UPDATE delivery_stage SET error = :e WHERE row_no = ANY(:rows)"),
            {"e": error, "rows": row_nos},
        )


async def stage_errors(session: AsyncSession) -> list[tuple[int, str]]:
    rows = await session.execute(
        text("SELECT row_no, error FROM delivery_stage WHERE error IS NOT NULL ORDER BY row_no")
    )
    return [(r[0], r[1]) for r in rows]


async def insert_batch(session: AsyncSession, batch: dict[str, Any]) -> None:
    await session.execute(
        text(
            """
            INSERT INTO delivery_batch (id, reference, intervention_code, delivered_on,
                organisation, officer, place, funding_source, on_error, rows_received,
                rows_accepted, recorded_by)
            VALUES (:id, :reference, :intervention_code, :delivered_on, :organisation,
                :officer, :place, :funding_source, :on_error, :rows_received,
                :rows_accepted, :recorded_by)
            """
        ),
        batch,
    )


async def insert_staged(session: AsyncSession, batch: dict[str, Any]) -> int:
    """The valid staged rows as deliveries, and their events, in two statements. Rows go
    in subject order: the per-subject indexes are then filled page by page."""
    result = await session.execute(
        text(
            """
            INSERT INTO delivery (id, kind, subject_id, counted_subject_id, subject_kind,
                household_id, village_code, intervention_code, catalogue_version, delivered_on,
                quantity, unit, sector, organisation, officer, place, funding_source, note,
                batch_id, recorded_by)
            SELECT st.id, 'recorded', st.subject_id, st.subject_id, s.kind, s.household_id,
                s.village_code, st.intervention_code, st.catalogue_version, st.delivered_on,
                st.quantity, st.unit, st.sector, :organisation, :officer, :place,
                st.funding_source, st.note, :batch_id, :recorded_by
            FROM delivery_stage st JOIN stage_subject s ON s.id = st.subject_id
            WHERE st.error IS NULL
            ORDER BY st.subject_id
            """
        ),
        batch,
    )
    await session.execute(
        text(
            EMIT_MANY_SQL
            + """
            SELECT st.event_id, 'delivery.recorded', 'delivery', st.id, s.village_code,
                json_build_object(
                    'delivery_id', st.id, 'subject_kind', s.kind,
                    'subject_id', st.subject_id, 'household_id', s.household_id,
                    'village_code', s.village_code, 'intervention_code', st.intervention_code,
                    'catalogue_version', st.catalogue_version, 'delivered_on', st.delivered_on,
                    'quantity', st.quantity::numeric(12, 3)::float8, 'unit', st.unit,
                    'sector', st.sector, 'funding_source', st.funding_source,
                    'supersedes', NULL)
            FROM delivery_stage st JOIN stage_subject s ON s.id = st.subject_id
            WHERE st.error IS NULL
            ORDER BY st.row_no
            """
        )
    )
    return result.rowcount
