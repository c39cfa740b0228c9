"""gateway: asynchronous bulk export jobs

Revision ID: gateway_0003
Revises: gateway_0002
Create Date: 2026-12-03
"""

from alembic import op

revision = "gateway_0003"
down_revision = "gateway_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE export_job (
            id uuid PRIMARY KEY,
            -- Who asked, as the audit log names callers; the files are theirs alone.
            requested_by text NOT NULL,
            role text NOT NULL,
            sector text,
            client_id text,
            purpose text,
            request_id text NOT NULL,
            region text COLLATE "C" NOT NULL,
            datasets text[] NOT NULL CHECK (cardinality(datasets) > 0),
            format text NOT NULL CHECK (format IN ('ndjson', 'csv')),
            -- Decided once, from the caller's rights and purpose when the job was made.
            masked boolean NOT NULL,
            status text NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'done', 'failed', 'expired')),
            progress jsonb NOT NULL DEFAULT '{}',
            files jsonb NOT NULL DEFAULT '[]',
            error jsonb,
            attempts integer NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now(),
            started_at timestamptz,
            heartbeat_at timestamptz,
            finished_at timestamptz,
            -- The files are deleted, and the job marked expired, after this.
            expires_at timestamptz
        )
        """
    )
    op.execute(
        """
        CREATE INDEX export_job_pending ON export_job (created_at)
            WHERE status IN ('queued', 'running')
        """
    )
    op.execute("CREATE INDEX export_job_retention ON export_job (expires_at) WHERE status = 'done'")
    op.execute("CREATE INDEX export_job_requester ON export_job (requested_by, created_at)")


def downgrade() -> None:
    op.execute("DROP TABLE export_job")
