"""The daily KRS reassessment runs by itself (risk/daily.py), once a day."""

import asyncio
import time
from datetime import date

from kkb.bootstrap import as_service
from kkb.database import service_url
from services.registry.risk.daily import run_if_due
from services.registry.settings import RegistrySettings
from tests.registry import factories as f


async def _runs(db_url: str) -> list[date]:
    async with as_service(db_url, "registry") as conn:
        return [r["run_date"] for r in await conn.fetch("SELECT run_date FROM krs_daily_run")]


def _wait_for_today(db_url: str) -> None:
    deadline = time.monotonic() + 60
    while f.today() not in asyncio.run(_runs(db_url)):
        assert time.monotonic() < deadline, "no daily KRS run recorded for today"
        time.sleep(0.5)


async def _forget_today(db_url: str) -> None:
    async with as_service(db_url, "registry") as conn:
        await conn.execute("DELETE FROM krs_daily_run WHERE run_date = $1", f.today())


def test_the_registry_reassesses_today_by_itself(stack, db_url):
    _wait_for_today(db_url)


def test_a_day_is_reassessed_once(stack, db_url):
    """Done today: nothing more; with today's record gone, it runs again (as of today,
    as the registry itself would), and records the day."""
    _wait_for_today(db_url)
    settings = RegistrySettings(database_url=service_url(db_url, "registry"))
    assert asyncio.run(run_if_due(settings)) is None
    asyncio.run(_forget_today(db_url))
    again = asyncio.run(run_if_due(settings))
    assert again is not None and again.as_of == f.today()
    assert f.today() in asyncio.run(_runs(db_url))
