"""gateway: the audit chain's head kept outside the chain; explicit, gap-free seq

The head (last seq, last hash, number of entries) is updated in the same transaction as
every append, so dropping the newest entries is detected by ``kkb audit verify``. The
sequence numbers are assigned from the head under its row lock: an identity column
leaves gaps when a transaction rolls back, and a gap reads as a removed entry.

Revision ID: gateway_0002
Revises: gateway_0001
Create Date: 2026-12-01
"""

from alembic import op

revision = "gateway_0002"
down_revision = "gateway_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE audit_head (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            seq bigint NOT NULL,
            hash text NOT NULL,
            entries bigint NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        INSERT INTO audit_head (seq, hash, entries)
        SELECT coalesce(max(seq), 0),
               coalesce((SELECT hash FROM audit_entry ORDER BY seq DESC LIMIT 1), repeat('0', 64)),
               count(*)
        FROM audit_entry
        """
    )
    op.execute(
        """
        CREATE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'UPDATE' OR NEW.seq < OLD.seq OR NEW.entries < OLD.entries THEN
                RAISE EXCEPTION 'audit_head only moves forward';
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_head_forward BEFORE UPDATE OR DELETE ON audit_head"
        " FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()"
    )
    op.execute("ALTER TABLE audit_entry ALTER COLUMN seq DROP IDENTITY")


def downgrade() -> None:
    op.execute("ALTER TABLE audit_entry ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY")
    op.execute(
        "SELECT setval(pg_get_serial_sequence('audit_entry', 'seq'),"
        " coalesce(max(seq), 0) + 1, false) FROM audit_entry"
    )
    op.execute("DROP TABLE audit_head")
    op.execute("DROP FUNCTION audit_head_forward_only()")
