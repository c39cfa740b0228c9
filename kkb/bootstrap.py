"""Reference data every installation needs, and the small synthetic demo for ``make run``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from kkb.database import connect, role_name


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    scope: str
    sector: str | None = None


DEMO_USERS: list[DemoUser] = []


@asynccontextmanager
async def as_service(db_url: str, service: str) -> AsyncIterator:
    """An administrator connection acting as ``service``'s role inside its schema."""
    conn = await connect(db_url)
    try:
        await conn.execute(f"SET ROLE {role_name(service)}; SET search_path TO {service}")
        yield conn
    finally:
        await conn.close()


async def load_reference_data(db_url: str) -> None:
    """Idempotent: safe to run at every start."""
    from services.registry.regions.loader import load_regions

    async with as_service(db_url, "registry") as conn:
        await load_regions(conn)


async def load_demo(db_url: str) -> None:
    """Idempotent: seeds only an empty registry."""
