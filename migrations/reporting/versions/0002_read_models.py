"""reporting: read models built from the registry and interventions feeds, publications

Revision ID: reporting_0002
Revises: reporting_0001
Create Date: 2026-11-27
"""

from alembic import op

revision = "reporting_0002"
down_revision = "reporting_0001"
branch_labels = None
depends_on = None

# Region codes are COLLATE "C" so the prefix range of common.scoping uses the indexes.
# Every row keeps the feed position (xid, id) of the event that last wrote it: events
# already reflected are skipped, and "latest" ties break in feed order on any replay.
_TABLES = [
    """
    CREATE TABLE person (
        person_id uuid PRIMARY KEY,
        household_id uuid,
        village_code text COLLATE "C" NOT NULL,
        sex smallint,
        birth_date date,
        death_date date,
        relationship smallint,
        has_nik boolean,
        has_birth_certificate boolean,
        merged_into uuid,
        moved boolean NOT NULL DEFAULT false,
        pos_xid bigint NOT NULL,
        pos_id bigint NOT NULL
    )
    """,
    "CREATE INDEX person_village ON person (village_code, birth_date)",
    "CREATE INDEX person_household ON person (household_id)",
    "CREATE INDEX person_moved ON person (person_id) WHERE moved",
    # Where a person lived from a date on; the first row starts at -infinity.
    """
    CREATE TABLE person_residence (
        person_id uuid NOT NULL,
        valid_from date NOT NULL,
        village_code text COLLATE "C" NOT NULL,
        household_id uuid,
        PRIMARY KEY (person_id, valid_from)
    )
    """,
    # Target-group windows, inclusive; open ends are -infinity / infinity.
    """
    CREATE TABLE person_target_window (
        person_id uuid NOT NULL,
        target_group text NOT NULL,
        start_date date NOT NULL,
        end_date date NOT NULL,
        PRIMARY KEY (person_id, target_group, start_date)
    )
    """,
    "CREATE INDEX person_target_window_group ON person_target_window (target_group, end_date)",
    """
    CREATE TABLE household (
        household_id uuid PRIMARY KEY,
        village_code text COLLATE "C" NOT NULL,
        active boolean NOT NULL DEFAULT true,
        water_source text,
        sanitation text,
        welfare_decile smallint,
        extreme_poverty boolean,
        pos_xid bigint NOT NULL,
        pos_id bigint NOT NULL
    )
    """,
    "CREATE INDEX household_village ON household (village_code)",
    """
    CREATE TABLE krs_assessment (
        household_id uuid NOT NULL,
        pos_xid bigint NOT NULL,
        pos_id bigint NOT NULL,
        village_code text COLLATE "C" NOT NULL,
        assessed_on date NOT NULL,
        rule_set text,
        is_target_family boolean NOT NULL,
        is_krs boolean,
        criteria jsonb NOT NULL DEFAULT '{}',
        PRIMARY KEY (household_id, pos_xid, pos_id)
    )
    """,
    "CREATE INDEX krs_assessment_village ON krs_assessment (village_code, assessed_on)",
    """
    CREATE TABLE measurement (
        measurement_id uuid PRIMARY KEY,
        person_id uuid NOT NULL,
        household_id uuid,
        village_code text COLLATE "C" NOT NULL,
        visit_date date NOT NULL,
        sex smallint,
        birth_date date,
        age_days integer,
        weight_kg double precision,
        height_cm double precision,
        measure text,
        oedema boolean NOT NULL DEFAULT false,
        muac_cm double precision,
        zlen double precision,
        zwei double precision,
        zwfl double precision,
        zbmi double precision,
        flen boolean NOT NULL DEFAULT false,
        fwei boolean NOT NULL DEFAULT false,
        fwfl boolean NOT NULL DEFAULT false,
        fbmi boolean NOT NULL DEFAULT false,
        class_len text,
        class_wei text,
        class_wfl text,
        class_bmi text,
        supersedes uuid,
        superseded boolean NOT NULL DEFAULT false,
        pos_xid bigint NOT NULL,
        pos_id bigint NOT NULL
    )
    """,
    "CREATE INDEX measurement_person ON measurement (person_id, visit_date)",
    # One row per child and period (kind M/Q/Y): the counted class per index, the child
    # placed in the village it lived in at the end of the period.
    """
    CREATE TABLE growth_child_period (
        period_kind char(1) NOT NULL,
        period_start date NOT NULL,
        person_id uuid NOT NULL,
        village_code text COLLATE "C" NOT NULL,
        haz text,
        whz text,
        waz text,
        PRIMARY KEY (period_kind, period_start, person_id)
    )
    """,
    "CREATE INDEX growth_child_period_person ON growth_child_period (person_id)",
    """
    CREATE INDEX growth_child_period_village
        ON growth_child_period (period_kind, period_start, village_code)
    """,
    # Sums of growth_child_period per village and period, kept by deltas in each batch.
    """
    CREATE TABLE growth_village_period (
        period_kind char(1) NOT NULL,
        period_start date NOT NULL,
        village_code text COLLATE "C" NOT NULL,
        measured integer NOT NULL DEFAULT 0,
        haz_n integer NOT NULL DEFAULT 0,
        stunted integer NOT NULL DEFAULT 0,
        severely_stunted integer NOT NULL DEFAULT 0,
        whz_n integer NOT NULL DEFAULT 0,
        wasted integer NOT NULL DEFAULT 0,
        severely_wasted integer NOT NULL DEFAULT 0,
        overweight integer NOT NULL DEFAULT 0,
        waz_n integer NOT NULL DEFAULT 0,
        underweight integer NOT NULL DEFAULT 0,
        PRIMARY KEY (period_kind, period_start, village_code)
    )
    """,
    """
    CREATE TABLE delivery (
        delivery_id uuid PRIMARY KEY,
        kind text NOT NULL,
        subject_kind text NOT NULL,
        subject_id uuid NOT NULL,
        household_id uuid,
        village_code text COLLATE "C" NOT NULL,
        intervention_code text NOT NULL,
        catalogue_version integer,
        delivered_on date NOT NULL,
        quantity double precision,
        unit text,
        sector text,
        funding_source text,
        supersedes uuid,
        superseded boolean NOT NULL DEFAULT false,
        pos_xid bigint NOT NULL,
        pos_id bigint NOT NULL
    )
    """,
    "CREATE INDEX delivery_subject ON delivery (subject_id, intervention_code, delivered_on)",
    "CREATE INDEX delivery_code ON delivery (intervention_code, delivered_on)",
    "CREATE INDEX delivery_household ON delivery (household_id, intervention_code, delivered_on)",
    """
    CREATE TABLE referral (
        referral_id uuid PRIMARY KEY,
        subject_kind text,
        subject_id uuid,
        village_code text COLLATE "C" NOT NULL,
        referral_type text,
        from_org text,
        to_sector text,
        state text NOT NULL,
        raised_on date NOT NULL,
        due_on date,
        completed_on date,
        pos_xid bigint NOT NULL,
        pos_id bigint NOT NULL
    )
    """,
    "CREATE INDEX referral_village ON referral (village_code, raised_on)",
    """
    CREATE TABLE referral_transition (
        referral_id uuid NOT NULL,
        pos_xid bigint NOT NULL,
        pos_id bigint NOT NULL,
        state text NOT NULL,
        action text,
        at timestamptz NOT NULL,
        PRIMARY KEY (referral_id, pos_xid, pos_id)
    )
    """,
    """
    CREATE TABLE tpk_visit (
        visit_id uuid PRIMARY KEY,
        team_id uuid,
        subject_id uuid NOT NULL,
        village_code text COLLATE "C" NOT NULL,
        target_group text NOT NULL,
        visited_on date NOT NULL,
        at_risk boolean
    )
    """,
    "CREATE INDEX tpk_visit_subject ON tpk_visit (subject_id, visited_on)",
    """
    CREATE TABLE site (
        site_id uuid PRIMARY KEY,
        village_code text COLLATE "C" NOT NULL,
        name text,
        established_on date,
        maturity_level text,
        pos_xid bigint NOT NULL,
        pos_id bigint NOT NULL
    )
    """,
    "CREATE INDEX site_village ON site (village_code)",
    """
    CREATE TABLE site_level (
        site_id uuid NOT NULL,
        effective_on date NOT NULL,
        level text NOT NULL,
        PRIMARY KEY (site_id, effective_on)
    )
    """,
    """
    CREATE TABLE lokus (
        village_code text COLLATE "C" NOT NULL,
        year smallint NOT NULL,
        decree_number text,
        decree_date date,
        revoked boolean NOT NULL DEFAULT false,
        pos_xid bigint NOT NULL,
        pos_id bigint NOT NULL,
        PRIMARY KEY (village_code, year)
    )
    """,
    # Published figures: written once, never changed (the trigger refuses it).
    """
    CREATE TABLE publication (
        publication_id uuid PRIMARY KEY,
        region_code text COLLATE "C" NOT NULL,
        period_code text NOT NULL,
        version integer NOT NULL,
        published_at timestamptz NOT NULL DEFAULT now(),
        published_by text NOT NULL,
        data_cutoff jsonb NOT NULL,
        indicator_keys jsonb NOT NULL,
        fingerprint text NOT NULL,
        figures jsonb NOT NULL,
        UNIQUE (region_code, period_code, version)
    )
    """,
    """
    CREATE FUNCTION publication_is_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'published figures are frozen; publish a new version instead'
            USING ERRCODE = 'restrict_violation';
    END $$
    """,
    """
    CREATE TRIGGER publication_frozen BEFORE UPDATE OR DELETE ON publication
        FOR EACH ROW EXECUTE FUNCTION publication_is_frozen()
    """,
    """
    CREATE TRIGGER publication_not_truncated BEFORE TRUNCATE ON publication
        FOR EACH STATEMENT EXECUTE FUNCTION publication_is_frozen()
    """,
]

_DROP = [
    "DROP TABLE publication",
    "DROP FUNCTION publication_is_frozen()",
    "DROP TABLE lokus",
    "DROP TABLE site_level",
    "DROP TABLE site",
    "DROP TABLE tpk_visit",
    "DROP TABLE referral_transition",
    "DROP TABLE referral",
    "DROP TABLE delivery",
    "DROP TABLE growth_village_period",
    "DROP TABLE growth_child_period",
    "DROP TABLE measurement",
    "DROP TABLE krs_assessment",
    "DROP TABLE household",
    "DROP TABLE person_target_window",
    "DROP TABLE person_residence",
    "DROP TABLE person",
]


def upgrade() -> None:
    for statement in _TABLES:
        op.execute(statement)


def downgrade() -> None:
    for statement in _DROP:
        op.execute(statement)
