"""DDL every service schema shares, for use inside Alembic migrations."""

from alembic import op

from common.feed import OUTBOX_DDL, OUTBOX_DROP
from common.idempotency import IDEMPOTENCY_DDL, IDEMPOTENCY_DROP


def create_plumbing() -> None:
    """Outbox, feed cursors and idempotency keys: the tables common/ relies on."""
    for statement in [*OUTBOX_DDL, *IDEMPOTENCY_DDL]:
        op.execute(statement)


def drop_plumbing() -> None:
    for statement in [*IDEMPOTENCY_DROP, *OUTBOX_DROP]:
        op.execute(statement)


def lean_outbox() -> None:
    """Payloads as ``json`` (checked, kept as written: each is written once and served as
    is, never queried inside) and no unique index on the generated event ids."""
    op.execute("DROP INDEX outbox_event_event_id")
    op.execute("ALTER TABLE outbox_event ALTER COLUMN payload TYPE json USING payload::json")


def rich_outbox() -> None:
    op.execute("ALTER TABLE outbox_event ALTER COLUMN payload TYPE jsonb USING payload::jsonb")
    op.execute("CREATE UNIQUE INDEX outbox_event_event_id ON outbox_event (event_id)")
