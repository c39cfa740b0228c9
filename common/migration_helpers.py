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
