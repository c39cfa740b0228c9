"""Async engine and sessions, one per service, connected as that service's own role."""

from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def asyncpg_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs (as libpq and docker use) for SQLAlchemy+asyncpg."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]
    if scheme not in ("postgresql", "postgres"):
        raise ValueError(f"not a PostgreSQL URL: scheme {parts.scheme!r}")
    return urlunsplit(("postgresql+asyncpg", *parts[1:]))


def plain_url(url: str) -> str:
    """The libpq form of a URL (for asyncpg.connect and psql)."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", *parts[1:]))


def make_engine(url: str, schema: str, *, pool_size: int = 10, app_name: str = "") -> AsyncEngine:
    return create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={
            "server_settings": {
                "search_path": schema,
                "application_name": app_name or f"kkb-{schema}",
            },
            "timeout": 5,
        },
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def session_dependency(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with maker() as session, session.begin():
        yield session


# Committed before the response is sent (FastAPI's default ends a yield dependency after
# it): a client that got 201 must be able to read its write at once, and a failed commit
# must not be reported as a success.
Session = Annotated[AsyncSession, Depends(session_dependency, scope="function")]


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("select 1"))


async def raw_connection(conn: AsyncConnection):
    """The underlying asyncpg connection, for COPY and other driver-level calls."""
    raw = await conn.get_raw_connection()
    return raw.driver_connection
