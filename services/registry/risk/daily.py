"""The daily KRS reassessment, run by the registry itself beside the API.

A family's risk changes as days pass (a child turns two, a pregnancy ends), so once a
day (WIB) every household is reassessed as of that day (``bulk.reassess_region``):
whichever registry process takes the advisory lock first does it, the day is recorded
in ``krs_daily_run``, and the others (or a restart) find it done. ``kkb krs reassess``
runs the same reassessment by hand, for a region or a date.
"""

import asyncio
import time
from datetime import date

import structlog
from fastapi import FastAPI

from common.app import start_background
from common.clock import today
from services.registry.dukcapil.worker import job_connection
from services.registry.risk.bulk import ReassessResult, reassess_region
from services.registry.settings import RegistrySettings

log = structlog.get_logger(__name__)

_LOCK_SQL = "SELECT pg_try_advisory_lock(hashtext('kkb-krs-daily'))"
_UNLOCK_SQL = "SELECT pg_advisory_unlock(hashtext('kkb-krs-daily'))"


async def run_if_due(settings: RegistrySettings, day: date | None = None) -> ReassessResult | None:
    """Reassess everything as of ``day`` (today) unless that day is done or another
    process is at it; the result, or None when nothing was run."""
    day = day or today()
    conn = await job_connection(settings)
    try:
        if not await conn.fetchval(_LOCK_SQL):
            return None
        try:
            if await conn.fetchval("SELECT 1 FROM krs_daily_run WHERE run_date = $1", day):
                return None
            started = time.perf_counter()
            result = await reassess_region(conn, day)
            await conn.execute(
                """
                INSERT INTO krs_daily_run (run_date, households, changed, seconds)
                VALUES ($1, $2, $3, $4) ON CONFLICT (run_date) DO NOTHING
                """,
                day,
                result.households,
                result.changed,
                time.perf_counter() - started,
            )
            log.info(
                "krs_daily_done",
                as_of=day.isoformat(),
                households=result.households,
                changed=result.changed,
            )
            return result
        finally:
            await conn.execute(_UNLOCK_SQL)
    finally:
        await conn.close()


async def daily_loop(app: FastAPI) -> None:
    settings: RegistrySettings = app.state.settings
    while True:
        try:
            await run_if_due(settings)
        except Exception:  # noqa: BLE001 - logged; the next check tries again
            log.exception("krs_daily_failed")
        await asyncio.sleep(settings.krs_daily_check_s)


async def start_krs_daily(app: FastAPI) -> None:
    """Startup hook: the daily reassessment loop, unless switched off."""
    if app.state.settings.krs_daily_enabled:
        start_background(app, daily_loop(app))
