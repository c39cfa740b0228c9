"""reporting: growth_status, the spans of each person's latest measurement that a
coverage target's growth condition reads (services/reporting/feeds/growth_status.py)

Revision ID: reporting_0003
Revises: reporting_0002
Create Date: 2026-11-28
"""

from alembic import op

revision = "reporting_0003"
down_revision = "reporting_0002"
branch_labels = None
depends_on = None

# Filled from the measurements already consumed, with the conditions of the catalogue's
# targets at this revision (wasting, oedema, arm circumference below 23.5 cm).
_FILL = """
    INSERT INTO growth_status (person_id, valid_from, valid_to, class_wfl, oedema, muac_cm)
    SELECT s.person_id, s.visit_date, s.valid_to, s.class_wfl, s.oedema, s.muac_cm
    FROM (
        SELECT l.*, coalesce(lead(l.visit_date) OVER (PARTITION BY l.person_id
                                                      ORDER BY l.visit_date),
                             'infinity') AS valid_to
        FROM (
            SELECT DISTINCT ON (m.person_id, m.visit_date)
                   m.person_id, m.visit_date, m.class_wfl, m.oedema, m.muac_cm
            FROM measurement m WHERE NOT m.superseded
            ORDER BY m.person_id, m.visit_date, m.pos_xid DESC, m.pos_id DESC
        ) l
    ) s
    WHERE s.class_wfl IN ('wasted', 'severely_wasted') OR s.oedema OR s.muac_cm < 23.5
"""


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE growth_status (
            person_id uuid NOT NULL,
            valid_from date NOT NULL,
            valid_to date NOT NULL,
            class_wfl text,
            oedema boolean NOT NULL,
            muac_cm double precision,
            PRIMARY KEY (person_id, valid_from)
        )
        """
    )
    op.execute(_FILL)


def downgrade() -> None:
    op.execute("DROP TABLE growth_status")
