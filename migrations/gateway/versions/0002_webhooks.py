"""gateway: webhook subscriptions, deliveries and their attempts, the dispatcher's cursor

A branch from gateway_0001 (``kkb migrate up`` runs all heads): the id gateway_0002 is
taken by the audit-head migration written at the same time.

Revision ID: gateway_0002_webhooks
Revises: gateway_0001
Create Date: 2026-12-02
"""

from alembic import op

revision = "gateway_0002_webhooks"
down_revision = "gateway_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE webhook_subscription (
            id uuid PRIMARY KEY,
            client_id text NOT NULL REFERENCES api_client (client_id) ON DELETE CASCADE,
            url text NOT NULL,
            event_types text[] NOT NULL,
            description text,
            purpose text,
            secret_enc text NOT NULL,
            status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
            paused_reason text,
            paused_at timestamptz,
            consecutive_failures integer NOT NULL DEFAULT 0,
            last_error text,
            last_error_at timestamptz,
            last_success_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX webhook_subscription_client ON webhook_subscription (client_id, id)")
    op.execute(
        """
        CREATE TABLE webhook_delivery (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            subscription_id uuid NOT NULL
                REFERENCES webhook_subscription (id) ON DELETE CASCADE,
            event_id uuid NOT NULL,
            event_type text NOT NULL,
            occurred_at timestamptz NOT NULL,
            body text NOT NULL,
            status text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'delivered', 'failed')),
            attempts integer NOT NULL DEFAULT 0,
            next_attempt_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            last_attempt_at timestamptz,
            last_status integer,
            last_error text,
            delivered_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (subscription_id, event_id)
        )
        """
    )
    # The senders' queue: due deliveries of one subscription, oldest first.
    op.execute(
        "CREATE INDEX webhook_delivery_due ON webhook_delivery"
        " (subscription_id, next_attempt_at, id) WHERE status = 'pending'"
    )
    op.execute(
        "CREATE INDEX webhook_delivery_occurred ON webhook_delivery (subscription_id, occurred_at)"
    )
    op.execute("CREATE INDEX webhook_delivery_created ON webhook_delivery (created_at)")
    op.execute(
        """
        CREATE TABLE webhook_attempt (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            delivery_id bigint NOT NULL REFERENCES webhook_delivery (id) ON DELETE CASCADE,
            attempt integer NOT NULL,
            at timestamptz NOT NULL,
            status_code integer,
            error text,
            duration_ms integer NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX webhook_attempt_delivery ON webhook_attempt (delivery_id)")
    op.execute(
        """
        CREATE TABLE webhook_cursor (
            name text PRIMARY KEY,
            position text NOT NULL DEFAULT '',
            events_seen bigint NOT NULL DEFAULT 0,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE webhook_cursor")
    op.execute("DROP TABLE webhook_attempt")
    op.execute("DROP TABLE webhook_delivery")
    op.execute("DROP TABLE webhook_subscription")
