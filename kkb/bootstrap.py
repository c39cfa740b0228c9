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


# Demo logins for ``make run`` only (listed in the README); never created in production.
# A small synthetic Ketapang for `make run` (the bulk path seeds it in about a second).
DEMO_HOUSEHOLDS = 2000

DEMO_USERS: list[DemoUser] = [
    DemoUser("admin.ketapang", "demo-admin-2026", "admin", "61.04"),
    DemoUser("tpps.ketapang", "demo-regency-2026", "regency_officer", "61.04"),
    DemoUser("camat.deltapawan", "demo-district-2026", "district_officer", "61.04.16"),
    DemoUser("operator.kalinilam", "demo-village-2026", "village_operator", "61.04.16.2007"),
    DemoUser("tpk.kalinilam", "demo-tpk-2026", "tpk_cadre", "61.04.16.2007"),
    DemoUser("bidan.deltapawan", "demo-health-2026", "health_worker", "61.04.16"),
    DemoUser("pupr.ketapang", "demo-sector-2026", "sector_officer", "61.04", "public_works"),
    DemoUser("dinsos.ketapang", "demo-social-2026", "sector_officer", "61.04", "social_affairs"),
    DemoUser("analis.ketapang", "demo-analyst-2026", "analyst", "61.04"),
    DemoUser("auditor.ketapang", "demo-auditor-2026", "auditor", "61.04"),
]


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
    """Idempotent: demo users are added once; the registry is seeded only when empty."""
    from gateway.cli import add_user
    from kkb.database import service_url

    async with as_service(db_url, "gateway") as conn:
        existing = {r["username"] for r in await conn.fetch("SELECT username FROM app_user")}
    for user in DEMO_USERS:
        if user.username in existing:
            continue  # argon2 hashing is deliberately slow: skip it on every later start
        await add_user(
            service_url(db_url, "gateway"),
            user.username,
            user.password,
            user.role,
            user.scope,
            user.sector,
            None,
        )
    from services.registry.seed.loader import registry_is_empty, seed_regency

    async with as_service(db_url, "registry") as conn:
        if await registry_is_empty(conn):
            await seed_regency(conn, "61.04", DEMO_HOUSEHOLDS)
