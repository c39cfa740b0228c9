"""registry: name search and duplicate keys as expression indexes; a leaner outbox

Every person insert paid for two stored generated columns (the folded name key and the
name tsvector): 2.3 s of a 364,000-person seed, more than the index builds that read
them. The indexes now hold the expressions themselves, computed once per index entry;
the queries use the same expressions (search/repository.py, duplicates/repository.py).

The outbox keeps payloads as ``json`` text: each is written once and served as is, so
parsing it into ``jsonb`` on every write and printing it back on every feed read was
pure cost (building one as jsonb costs ~4 us, as text ~1.5 us). The unique index on
event_id guarded ids we generate (UUIDv7) and nobody looks events up by it: ~1.7 us an
event. Consumers follow the feed by position (xid, id).

Merges the two heads (fhir links, daily KRS record).

Revision ID: registry_0008_lean_writes
Revises: registry_0006_fhir, registry_0007_krs_daily
Create Date: 2026-11-28
"""

from alembic import op

from common.migration_helpers import lean_outbox, rich_outbox

revision = "registry_0008_lean_writes"
down_revision = ("registry_0006_fhir", "registry_0007_krs_daily")
branch_labels = None
depends_on = None

NAME_TSV = "to_tsvector('simple'::regconfig, full_name)"
NAME_KEY = "regexp_replace(lower(full_name), '[^[:alnum:]]+', '', 'g')"


def upgrade() -> None:
    op.execute("DROP INDEX person_name_tsv")
    op.execute("DROP INDEX person_duplicate_key")
    op.execute("ALTER TABLE person DROP COLUMN name_tsv, DROP COLUMN name_key")
    op.execute(f"CREATE INDEX person_name_tsv ON person USING gin (({NAME_TSV}))")
    op.execute(
        f"CREATE INDEX person_duplicate_key ON person (village_code, ({NAME_KEY}), birth_date)"
        " WHERE merged_into IS NULL"
    )
    lean_outbox()


def downgrade() -> None:
    rich_outbox()
    op.execute("DROP INDEX person_name_tsv")
    op.execute("DROP INDEX person_duplicate_key")
    op.execute(
        f"ALTER TABLE person ADD COLUMN name_key text GENERATED ALWAYS AS ({NAME_KEY}) STORED,"
        f" ADD COLUMN name_tsv tsvector GENERATED ALWAYS AS ({NAME_TSV}) STORED"
    )
    op.execute("CREATE INDEX person_name_tsv ON person USING gin (name_tsv)")
    op.execute(
        "CREATE INDEX person_duplicate_key ON person (village_code, name_key, birth_date)"
        " WHERE merged_into IS NULL"
    )
