"""Seeding the catalogue at start-up: version 1 of every intervention, idempotently."""

import asyncio

import structlog
from fastapi import FastAPI

from common.app import start_background
from services.interventions.catalogue import repository as repo
from services.interventions.catalogue.seed import SEED_CATALOGUE

log = structlog.get_logger()
RETRY_S = 2.0


async def seed_catalogue(app: FastAPI) -> int:
    async with app.state.engine.begin() as conn:
        return await repo.seed(conn, SEED_CATALOGUE)


async def start_seeding(app: FastAPI) -> None:
    """Seed now; if the database is not up yet, keep trying in the background."""
    try:
        added = await seed_catalogue(app)
        log.info("catalogue_seeded", added=added)
        return
    except Exception as exc:  # noqa: BLE001 - retried below
        log.warning("catalogue_seed_deferred", error=str(exc))

    async def retry() -> None:
        while not app.state.stop.is_set():
            await asyncio.sleep(RETRY_S)
            try:
                added = await seed_catalogue(app)
                log.info("catalogue_seeded", added=added)
                return
            except Exception as exc:  # noqa: BLE001
                log.warning("catalogue_seed_deferred", error=str(exc))

    start_background(app, retry())
