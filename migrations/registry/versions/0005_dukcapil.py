"""registry: Dukcapil verification, extract imports, conflicts and exit flags

Revision ID: registry_0005
Revises: registry_0004
Create Date: 2026-11-27
"""

from alembic import op

revision = "registry_0005"
down_revision = "registry_0004"
branch_labels = None
depends_on = None

# Writes of more persons than this in one statement are bulk loads (seed, imports):
# they are not queued for one-by-one web-service checks, which would spend the
# day's quota on data that came in bulk.
QUEUE_MAX_ROWS = 500

_STATEMENTS = [
    """
    CREATE TABLE person_verification (
        person_id uuid PRIMARY KEY REFERENCES person (id),
        status text NOT NULL
            CHECK (status IN ('pending', 'verified', 'not_found', 'differs', 'unverified')),
        -- Names of the fields Dukcapil records differently; never their values.
        differences text[] NOT NULL DEFAULT '{}',
        code text,
        source text NOT NULL DEFAULT 'web_service' CHECK (source IN ('web_service', 'extract')),
        requested_at timestamptz NOT NULL DEFAULT now(),
        attempted_at timestamptz,
        checked_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE INDEX person_verification_due ON person_verification (next_attempt_at)
        WHERE status IN ('pending', 'unverified')
    """,
    # Registering a person with a NIK, or changing what Dukcapil can confirm, queues a
    # check; statement-level with transition tables so bulk statements stay set-based.
    f"""
    CREATE FUNCTION dukcapil_queue_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF coalesce(current_setting('kkb.dukcapil_queue', true), '') = 'off'
           OR (SELECT count(*) FROM new_rows) > {QUEUE_MAX_ROWS} THEN
            RETURN NULL;
        END IF;
        INSERT INTO person_verification (person_id, status)
        SELECT id, 'pending' FROM new_rows WHERE nik_hash IS NOT NULL
        ON CONFLICT (person_id) DO UPDATE
            SET status = 'pending', requested_at = now(), next_attempt_at = now(),
                attempts = 0;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION dukcapil_queue_updated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF coalesce(current_setting('kkb.dukcapil_queue', true), '') = 'off'
           OR (SELECT count(*) FROM new_rows) > {QUEUE_MAX_ROWS} THEN
            RETURN NULL;
        END IF;
        INSERT INTO person_verification (person_id, status)
        SELECT n.id, 'pending'
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.nik_hash IS NOT NULL AND n.merged_into IS NULL
          AND (n.nik_hash IS DISTINCT FROM o.nik_hash
               OR n.full_name IS DISTINCT FROM o.full_name
               OR n.birth_date IS DISTINCT FROM o.birth_date
               OR n.sex IS DISTINCT FROM o.sex
               OR n.birth_place IS DISTINCT FROM o.birth_place
               OR n.mother_name IS DISTINCT FROM o.mother_name
               OR n.religion IS DISTINCT FROM o.religion
               OR n.marital_status IS DISTINCT FROM o.marital_status)
        ON CONFLICT (person_id) DO UPDATE
            SET status = 'pending', requested_at = now(), next_attempt_at = now(),
                attempts = 0;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER person_dukcapil_queue_insert AFTER INSERT ON person
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION dukcapil_queue_inserted()
    """,
    """
    CREATE TRIGGER person_dukcapil_queue_update AFTER UPDATE ON person
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION dukcapil_queue_updated()
    """,
    """
    CREATE TABLE dukcapil_import (
        id uuid PRIMARY KEY,
        regency_code text COLLATE "C" NOT NULL REFERENCES region (code),
        file_name text NOT NULL,
        file_sha256 text NOT NULL,
        file_bytes bigint NOT NULL,
        -- Where an uploaded file waits until its import completes (then it is deleted).
        spool_path text,
        extract_date date NOT NULL,
        source text NOT NULL CHECK (source IN ('api', 'cli')),
        status text NOT NULL
            CHECK (status IN ('queued', 'running', 'completed', 'failed')),
        phase text,
        rows_total integer,
        rows_rejected integer,
        batches_total integer,
        batches_done integer NOT NULL DEFAULT 0,
        counts jsonb NOT NULL DEFAULT '{}',
        error jsonb,
        requested_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz
    )
    """,
    "CREATE INDEX dukcapil_import_file ON dukcapil_import (regency_code, file_sha256)",
    "CREATE INDEX dukcapil_import_recent ON dukcapil_import (regency_code, created_at)",
    """
    CREATE TABLE dukcapil_import_batch (
        import_id uuid NOT NULL REFERENCES dukcapil_import (id),
        batch integer NOT NULL,
        counts jsonb NOT NULL,
        done_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (import_id, batch)
    )
    """,
    # What each person and household looked like in the last extract that touched it,
    # and the record version that import left: a later version is an operator's edit.
    # The high-volume tables below carry no foreign keys: an import writes a row per
    # person, and a per-row key check would cost more than the row (the import's SQL
    # writes them only for records it just read or wrote).
    """
    CREATE TABLE dukcapil_person_link (
        person_id uuid PRIMARY KEY,
        row_hash uuid NOT NULL,
        person_version integer NOT NULL,
        import_id uuid NOT NULL,
        linked_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    # An extract row identical to the one a person was linked with is unchanged.
    "CREATE INDEX dukcapil_person_link_row ON dukcapil_person_link (row_hash)",
    """
    CREATE TABLE dukcapil_household_link (
        household_id uuid PRIMARY KEY,
        row_hash uuid NOT NULL,
        household_version integer NOT NULL,
        import_id uuid NOT NULL,
        linked_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE dukcapil_change (
        import_id uuid NOT NULL,
        id bigint GENERATED ALWAYS AS IDENTITY,
        kind text NOT NULL,
        person_id uuid,
        household_id uuid,
        village_code text COLLATE "C",
        row_no integer,
        fields text[] NOT NULL DEFAULT '{}',
        PRIMARY KEY (import_id, id)
    )
    """,
    """
    CREATE TABLE dukcapil_rejected_row (
        import_id uuid NOT NULL,
        row_no integer NOT NULL,
        reasons text[] NOT NULL,
        nik_masked text,
        village_code text COLLATE "C",
        PRIMARY KEY (import_id, row_no)
    )
    """,
    """
    CREATE TABLE dukcapil_conflict (
        id uuid PRIMARY KEY,
        import_id uuid NOT NULL REFERENCES dukcapil_import (id),
        record_type text NOT NULL CHECK (record_type IN ('person', 'household')),
        person_id uuid REFERENCES person (id),
        household_id uuid REFERENCES household (id),
        village_code text COLLATE "C" NOT NULL,
        -- [{field, registry, dukcapil}] for the fields both sides changed.
        fields jsonb NOT NULL,
        -- The extract's values, applied if the operator takes Dukcapil's side.
        proposed jsonb NOT NULL,
        row_hash uuid NOT NULL,
        status text NOT NULL DEFAULT 'open'
            CHECK (status IN ('open', 'kept_registry', 'took_dukcapil', 'superseded')),
        created_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz,
        resolved_by text,
        CHECK ((record_type = 'person') = (person_id IS NOT NULL))
    )
    """,
    """
    CREATE UNIQUE INDEX dukcapil_conflict_open_person ON dukcapil_conflict (person_id)
        WHERE status = 'open' AND record_type = 'person'
    """,
    """
    CREATE UNIQUE INDEX dukcapil_conflict_open_household ON dukcapil_conflict (household_id)
        WHERE status = 'open' AND record_type = 'household'
    """,
    "CREATE INDEX dukcapil_conflict_list ON dukcapil_conflict (village_code, created_at, id)",
    "CREATE INDEX dukcapil_conflict_import ON dukcapil_conflict (import_id)",
    """
    CREATE TABLE dukcapil_exit_flag (
        id uuid PRIMARY KEY,
        import_id uuid NOT NULL REFERENCES dukcapil_import (id),
        person_id uuid NOT NULL REFERENCES person (id),
        household_id uuid REFERENCES household (id),
        village_code text COLLATE "C" NOT NULL,
        kind text NOT NULL CHECK (kind IN ('died', 'moved_out')),
        death_date date,
        status text NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'confirmed', 'rejected', 'auto_applied')),
        created_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz,
        resolved_by text,
        note text,
        CHECK ((kind = 'died') = (death_date IS NOT NULL))
    )
    """,
    """
    CREATE UNIQUE INDEX dukcapil_exit_flag_pending ON dukcapil_exit_flag (person_id)
        WHERE status = 'pending'
    """,
    "CREATE INDEX dukcapil_exit_flag_list ON dukcapil_exit_flag (village_code, created_at, id)",
    "CREATE INDEX dukcapil_exit_flag_import ON dukcapil_exit_flag (import_id)",
    "CREATE INDEX dukcapil_exit_flag_person ON dukcapil_exit_flag (person_id, kind, status)",
]

_DROP = [
    "DROP TABLE dukcapil_exit_flag",
    "DROP TABLE dukcapil_conflict",
    "DROP TABLE dukcapil_rejected_row",
    "DROP TABLE dukcapil_change",
    "DROP TABLE dukcapil_household_link",
    "DROP TABLE dukcapil_person_link",
    "DROP TABLE dukcapil_import_batch",
    "DROP TABLE dukcapil_import",
    "DROP TRIGGER person_dukcapil_queue_update ON person",
    "DROP TRIGGER person_dukcapil_queue_insert ON person",
    "DROP FUNCTION dukcapil_queue_updated()",
    "DROP FUNCTION dukcapil_queue_inserted()",
    "DROP TABLE person_verification",
]


def upgrade() -> None:
    for statement in _STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    for statement in _DROP:
        op.execute(statement)
