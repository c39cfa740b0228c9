"""reporting: no unique index on the outbox's event_id

It guarded ids we generate (UUIDv7); nobody looks events up by it, and every event paid
for it. Consumers follow the feed by position
(xid, id), never by event_id.

Revision ID: reporting_0004
Revises: reporting_0003
Create Date: 2026-11-28
"""

from alembic import op

revision = "reporting_0004"
down_revision = "reporting_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX outbox_event_event_id")


def downgrade() -> None:
    op.execute("CREATE UNIQUE INDEX outbox_event_event_id ON outbox_event (event_id)")
