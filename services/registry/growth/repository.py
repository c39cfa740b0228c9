"""All SQL on growth measurements and posyandu uploads.

Reads are scoped by the child's current village (``person.village_code``); a measurement
keeps the village where it was taken for reporting. Bulk paths are set-based: COPY into
temporary tables, then one statement per step.
"""

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import raw_connection
from common.feed import EMIT_MANY_SQL
from common.scoping import scope_sql
from services.registry.growth.csv_io import CLASS_COLUMNS, FLAG_COLUMNS, Z_COLUMNS

INSERT_COLUMNS = (
    "id",
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
    "posyandu_name",
    "height_used_cm",
    "measure_used",
    "bmi",
    *Z_COLUMNS,
    *FLAG_COLUMNS,
    *CLASS_COLUMNS,
    "warnings",
    "engine_version",
    "supersedes",
    "correction_reason",
    "source",
    "upload_id",
    "recorded_by",
)
_COLUMNS = ", ".join(INSERT_COLUMNS)
READ_COLUMNS = ", ".join(f"m.{c}" for c in INSERT_COLUMNS) + (
    ", m.counted, m.superseded_by, m.version, m.recorded_at"
)

CHILD_COLUMNS = """
    p.id, p.full_name, p.sex, p.birth_date, p.death_date, p.merged_into, p.household_id,
    p.village_code
"""

# --- children ----------------------------------------------------------------------------


