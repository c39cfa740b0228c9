"""reporting: growth_status and krs_status, the spans of each person's latest measurement
and each household's latest KRS verification that the coverage pass reads
(services/reporting/feeds/growth_status.py, krs_status.py)

Revision ID: reporting_0003
Revises: reporting_0002
Create Date: 2026-11-28
"""

from alembic import op

revision = "reporting_0003"
down_revision = "reporting_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Read models: filled here from the rows already consumed, with the code that keeps
    # them (as a rebuild would).
    from services.reporting.feeds import growth_status, krs_status

    op.execute(
        """
        CREATE TABLE growth_status (
            person_id uuid NOT NULL,
            valid_from date NOT NULL,
            valid_to date NOT NULL,
            conditions integer NOT NULL,
            PRIMARY KEY (person_id, valid_from)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE krs_status (
            household_id uuid NOT NULL,
            valid_from date NOT NULL,
            valid_to date NOT NULL,
            is_krs boolean,
            criteria jsonb NOT NULL,
            PRIMARY KEY (household_id, valid_from)
        )
        """
    )
    op.execute(growth_status.fill_all_sql())
    op.execute(krs_status.fill_all_sql())


def downgrade() -> None:
    op.execute("DROP TABLE krs_status")
    op.execute("DROP TABLE growth_status")
