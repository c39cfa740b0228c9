"""gateway: users, API clients, signing keys, refresh tokens, audit log

Revision ID: gateway_0001
Revises:
Create Date: 2026-11-27
"""

from alembic import op

revision = "gateway_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE app_user (
            id uuid PRIMARY KEY,
            username text NOT NULL UNIQUE,
            password_hash text NOT NULL,
            role text NOT NULL,
            region text NOT NULL,
            sector text,
            pii boolean NOT NULL,
            lang text NOT NULL DEFAULT 'id',
            active boolean NOT NULL DEFAULT true,
            failed_attempts integer NOT NULL DEFAULT 0,
            first_failure_at timestamptz,
            locked_until timestamptz,
            version integer NOT NULL DEFAULT 1,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE api_client (
            id uuid PRIMARY KEY,
            client_id text NOT NULL UNIQUE,
            name text NOT NULL,
            secret_hash text NOT NULL,
            scopes text[] NOT NULL,
            region text NOT NULL,
            sector text,
            active boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL DEFAULT now(),
            revoked_at timestamptz
        )
        """
    )
    op.execute(
        """
        CREATE TABLE signing_key (
            kid text PRIMARY KEY,
            private_key_enc text NOT NULL,
            public_jwk jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            retired_at timestamptz
        )
        """
    )
    op.execute(
        """
        CREATE TABLE refresh_token (
            token_hash text PRIMARY KEY,
            family_id text NOT NULL,
            subject text NOT NULL,
            client_id text NOT NULL,
            issued_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL,
            used_at timestamptz,
            revoked_at timestamptz
        )
        """
    )
    op.execute("CREATE INDEX refresh_token_family ON refresh_token (family_id)")
    op.execute(
        """
        CREATE TABLE audit_entry (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at timestamptz NOT NULL,
            actor text NOT NULL,
            role text NOT NULL,
            client_id text,
            operation text NOT NULL,
            method text NOT NULL,
            route text NOT NULL,
            record_type text,
            record_ids text[] NOT NULL DEFAULT '{}',
            subject_ids uuid[] NOT NULL DEFAULT '{}',
            fields text[] NOT NULL DEFAULT '{}',
            purpose text,
            request_id text NOT NULL,
            outcome integer NOT NULL,
            outcome_kind text NOT NULL,
            prev_hash text NOT NULL,
            hash text NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX audit_entry_actor ON audit_entry (actor, at)")
    op.execute("CREATE INDEX audit_entry_subject ON audit_entry USING gin (subject_ids)")
    op.execute("CREATE INDEX audit_entry_at ON audit_entry (at)")
    # Append-only: the application never updates or deletes; a trigger refuses it too.
    op.execute(
        """
        CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_entry is append-only';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_entry"
        " FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TABLE audit_entry")
    op.execute("DROP FUNCTION audit_entry_append_only()")
    op.execute("DROP TABLE refresh_token")
    op.execute("DROP TABLE signing_key")
    op.execute("DROP TABLE api_client")
    op.execute("DROP TABLE app_user")
