"""Every schema's migrations go up, all the way down, and up again on a fresh database."""

import asyncio

import pytest

from kkb import database
from kkb.database import SERVICES
from kkb.migrate import alembic_config, downgrade, upgrade_all
from tests.conftest import fresh_database


@pytest.fixture(scope="module")
def scratch_db(pg_server):
    url = fresh_database(pg_server, "migr")
    yield url
    asyncio.run(database.drop_database(pg_server.admin_url, database.database_of(url)))


async def _tables(url: str, schema: str) -> set[str]:
    conn = await database.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
        )
        return {r["table_name"] for r in rows}
    finally:
        await conn.close()


def test_upgrade_downgrade_upgrade(scratch_db):
    upgrade_all(scratch_db)
    before = {s: asyncio.run(_tables(scratch_db, s)) for s in SERVICES}
    for schema in SERVICES:
        downgrade(schema, scratch_db, "base")
        assert asyncio.run(_tables(scratch_db, schema)) <= {"alembic_version"}
    upgrade_all(scratch_db)
    after = {s: asyncio.run(_tables(scratch_db, s)) for s in SERVICES}
    assert after == before
    for schema in SERVICES:
        assert "alembic_version" in after[schema], f"{schema} keeps its own version table"


def test_config_points_each_env_at_its_schema():
    for schema in SERVICES:
        cfg = alembic_config(schema, "postgresql://x@h/db")
        assert cfg.attributes["schema"] == schema
        assert cfg.get_main_option("script_location").endswith(f"migrations/{schema}")
