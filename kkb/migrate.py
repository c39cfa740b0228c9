"""Alembic: one environment per schema, version table inside that schema.

``migrations/<schema>/env.py`` calls ``run_env`` here; ``upgrade_all`` runs them all.
Migrations connect as the administrator and ``SET ROLE`` to the service's role, so the
service owns what it creates and nothing else.
"""

import asyncio

from alembic import command
from alembic.config import Config

from common.db import asyncpg_url
from common.reference_data import REPO_ROOT
from kkb.database import SERVICES, role_name

MIGRATIONS = REPO_ROOT / "migrations"


def alembic_config(schema: str, db_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS / schema))
    cfg.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    cfg.attributes["schema"] = schema
    return cfg


def upgrade_all(db_url: str, revision: str = "heads") -> None:
    for schema in SERVICES:
        command.upgrade(alembic_config(schema, db_url), revision)


def downgrade(schema: str, db_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(schema, db_url), revision)


def run_env(context) -> None:  # alembic's EnvironmentContext proxy
    """Body of every env.py: online migrations over asyncpg, scoped to one schema."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    config = context.config
    schema = config.attributes.get("schema") or config.get_main_option("schema")
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")

    def include_name(name, type_, parent_names) -> bool:
        # Autogenerate must never offer to drop another schema's tables.
        return name == schema if type_ == "schema" else True

    def do_run(connection) -> None:
        context.configure(
            connection=connection,
            version_table_schema=schema,
            include_schemas=True,
            include_name=include_name,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(asyncpg_url(url), poolclass=NullPool)
        async with engine.connect() as conn:
            await conn.execute(text(f"SET ROLE {role_name(schema)}"))
            await conn.execute(text(f"SET search_path TO {schema}"))
            await conn.commit()
            await conn.run_sync(do_run)
        await engine.dispose()

    if context.is_offline_mode():
        raise SystemExit("offline migrations are not supported; run against a database")
    asyncio.run(run())
