"""interventions: catalogue, subjects projection, deliveries, referrals, TPK

Revision ID: interventions_0002
Revises: interventions_0001
Create Date: 2026-11-28
"""

from alembic import op

revision = "interventions_0002"
down_revision = "interventions_0001"
branch_labels = None
depends_on = None

_FUNDING = "('APBN', 'APBD', 'DAK', 'DANA_DESA', 'CSR')"

_TABLES = [
    # One row per version of an intervention; the full entry (rule, dose, labels) as JSON.
    """
    CREATE TABLE catalogue_entry (
        code text NOT NULL,
        version integer NOT NULL CHECK (version >= 1),
        valid_from date NOT NULL,
        retired_on date,
        entry jsonb NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (code, version)
    )
    """,
    # The registry's persons and households as this service needs them (feed projection),
    # one partition per kind: most queries read one kind only.
    """
    CREATE TABLE subject (
        id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('person', 'household')),
        household_id uuid,
        village_code text COLLATE "C" NOT NULL,
        sex smallint CHECK (sex IN (1, 2)),
        birth_date date,
        alive boolean NOT NULL DEFAULT true,
        death_date date,
        active boolean NOT NULL DEFAULT true,
        target_groups jsonb NOT NULL DEFAULT '[]',
        krs jsonb,
        growth jsonb,
        welfare_decile smallint,
        has_birth_certificate boolean,
        has_nik boolean,
        merged_into uuid,
        source text NOT NULL DEFAULT 'feed' CHECK (source IN ('feed', 'lookup')),
        updated_from text NOT NULL DEFAULT '',
        source_at timestamptz,
        projected_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (id, kind)
    ) PARTITION BY LIST (kind)
    """,
    "CREATE TABLE subject_person PARTITION OF subject FOR VALUES IN ('person')",
    "CREATE TABLE subject_household PARTITION OF subject FOR VALUES IN ('household')",
    "CREATE INDEX subject_village ON subject (village_code, id)",
    "CREATE INDEX subject_household_of ON subject (household_id) WHERE household_id IS NOT NULL",
    # Age rules (most specific interventions) read this index alone, not the table.
    """
    CREATE INDEX subject_birth ON subject (birth_date)
        INCLUDE (id, village_code, household_id, sex, death_date, merged_into, active)
        WHERE kind = 'person'
    """,
    # The target-group windows of each subject, one row each, for set-based "in group
    # on some day of the period" (kept with target_groups by the repository).
    """
    CREATE TABLE subject_group (
        subject_id uuid NOT NULL,
        kind text NOT NULL,
        grp text NOT NULL,
        start_day date NOT NULL,
        end_day date NOT NULL
    )
    """,
    "CREATE INDEX subject_group_of ON subject_group (subject_id, grp) INCLUDE (start_day, end_day)",
    """
    CREATE INDEX subject_group_members ON subject_group (grp, kind, start_day)
        INCLUDE (end_day, subject_id)
    """,
    # Lokus stunting designations from the registry feed (a village can be lokus some years).
    """
    CREATE TABLE lokus_village (
        village_code text COLLATE "C" NOT NULL,
        year smallint NOT NULL,
        decree_number text,
        decree_date date,
        revoked boolean NOT NULL DEFAULT false,
        PRIMARY KEY (year, village_code)
    )
    """,
    """
    CREATE TABLE delivery_batch (
        id uuid PRIMARY KEY,
        reference text,
        intervention_code text,
        delivered_on date,
        organisation text,
        officer text,
        place text,
        funding_source text,
        on_error text NOT NULL CHECK (on_error IN ('skip', 'reject')),
        rows_received integer NOT NULL,
        rows_accepted integer NOT NULL,
        recorded_by text NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    # Append-only: a correction or void is a new row naming the row it supersedes; only
    # ``is_current`` of the superseded row changes. No foreign keys to catalogue_entry and
    # delivery_batch: their per-row checks took 40% of a 50,000-row bulk insert, and the
    # code resolves both in the same transaction as the insert.
    f"""
    CREATE TABLE delivery (
        id uuid PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('recorded', 'corrected', 'voided')),
        supersedes uuid REFERENCES delivery (id),
        is_current boolean NOT NULL DEFAULT true,
        subject_id uuid NOT NULL,
        -- the subject the delivery counts for: subject_id, or the record it was merged into
        counted_subject_id uuid NOT NULL,
        subject_kind text NOT NULL CHECK (subject_kind IN ('person', 'household')),
        household_id uuid,
        village_code text COLLATE "C" NOT NULL,
        intervention_code text NOT NULL,
        catalogue_version integer NOT NULL,
        delivered_on date NOT NULL,
        quantity numeric(12, 3) NOT NULL CHECK (quantity > 0),
        unit text NOT NULL,
        sector text NOT NULL,
        organisation text,
        officer text,
        place text,
        funding_source text NOT NULL CHECK (funding_source IN {_FUNDING}),
        note text,
        reason text,
        batch_id uuid,
        recorded_by text NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((kind = 'recorded') = (supersedes IS NULL))
    )
    """,
    "CREATE UNIQUE INDEX delivery_successor ON delivery (supersedes) WHERE supersedes IS NOT NULL",
    """
    CREATE INDEX delivery_counting ON delivery (intervention_code, counted_subject_id, delivered_on)
        INCLUDE (quantity, unit) WHERE is_current AND kind <> 'voided'
    """,
    "CREATE INDEX delivery_subject ON delivery (subject_id, delivered_on)",
    "CREATE INDEX delivery_village ON delivery (village_code, delivered_on, id)",
    "CREATE INDEX delivery_batch_rows ON delivery (batch_id) WHERE batch_id IS NOT NULL",
    """
    CREATE TABLE referral (
        id uuid PRIMARY KEY,
        subject_kind text NOT NULL CHECK (subject_kind IN ('person', 'household')),
        subject_id uuid NOT NULL,
        household_id uuid,
        village_code text COLLATE "C" NOT NULL,
        referral_type text NOT NULL,
        from_org text NOT NULL,
        to_sector text NOT NULL,
        state text NOT NULL,
        note text,
        reason text,
        created_on date NOT NULL,
        due_on date NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1,
        CHECK (from_org <> to_sector)
    )
    """,
    "CREATE INDEX referral_incoming ON referral (to_sector, state, due_on)",
    "CREATE INDEX referral_outgoing ON referral (from_org, state, due_on)",
    "CREATE INDEX referral_village ON referral (village_code, id)",
    "CREATE INDEX referral_subject ON referral (subject_id)",
    """
    CREATE TABLE referral_transition (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        referral_id uuid NOT NULL REFERENCES referral (id),
        action text NOT NULL,
        from_state text,
        to_state text NOT NULL,
        actor text NOT NULL,
        actor_role text NOT NULL,
        actor_org text NOT NULL,
        reason text,
        at timestamptz NOT NULL DEFAULT clock_timestamp()
    )
    """,
    "CREATE INDEX referral_transition_referral ON referral_transition (referral_id, id)",
    """
    CREATE TABLE tpk_team (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        region_code text COLLATE "C" NOT NULL,
        members jsonb NOT NULL,
        active boolean NOT NULL DEFAULT true,
        version integer NOT NULL DEFAULT 1,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX tpk_team_region ON tpk_team (region_code, id)",
    "CREATE INDEX tpk_team_members ON tpk_team USING gin (members jsonb_path_ops)",
    """
    CREATE TABLE tpk_team_village (
        team_id uuid NOT NULL REFERENCES tpk_team (id),
        village_code text COLLATE "C" NOT NULL,
        assigned_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (team_id, village_code)
    )
    """,
    "CREATE INDEX tpk_team_village_code ON tpk_team_village (village_code)",
    """
    CREATE TABLE tpk_visit (
        id uuid PRIMARY KEY,
        team_id uuid NOT NULL REFERENCES tpk_team (id),
        subject_id uuid NOT NULL,
        subject_kind text NOT NULL CHECK (subject_kind IN ('person', 'household')),
        household_id uuid,
        village_code text COLLATE "C" NOT NULL,
        target_group text NOT NULL,
        visited_on date NOT NULL,
        answers jsonb NOT NULL,
        advice jsonb NOT NULL DEFAULT '[]',
        referral_ids uuid[] NOT NULL DEFAULT '{}',
        at_risk boolean,
        screening jsonb,
        recorded_by text NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX tpk_visit_subject ON tpk_visit (subject_id, target_group, visited_on)",
    "CREATE INDEX tpk_visit_team ON tpk_visit (team_id, visited_on)",
    "CREATE INDEX tpk_visit_village ON tpk_visit (village_code, visited_on, id)",
]

_DROP = [
    "tpk_visit",
    "tpk_team_village",
    "tpk_team",
    "referral_transition",
    "referral",
    "delivery",
    "delivery_batch",
    "lokus_village",
    "subject_group",
    "subject",
    "catalogue_entry",
]


def upgrade() -> None:
    for statement in _TABLES:
        op.execute(statement)


def downgrade() -> None:
    for table in _DROP:
        op.execute(f"DROP TABLE {table}")