async def get_child(
    session: AsyncSession, person_id: uuid.UUID, scope: str, *, lock: bool = False
) -> dict[str, Any] | None:
    """The person if in scope; ``lock`` serialises measurements of the same child."""
    row = (
        (
            await session.execute(
                text(
                    f"SELECT {CHILD_COLUMNS} FROM person p"
                    f" WHERE p.id = :id AND {scope_sql('p.village_code')}"
                    f"{' FOR NO KEY UPDATE' if lock else ''}"
                ),
                {"id": person_id, "scope": scope},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def lock_children(session: AsyncSession, person_ids: Sequence[uuid.UUID]) -> None:
    """Row locks in id order (no deadlock between two uploads of the same children)."""
    await session.execute(
        text("SELECT id FROM person WHERE id = ANY(:ids) ORDER BY id FOR NO KEY UPDATE"),
        {"ids": list(person_ids)},
    )


# --- measurements ------------------------------------------------------------------------


async def insert_measurement(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(
        text(
            f"INSERT INTO measurement ({_COLUMNS})"
            f" VALUES ({', '.join(':' + c for c in INSERT_COLUMNS)})"
        ),
        {c: values.get(c) for c in INSERT_COLUMNS},
    )


async def get_measurement(
    session: AsyncSession, measurement_id: uuid.UUID, scope: str, *, lock: bool = False
) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                text(
                    f"SELECT {READ_COLUMNS} FROM measurement m"
                    " JOIN person p ON p.id = m.person_id"
                    f" WHERE m.id = :id AND {scope_sql('p.village_code')}"
                    f"{' FOR UPDATE OF m' if lock else ''}"
                ),
                {"id": measurement_id, "scope": scope},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def history(
    session: AsyncSession, person_id: uuid.UUID, *, include_superseded: bool
) -> list[dict[str, Any]]:
    """A child's measurements by visit date (call after the child was found in scope)."""
    current = "" if include_superseded else " AND m.superseded_by IS NULL"
    rows = await session.execute(
        text(
            f"SELECT {READ_COLUMNS} FROM measurement m WHERE m.person_id = :p{current}"
            " ORDER BY m.visit_date, m.recorded_at, m.id"
        ),
        {"p": person_id},
    )
    return [dict(r) for r in rows.mappings()]


async def recorded_on(session: AsyncSession, person_id: uuid.UUID, visit_date: date) -> uuid.UUID:
    """The current measurement of the child on that date, if any."""
    return (
        await session.execute(
            text(
                "SELECT id FROM measurement WHERE person_id = :p AND visit_date = :d"
                " AND superseded_by IS NULL LIMIT 1"
            ),
            {"p": person_id, "d": visit_date},
        )
    ).scalar_one_or_none()


async def supersede(
    session: AsyncSession, old_id: uuid.UUID, new_id: uuid.UUID, version: int
) -> bool:
    """Mark ``old_id`` replaced by ``new_id``, if still current at ``version``."""
    return (
        await session.execute(
            text(
                """
                UPDATE measurement
                SET superseded_by = :new, counted = false, version = version + 1
                WHERE id = :old AND version = :v AND superseded_by IS NULL
                RETURNING id
                """
            ),
            {"old": old_id, "new": new_id, "v": version},
        )
    ).scalar_one_or_none() is not None


def _recount(months: str) -> list[str]:
    """Two statements: clear, then set, so the unique index on counted rows never sees
    two counted visits of one month in between."""
    keep = f"""
        WITH months AS ({months}),
        keep AS (
            SELECT DISTINCT ON (m.person_id, m.visit_month) m.id
            FROM measurement m JOIN months mo USING (person_id, visit_month)
            WHERE m.superseded_by IS NULL
            ORDER BY m.person_id, m.visit_month, m.visit_date DESC, m.recorded_at DESC,
                     m.id DESC
        )
    """
    return [
        keep
        + """
        UPDATE measurement m SET counted = false
        FROM months mo
        WHERE m.person_id = mo.person_id AND m.visit_month = mo.visit_month AND m.counted
          AND m.id NOT IN (SELECT id FROM keep)
        """,
        keep + "UPDATE measurement m SET counted = true FROM keep k WHERE m.id = k.id"
        " AND NOT m.counted",
    ]


async def recount_months(
    session: AsyncSession, person_id: uuid.UUID, months: Sequence[date]
) -> None:
    """Re-decide which visit counts in each given month of one child."""
    months_sql = (
        "SELECT CAST(:p AS uuid) AS person_id, unnest(CAST(:months AS date[])) AS visit_month"
    )
    for statement in _recount(months_sql):
        await session.execute(text(statement), {"p": person_id, "months": list(months)})


async def latest_growth(session: AsyncSession, person_id: uuid.UUID) -> dict[str, Any] | None:
    """The ``growth`` block of the internal subject lookup (docs/CONTRACTS.md)."""
    row = (
        (
            await session.execute(
                text(
                    """
                    SELECT class_len AS latest_class_len, class_wei AS latest_class_wei,
                           class_wfl AS latest_class_wfl, class_bmi AS latest_class_bmi,
                           muac_cm, oedema, visit_date, id AS measurement_id
                    FROM measurement
                    WHERE person_id = :p AND superseded_by IS NULL
                    ORDER BY visit_date DESC, recorded_at DESC, id DESC LIMIT 1
                    """
                ),
                {"p": person_id},
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return {
        **row,
        "visit_date": row["visit_date"].isoformat(),
        "measurement_id": str(row["measurement_id"]),
    }


# --- uploads -------------------------------------------------------------------------------

STAGE_COLUMNS = ("row_no", "person_id", "nik_hash", "visit_date")


async def stage_keys(session: AsyncSession, records: Sequence[tuple]) -> None:
    """COPY the identifying cells of every row into a temporary staging table."""
    await session.execute(
        text(
            """
            CREATE TEMP TABLE growth_stage (
                row_no integer PRIMARY KEY, person_id uuid, nik_hash text, visit_date date
            ) ON COMMIT DROP
            """
        )
    )
    raw = await raw_connection(await session.connection())
    await raw.copy_records_to_table("growth_stage", records=records, columns=STAGE_COLUMNS)
    await session.execute(text("ANALYZE growth_stage"))


async def resolve_staged(session: AsyncSession, scope: str) -> list[dict[str, Any]]:
    """Each staged row with the person its id and its NIK name (each looked up on its
    own, so a disagreement shows), and that person's facts if within ``scope``."""
    rows = await session.execute(
        text(
            f"""
            WITH found AS (
                SELECT s.row_no, s.visit_date, pi.id AS by_id, pn.id AS by_nik
                FROM growth_stage s
                LEFT JOIN person pi ON pi.id = s.person_id
                LEFT JOIN person pn ON pn.nik_hash = s.nik_hash AND pn.merged_into IS NULL
            )
            SELECT f.row_no, f.by_id, f.by_nik, {CHILD_COLUMNS}
            FROM found f
            LEFT JOIN person p ON p.id = COALESCE(f.by_id, f.by_nik)
                AND {scope_sql("p.village_code")}
            ORDER BY f.row_no
            """
        ),
        {"scope": scope},
    )
    return [dict(r) for r in rows.mappings()]


async def already_recorded(
    session: AsyncSession, person_ids: Sequence[uuid.UUID], visit_dates: Sequence[date]
) -> set[tuple[uuid.UUID, date]]:
    """Which (child, visit date) pairs already have a current measurement."""
    rows = await session.execute(
        text(
            """
            SELECT DISTINCT m.person_id, m.visit_date
            FROM unnest(CAST(:p AS uuid[]), CAST(:d AS date[])) AS k(person_id, visit_date)
            JOIN measurement m ON m.person_id = k.person_id AND m.visit_date = k.visit_date
            WHERE m.superseded_by IS NULL
            """
        ),
        {"p": list(person_ids), "d": list(visit_dates)},
    )
    return {(r.person_id, r.visit_date) for r in rows}


async def insert_upload(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(
        text(
            """
            INSERT INTO measurement_upload (id, uploaded_by, region_scope, file_name,
                rows_total, rows_stored, rows_rejected, errors, engine_version)
            VALUES (:id, :uploaded_by, :region_scope, :file_name, :rows_total, :rows_stored,
                    :rows_rejected, CAST(:errors AS jsonb), :engine_version)
            """
        ),
        {**values, "errors": orjson.dumps(values["errors"]).decode()},
    )


SCORED_COLUMNS = (*INSERT_COLUMNS, "event_id", "payload")
_MONTH = "date_trunc('month', s.visit_date::timestamp)::date"


async def bulk_settings(session: AsyncSession) -> None:
    """For this transaction only: no JIT. The planner's estimate for a few thousand rows
    with a per-row subquery crosses ``jit_above_cost``, and compiling then costs more
    than running the query."""
    await session.execute(text("SET LOCAL jit = off"))


async def insert_scored(session: AsyncSession, records: Sequence[tuple], event_type: str) -> None:
    """Store scored rows (``SCORED_COLUMNS``: children-and-dates not yet recorded, the
    event id and payload) and publish their events: COPY into a temporary table, then one
    statement giving up the counted mark of an earlier visit of the month, one
    INSERT … SELECT deciding the new rows' counted mark, one INSERT … SELECT into the
    outbox."""
    await session.execute(
        text(
            f"CREATE TEMP TABLE growth_scored ON COMMIT DROP AS"
            f" SELECT {_COLUMNS}, CAST(NULL AS uuid) AS event_id, CAST(NULL AS text) AS payload"
            f" FROM measurement WITH NO DATA"
        )
    )
    raw = await raw_connection(await session.connection())
    await raw.copy_records_to_table("growth_scored", records=records, columns=SCORED_COLUMNS)
    # The counted visit of a month is its latest (docs/POSYANDU_CSV.md); same-date visits
    # are refused before this point, so comparing dates decides it.
    await session.execute(
        text(
            f"""
            UPDATE measurement m SET counted = false
            FROM (SELECT person_id, {_MONTH} AS visit_month, max(visit_date) AS latest
                  FROM growth_scored s GROUP BY 1, 2) s
            WHERE m.person_id = s.person_id AND m.visit_month = s.visit_month AND m.counted
              AND m.visit_date < s.latest
            """
        )
    )
    await session.execute(
        text(
            f"""
            INSERT INTO measurement ({_COLUMNS}, counted)
            SELECT {", ".join(f"s.{c}" for c in INSERT_COLUMNS)},
                   row_number() OVER (PARTITION BY s.person_id, {_MONTH}
                                      ORDER BY s.visit_date DESC, s.id DESC) = 1
                   AND NOT EXISTS (
                       SELECT 1 FROM measurement m
                       WHERE m.person_id = s.person_id AND m.visit_month = {_MONTH}
                         AND m.superseded_by IS NULL AND m.visit_date > s.visit_date)
            FROM growth_scored s
            """
        )
    )
    # COPY filled the table in id order, which a plain scan returns: events keep it.
    await session.execute(
        text(
            EMIT_MANY_SQL
            + """
            SELECT s.event_id, :type, 'measurement', s.id, s.village_code,
                   CAST(s.payload AS json)
            FROM growth_scored s
            """
        ),
        {"type": event_type},
    )


async def get_upload(
    session: AsyncSession, upload_id: uuid.UUID, scope: str
) -> dict[str, Any] | None:
    """An upload made by a caller whose region lies within ``scope``."""
    row = (
        (
            await session.execute(
                text(
                    f"""
                    SELECT id, uploaded_by, region_scope, file_name, rows_total, rows_stored,
                           rows_rejected, errors, engine_version, uploaded_at
                    FROM measurement_upload u
                    WHERE u.id = :id AND {scope_sql("u.region_scope")}
                    """
                ),
                {"id": upload_id, "scope": scope},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None
