"""interventions: the outbox keeps payloads as JSON text, without a unique index on event_id

See registry_0008: every payload is written once and served as is, so storing it as
``json`` (checked, kept as written) saves parsing it into ``jsonb`` on every write and
printing it back on every feed read. The unique index on event_id guarded ids we
generate (UUIDv7); nobody looks events up by it. Consumers follow the feed by position
(xid, id).

Revision ID: interventions_0003
Revises: interventions_0002
Create Date: 2026-11-28
"""

from common.migration_helpers import lean_outbox, rich_outbox

revision = "interventions_0003"
down_revision = "interventions_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    lean_outbox()


def downgrade() -> None:
    rich_outbox()
