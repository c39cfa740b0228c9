"""registry: Kampung KB sites, lokus, households, persons, life events, KRS

Revision ID: registry_0003
Revises: registry_0002
Create Date: 2026-11-27
"""

from alembic import op

revision = "registry_0003"
down_revision = "registry_0002"
branch_labels = None
depends_on = None

_TABLES = [
    """
    CREATE TABLE kampung_kb_site (
        id uuid PRIMARY KEY,
        village_code text NOT NULL REFERENCES region (code),
        sub_area_kind text CHECK (sub_area_kind IN ('dusun', 'rw')),
        sub_area_code text,
        name text NOT NULL,
        established_on date NOT NULL,
        decree_number text,
        decree_date date,
        rumah_dataku_level text,
        aims smallint[] NOT NULL DEFAULT '{}',
        area_types text[] NOT NULL DEFAULT '{}',
        pokja jsonb NOT NULL DEFAULT '[]',
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((sub_area_kind IS NULL) = (sub_area_code IS NULL))
    )
    """,
    "CREATE INDEX kampung_kb_site_village ON kampung_kb_site (village_code, id)",
    """
    CREATE TABLE kampung_kb_maturity (
        site_id uuid NOT NULL REFERENCES kampung_kb_site (id),
        effective_date date NOT NULL,
        level text NOT NULL,
        decree_number text,
        note text,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (site_id, effective_date)
    )
    """,
    """
    CREATE TABLE lokus_designation (
        village_code text NOT NULL REFERENCES region (code),
        year smallint NOT NULL CHECK (year BETWEEN 2000 AND 2100),
        decree_number text NOT NULL,
        decree_date date NOT NULL,
        revoked_on date,
        revoke_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (village_code, year)
    )
    """,
    "CREATE INDEX lokus_designation_year ON lokus_designation (year, village_code)",
    """
    CREATE TABLE household (
        id uuid PRIMARY KEY,
        kk_number_enc text NOT NULL,
        kk_hash text NOT NULL,
        village_code text NOT NULL REFERENCES region (code),
        dusun text,
        rw text,
        rt text,
        address text,
        active boolean NOT NULL DEFAULT true,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    # One active household per Kartu Keluarga number.
    "CREATE UNIQUE INDEX household_kk_active ON household (kk_hash) WHERE active",
    "CREATE INDEX household_village ON household (village_code, id)",
    """
    CREATE TABLE household_condition (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        household_id uuid NOT NULL REFERENCES household (id),
        observed_date date NOT NULL,
        water_source text,
        sanitation text,
        house_condition text,
        welfare_decile smallint CHECK (welfare_decile BETWEEN 1 AND 10),
        extreme_poverty boolean,
        recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )
    """,
    """
    CREATE INDEX household_condition_latest
        ON household_condition (household_id, observed_date DESC, id DESC)
    """,
    """
    CREATE TABLE person (
        id uuid PRIMARY KEY,
        nik_enc text,
        nik_hash text,
        provisional_id text UNIQUE,
        full_name text NOT NULL,
        -- Duplicate key: case, spaces and punctuation folded ("Nur'aini" = "Nur Aini").
        name_key text GENERATED ALWAYS AS
            (regexp_replace(lower(full_name), '[^[:alnum:]]+', '', 'g')) STORED,
        name_tsv tsvector GENERATED ALWAYS AS
            (to_tsvector('simple'::regconfig, full_name)) STORED,
        sex smallint NOT NULL CHECK (sex IN (1, 2)),
        birth_date date NOT NULL,
        birth_place text,
        religion smallint,
        education smallint,
        occupation smallint,
        marital_status smallint,
        marital_status_since date,
        has_birth_certificate boolean NOT NULL DEFAULT false,
        mother_id uuid REFERENCES person (id),
        mother_name text,
        death_date date,
        household_id uuid REFERENCES household (id),
        relationship smallint,
        village_code text NOT NULL,
        merged_into uuid REFERENCES person (id),
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (nik_enc IS NOT NULL OR provisional_id IS NOT NULL),
        CHECK ((nik_enc IS NULL) = (nik_hash IS NULL))
    )
    """,
    # One living record per NIK: a second registration anywhere is refused.
    "CREATE UNIQUE INDEX person_nik ON person (nik_hash) WHERE merged_into IS NULL",
    "CREATE INDEX person_household ON person (household_id)",
    "CREATE INDEX person_village_birth ON person (village_code, birth_date)",
    "CREATE INDEX person_name_tsv ON person USING gin (name_tsv)",
    """
    CREATE INDEX person_duplicate_key ON person (village_code, name_key, birth_date)
        WHERE merged_into IS NULL
    """,
    "CREATE INDEX person_mother ON person (mother_id) WHERE mother_id IS NOT NULL",
    """
    CREATE TABLE person_identifier_history (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        person_id uuid NOT NULL REFERENCES person (id),
        kind text NOT NULL CHECK (kind IN ('nik', 'provisional')),
        -- NIK ciphertext, or the provisional id itself (not personal data).
        value text NOT NULL,
        valid_until timestamptz NOT NULL DEFAULT now(),
        reason text NOT NULL
    )
    """,
    "CREATE INDEX person_identifier_history_person ON person_identifier_history (person_id)",
    """
    CREATE TABLE household_membership (
        id uuid PRIMARY KEY,
        person_id uuid NOT NULL REFERENCES person (id),
        household_id uuid NOT NULL REFERENCES household (id),
        relationship smallint NOT NULL,
        start_date date NOT NULL,
        end_date date,
        end_reason text CHECK (end_reason IN ('moved', 'died', 'merged')),
        CHECK ((end_date IS NULL) = (end_reason IS NULL))
    )
    """,
    # One active household per person.
    """
    CREATE UNIQUE INDEX household_membership_active ON household_membership (person_id)
        WHERE end_reason IS NULL
    """,
    "CREATE INDEX household_membership_household ON household_membership (household_id)",
    """
    CREATE TABLE life_event (
        id uuid PRIMARY KEY,
        person_id uuid NOT NULL REFERENCES person (id),
        household_id uuid REFERENCES household (id),
        village_code text NOT NULL,
        kind text NOT NULL
            CHECK (kind IN ('pregnancy', 'delivery', 'marriage_plan', 'contraception')),
        start_date date,
        end_date date,
        expected_date date,
        outcome text,
        details jsonb NOT NULL DEFAULT '{}',
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX life_event_person ON life_event (person_id, start_date)",
    "CREATE INDEX life_event_village_kind ON life_event (village_code, kind, start_date)",
    """
    CREATE TABLE krs_assessment (
        id uuid PRIMARY KEY,
        household_id uuid NOT NULL REFERENCES household (id),
        village_code text NOT NULL,
        assessed_on date NOT NULL,
        rule_set text NOT NULL,
        is_target_family boolean NOT NULL,
        is_krs boolean,
        criteria jsonb NOT NULL,
        criteria_met text[] NOT NULL DEFAULT '{}',
        reason jsonb NOT NULL,
        is_current boolean NOT NULL DEFAULT true,
        assessed_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )
    """,
    "CREATE UNIQUE INDEX krs_assessment_current ON krs_assessment (household_id) WHERE is_current",
    # The KRS list of a region, in cursor order.
    """
    CREATE INDEX krs_assessment_list ON krs_assessment (village_code, household_id)
        WHERE is_current AND is_krs
    """,
    "CREATE INDEX krs_assessment_history ON krs_assessment (household_id, assessed_at)",
    """
    CREATE TABLE person_merge (
        removed_id uuid PRIMARY KEY REFERENCES person (id),
        kept_id uuid NOT NULL REFERENCES person (id),
        merged_at timestamptz NOT NULL DEFAULT now(),
        merged_by text NOT NULL,
        removed_household_id uuid,
        removed_relationship smallint
    )
    """,
    "CREATE INDEX person_merge_kept ON person_merge (kept_id)",
]

_DROP = [
    "person_merge",
    "krs_assessment",
    "life_event",
    "household_membership",
    "person_identifier_history",
    "person",
    "household_condition",
    "household",
    "lokus_designation",
    "kampung_kb_maturity",
    "kampung_kb_site",
]


def upgrade() -> None:
    for statement in _TABLES:
        op.execute(statement)


def downgrade() -> None:
    for table in _DROP:
        op.execute(f"DROP TABLE {table}")
