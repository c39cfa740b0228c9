"""The request's snapshot, and a second connection that shares it.

A values answer computes the period and the one before it: two independent passes over
the same data. On a second connection that imports the request's snapshot (PostgreSQL's
exported snapshots) they run side by side on two cores and still see exactly the same
rows. The second connections come from a small pool of their own, so a request never
waits for a connection that another request holds while waiting itself.
"""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.db import make_engine, make_sessionmaker

SECOND_CONNECTIONS = 2
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")


async def consistent_snapshot(session: AsyncSession) -> None:
    """Every query of the request sees the same data, even while a batch commits: the
    current period, the previous one and the feed positions reported agree. Must be
    the transaction's first statement."""
    await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
    await _analytic(session)


async def _analytic(session: AsyncSession) -> None:
    """Each query planned for its own period and region (a prepared statement would
    otherwise fall back to a generic plan after five runs), and without JIT: the
    tallies over a regency cross ``jit_above_cost``, and compiling their expressions
    took 100-300 ms a query, more than running them."""
    await session.execute(text("SET LOCAL jit = off"))
    await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


async def open_second_connections(app: FastAPI) -> None:
    settings = app.state.settings
    app.state.second_engine = make_engine(
        settings.database_url,
        "reporting",
        pool_size=SECOND_CONNECTIONS,
        app_name="kkb-reporting-second",
    )
    app.state.second_sessions = make_sessionmaker(app.state.second_engine)


async def close_second_connections(app: FastAPI) -> None:
    engine = getattr(app.state, "second_engine", None)
    if engine is not None:
        await engine.dispose()


@asynccontextmanager
async def sharing_snapshot(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[AsyncSession]:
    """A session on another connection that sees what ``session`` sees (which must be
    in a REPEATABLE READ transaction, see consistent_snapshot)."""
    snapshot = (await session.execute(text("SELECT pg_export_snapshot()"))).scalar_one()
    if not _SNAPSHOT_ID.fullmatch(snapshot):  # inlined below: SET takes no parameters
        raise ValueError(f"unexpected snapshot id {snapshot!r}")
    async with sessions() as other, other.begin():
        await other.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        await other.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
        await _analytic(other)
        yield other
