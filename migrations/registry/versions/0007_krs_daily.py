"""registry: the daily KRS reassessment's record, one row per day it ran

The registry reassesses every household once a day (risk/daily.py); this row says the
day is done, so a restart or a second registry process does not run it again.

Revision ID: registry_0007_krs_daily
Revises: registry_0005
Create Date: 2026-11-28
"""

from alembic import op

revision = "registry_0007_krs_daily"
down_revision = "registry_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE krs_daily_run (
            run_date date PRIMARY KEY,
            households integer NOT NULL,
            changed integer NOT NULL,
            seconds real NOT NULL,
            finished_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE krs_daily_run")
