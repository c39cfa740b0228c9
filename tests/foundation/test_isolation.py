"""Each service's role can touch its own schema only: real permission errors from PostgreSQL."""

import asyncpg
import pytest

from kkb.database import SERVICES, connect, service_url

TABLE_IN = {
    "registry": "registry.outbox_event",
    "interventions": "interventions.outbox_event",
    "reporting": "reporting.outbox_event",
    "gateway": "gateway.alembic_version",
}


@pytest.mark.parametrize("me", SERVICES)
async def test_role_cannot_read_or_write_other_schemas(db_url, me):
    conn = await connect(service_url(db_url, me))
    try:
        await conn.fetchval(f"SELECT count(*) FROM {TABLE_IN[me]}")  # own schema works
        for other in SERVICES:
            if other == me:
                continue
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetchval(f"SELECT count(*) FROM {TABLE_IN[other]}")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(f"CREATE TABLE {other}.intruder (x int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE TABLE public.intruder (x int)")
    finally:
        await conn.close()
