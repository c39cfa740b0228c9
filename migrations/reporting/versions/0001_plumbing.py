"""reporting: outbox, feed cursors, idempotency keys

Revision ID: reporting_0001
Revises:
Create Date: 2026-11-27
"""

from common.migration_helpers import create_plumbing, drop_plumbing

revision = "reporting_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_plumbing()


def downgrade() -> None:
    drop_plumbing()
