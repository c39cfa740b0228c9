"""registry: child growth measurements and posyandu uploads

Revision ID: registry_0004
Revises: registry_0003
Create Date: 2026-11-27
"""

from alembic import op

revision = "registry_0004"
down_revision = "registry_0003"
branch_labels = None
depends_on = None

_TABLES = [
    """
    CREATE TABLE measurement_upload (
        id uuid PRIMARY KEY,
        uploaded_by text NOT NULL,
        region_scope text COLLATE "C" NOT NULL,
        file_name text,
        rows_total integer NOT NULL,
        rows_stored integer NOT NULL,
        rows_rejected integer NOT NULL,
        -- Row errors: row number, column, code and message; no personal data.
        errors jsonb NOT NULL DEFAULT '[]',
        engine_version text NOT NULL,
        uploaded_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX measurement_upload_scope ON measurement_upload (region_scope, uploaded_at)",
    """
    CREATE TABLE measurement (
        id uuid PRIMARY KEY,
        person_id uuid NOT NULL REFERENCES person (id),
        -- household_id and upload_id are copied from rows locked or written in the same
        -- transaction; no foreign key, so a bulk upload does not pay a check per row.
        household_id uuid,
        village_code text COLLATE "C" NOT NULL,
        visit_date date NOT NULL,
        visit_month date NOT NULL
            GENERATED ALWAYS AS (date_trunc('month', visit_date::timestamp)::date) STORED,
        -- Sex and birth date as the z-scores used them, so a result stays reproducible
        -- after the person record is corrected.
        sex smallint NOT NULL CHECK (sex IN (1, 2)),
        birth_date date NOT NULL,
        age_days integer NOT NULL CHECK (age_days >= 0),
        weight_kg float8,
        height_cm float8,
        measure text CHECK (measure IN ('l', 'h')),
        oedema boolean NOT NULL DEFAULT false,
        head_cm float8,
        muac_cm float8,
        place text NOT NULL,
        posyandu_name text,
        height_used_cm float8,
        measure_used text CHECK (measure_used IN ('l', 'h')),
        bmi float8,
        zlen float8,
        zwei float8,
        zwfl float8,
        zbmi float8,
        zhc float8,
        zac float8,
        flen boolean,
        fwei boolean,
        fwfl boolean,
        fbmi boolean,
        fhc boolean,
        fac boolean,
        class_len text,
        class_wei text,
        class_wfl text,
        class_bmi text,
        warnings text[] NOT NULL DEFAULT '{}',
        engine_version text NOT NULL,
        -- The one measurement of the child's month that counts (see docs/POSYANDU_CSV.md).
        counted boolean NOT NULL DEFAULT false,
        supersedes uuid REFERENCES measurement (id),
        superseded_by uuid REFERENCES measurement (id),
        correction_reason text,
        source text NOT NULL CHECK (source IN ('api', 'upload')),
        upload_id uuid,
        recorded_by text NOT NULL,
        version integer NOT NULL DEFAULT 1,
        recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CHECK (NOT (counted AND superseded_by IS NOT NULL)),
        CHECK (weight_kg IS NOT NULL OR height_cm IS NOT NULL
               OR head_cm IS NOT NULL OR muac_cm IS NOT NULL)
    )
    """,
    "CREATE INDEX measurement_person ON measurement (person_id, visit_date, recorded_at)",
    """
    CREATE UNIQUE INDEX measurement_counted ON measurement (person_id, visit_month)
        WHERE counted
    """,
    # A version is corrected at most once: corrections form a chain, never a fork.
    "CREATE UNIQUE INDEX measurement_supersedes ON measurement (supersedes)",
    """
    CREATE INDEX measurement_village_visit ON measurement (village_code, visit_date)
        WHERE superseded_by IS NULL
    """,
    "CREATE INDEX measurement_upload_rows ON measurement (upload_id) WHERE upload_id IS NOT NULL",
]


def upgrade() -> None:
    for statement in _TABLES:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE measurement")
    op.execute("DROP TABLE measurement_upload")
