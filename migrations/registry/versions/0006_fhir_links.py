"""registry: identifiers of Observations imported over FHIR, for idempotent imports

A branch from registry_0004 (growth measurements; ``kkb migrate up`` runs all heads):
one row per imported Observation identifier (system + value), naming the measurement
it went into and a digest of what it said, so a second import of the same identifier
changes nothing and one that says something else is refused.

Revision ID: registry_0006_fhir
Revises: registry_0004
Create Date: 2026-12-03
"""

from alembic import op

revision = "registry_0006_fhir"
down_revision = "registry_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE fhir_observation_link (
            identifier_system text NOT NULL,
            identifier_value text NOT NULL,
            measurement_id uuid NOT NULL REFERENCES measurement (id),
            person_id uuid NOT NULL REFERENCES person (id),
            loinc_code text NOT NULL,
            effective_date date NOT NULL,
            value float8 NOT NULL,
            unit text NOT NULL,
            content_digest text NOT NULL,
            imported_by text NOT NULL,
            imported_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (identifier_system, identifier_value)
        )
        """
    )
    op.execute(
        "CREATE INDEX fhir_observation_link_measurement ON fhir_observation_link (measurement_id)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE fhir_observation_link")
