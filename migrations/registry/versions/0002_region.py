"""registry: Kemendagri regions

Revision ID: registry_0002
Revises: registry_0001
Create Date: 2026-11-27
"""

from alembic import op

revision = "registry_0002"
down_revision = "registry_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE region (
            code text COLLATE "C" PRIMARY KEY,
            level text NOT NULL CHECK (level IN ('province','regency','district','village')),
            name text NOT NULL,
            parent_code text COLLATE "C" REFERENCES region (code) DEFERRABLE INITIALLY DEFERRED,
            name_search text NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX region_parent ON region (parent_code, code)")
    op.execute("CREATE INDEX region_name_search ON region (name_search text_pattern_ops)")
    op.execute(
        "CREATE TABLE reference_load (name text PRIMARY KEY, checksum text NOT NULL,"
        " loaded_at timestamptz NOT NULL DEFAULT now())"
    )


def downgrade() -> None:
    op.execute("DROP TABLE reference_load")
    op.execute("DROP TABLE region")
