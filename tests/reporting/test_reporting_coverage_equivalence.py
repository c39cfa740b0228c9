"""The rewritten coverage pass (bit masks, growth_status spans, age bounds on the birth
date) gives exactly what the former queries gave (reference_queries.py), on a random
population with the awkward cases, for months, quarters and years at every region level.
And growth_status follows the measurements a batch writes, corrects or supersedes."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.db import make_engine, make_sessionmaker
from common.feed import FeedEvent
from kkb import database
from kkb.database import service_url
from kkb.migrate import upgrade_all
from services.reporting.engine import repository as repo
from services.reporting.engine.ages import latest_birth
from services.reporting.engine.coverage import CoverageAsk, coverage_counts
from services.reporting.engine.targets import (
    TARGETS,
    TPK_HOUSEHOLD_GROUP,
    TPK_PERSON_GROUPS,
    intervention_order,
)
from services.reporting.feeds import growth_status, krs_status
from services.reporting.feeds.registry import apply_registry_batch
from tests.conftest import fresh_database
from tests.reporting import reference_queries as before
from tests.reporting.synthetic import PERIODS, SCOPES, population, write

ALL_SPECS = sorted(TARGETS.values(), key=lambda s: intervention_order(s.code))
SOME_SPECS = [TARGETS[c] for c in ("S1", "S6", "S8", "N8", "N14", "N5")]
TPK_GROUPS = [*TPK_PERSON_GROUPS, TPK_HOUSEHOLD_GROUP]


@pytest.fixture(scope="module")
async def sessions(pg_server) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = await asyncio.to_thread(fresh_database, pg_server, "coverage")
    await asyncio.to_thread(upgrade_all, url)
    engine = make_engine(service_url(url, "reporting"), "reporting", pool_size=2)
    maker = make_sessionmaker(engine)
    async with maker() as session, session.begin():
        await write(session, population())
        await growth_status.rebuild_all(session)
        await krs_status.rebuild_all(session)
    yield maker
    await engine.dispose()
    await database.drop_database(pg_server.admin_url, database.database_of(url))


def _windows() -> list[repo.Window]:
    return [repo.Window(start, end, scope) for start, end in PERIODS for scope in SCOPES]


async def _same_coverage(session: AsyncSession, window: repo.Window, specs, convergence: bool):
    now = await coverage_counts(session, window, CoverageAsk(specs, convergence))
    then = await before.coverage_counts(session, window, specs, convergence=convergence)
    assert now.by_code == then.by_code, window
    assert now.convergence == (then.convergence if convergence else {}), window
    return now


async def test_every_tally_of_one_pass_matches_the_former_queries(sessions) -> None:
    eligible = 0
    async with sessions() as session:
        for window in _windows():
            for kind in ("M", "Q", "Y"):
                ask = CoverageAsk(ALL_SPECS, True, TPK_GROUPS, (kind, window.start))
                now = await coverage_counts(session, window, ask)
                old = await before.coverage_counts(session, window, ALL_SPECS, convergence=True)
                assert now.by_code == old.by_code, window
                assert now.convergence == old.convergence, window
                assert now.tpk == await before.tpk_counts(session, window, TPK_GROUPS), window
                assert now.measurement == await before.measurement_coverage(
                    session, window, kind, window.start
                ), (window, kind)
            eligible += sum(den for counts in now.by_code.values() for _, den in counts.values())
    assert eligible > 1000  # the population does exercise the targets


async def test_a_pass_asked_for_part_of_the_tallies_counts_the_same(sessions) -> None:
    async with sessions() as session:
        for window in _windows():
            await _same_coverage(session, window, SOME_SPECS, False)
            for groups in (["krs"], ["baduta", "catin"]):
                now = await coverage_counts(session, window, CoverageAsk(tpk_groups=groups))
                assert now.tpk == await before.tpk_counts(session, window, groups), window
                assert not now.by_code and not now.convergence and not now.measurement


async def test_every_target_is_met_somewhere(sessions) -> None:
    whole = repo.Window(date(2025, 1, 1), date(2025, 12, 31), "")
    async with sessions() as session:
        found = await coverage_counts(session, whole, CoverageAsk(ALL_SPECS, True))
    assert set(found.by_code) == set(TARGETS)
    assert any(num for counts in found.by_code.values() for num, _ in counts.values())


@pytest.mark.parametrize(
    ("day", "months", "born"),
    [
        (date(2025, 2, 28), 1, date(2025, 1, 31)),  # Jan 29-31 + 1 month = Feb 28
        (date(2024, 2, 29), 12, date(2023, 2, 28)),
        (date(2024, 2, 28), 12, date(2023, 2, 28)),
        (date(2025, 3, 31), 1, date(2025, 2, 28)),
        (date(2025, 12, 31), 0, date(2025, 12, 31)),
        (date(2025, 1, 1), 60, date(2020, 1, 1)),
    ],
)
def test_latest_birth_with_so_many_completed_months(day, months, born) -> None:
    assert latest_birth(day, months) == born


async def test_latest_birth_agrees_with_postgresql(sessions) -> None:
    days = [date(2024, 2, 29), date(2025, 2, 28), date(2025, 3, 31), date(2025, 1, 1)]
    async with sessions() as session:
        for day in days:
            for months in (0, 1, 6, 12, 24, 60, 240):
                born = latest_birth(day, months)
                fits = await session.scalar(
                    text(
                        "SELECT (CAST(:b AS date) + make_interval(months => :m)) <= :d"
                        " AND (CAST(:b AS date) + 1 + make_interval(months => :m)) > :d"
                    ),
                    {"b": born, "m": months, "d": day},
                )
                assert fits, (day, months, born)


def _measured(position: int, person: str, visit: str, wfl: str, supersedes: str | None = None):
    measurement = f"00000000-0000-4000-8000-{position:012d}"
    return FeedEvent(
        position=f"{10**9 + position}.{position}",
        event_id=measurement,
        type="measurement.corrected" if supersedes else "measurement.recorded",
        aggregate_type="measurement",
        aggregate_id=measurement,
        region_code="91.01.01.1001",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        payload={
            "measurement_id": measurement,
            "person_id": person,
            "village_code": "91.01.01.1001",
            "visit_date": visit,
            "age_days": 700,
            "class_wfl": wfl,
            "supersedes": supersedes,
        },
    )


async def _spans(session: AsyncSession) -> list[tuple]:
    rows = await session.execute(text("SELECT * FROM growth_status ORDER BY 1, 2"))
    return [tuple(r) for r in rows]


async def test_growth_status_follows_new_and_corrected_measurements(sessions) -> None:
    child = "00000000-0000-4000-8000-00000000c0de"
    year = repo.Window(date(2025, 1, 1), date(2025, 12, 31), "91.01.01.1001")
    severe = [TARGETS["S6"], TARGETS["S8"]]
    async with sessions() as session:
        await session.execute(
            text(
                "INSERT INTO person (person_id, village_code, sex, birth_date, pos_xid, pos_id)"
                " VALUES (:p, '91.01.01.1001', 1, '2023-05-31', 1, 1)"
            ),
            {"p": child},
        )
        counted = await coverage_counts(session, year, CoverageAsk(severe))

        await apply_registry_batch(session, [_measured(1, child, "2025-06-01", "severely_wasted")])
        assert [s[:3] for s in await _spans(session) if str(s[0]) == child] == [
            (uuid.UUID(child), date(2025, 6, 1), date.max)
        ]
        sam = await _same_coverage(session, year, severe, False)
        assert _den(sam, "S6") == _den(counted, "S6") + 1

        # A later normal visit ends the span; a correction of it to wasted starts another.
        await apply_registry_batch(session, [_measured(2, child, "2025-11-20", "normal")])
        assert [s[1:3] for s in await _spans(session) if str(s[0]) == child] == [
            (date(2025, 6, 1), date(2025, 11, 20))
        ]
        assert _den(await _same_coverage(session, year, severe, False), "S6") == _den(counted, "S6")
        corrected = _measured(
            3,
            child,
            "2025-11-20",
            "wasted",
            supersedes=_measured(2, child, "2025-11-20", "normal").payload["measurement_id"],
        )
        await apply_registry_batch(session, [corrected])
        wasted = await _same_coverage(session, year, severe, False)
        assert _den(wasted, "S8") == _den(counted, "S8") + 1

        kept = await _spans(session)
        await growth_status.rebuild_all(session)
        assert await _spans(session) == kept  # per batch, the same as from scratch
        await session.rollback()  # leave the population as it was


def _den(counts, code: str) -> int:
    return sum(den for _, den in counts.by_code.get(code, {}).values())


def _assessed(position: int, household: str, on: str, is_krs: bool) -> FeedEvent:
    return FeedEvent(
        position=f"{10**9 + position}.{position}",
        event_id=f"00000000-0000-4000-9000-{position:012d}",
        type="krs.assessed",
        aggregate_type="household",
        aggregate_id=household,
        region_code="91.01.01.1001",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        payload={
            "household_id": household,
            "village_code": "91.01.01.1001",
            "assessed_on": on,
            "is_target_family": True,
            "is_krs": is_krs,
            "criteria": {"unsafe_water": is_krs},
        },
    )


async def test_krs_status_follows_new_verifications(sessions) -> None:
    home = "00000000-0000-4000-8000-0000000000aa"
    year = repo.Window(date(2025, 1, 1), date(2025, 12, 31), "91.01.01.1001")
    krs = [TARGETS["N2"], TARGETS["N5"]]
    async with sessions() as session:
        await session.execute(
            text(
                "INSERT INTO household (household_id, village_code, pos_xid, pos_id)"
                " VALUES (:h, '91.01.01.1001', 1, 1)"
            ),
            {"h": home},
        )
        counted = await coverage_counts(session, year, CoverageAsk(krs))
        await apply_registry_batch(session, [_assessed(11, home, "2025-03-01", True)])
        found = await _same_coverage(session, year, krs, False)
        assert _den(found, "N2") == _den(counted, "N2") + 1
        assert _den(found, "N5") == _den(counted, "N5") + 1
        # The same day again, later in the feed: that one counts. A later year's does not.
        await apply_registry_batch(
            session,
            [_assessed(12, home, "2025-03-01", False), _assessed(13, home, "2026-02-01", True)],
        )
        assert _den(await _same_coverage(session, year, krs, False), "N2") == _den(counted, "N2")
        rows = await session.execute(
            text("SELECT valid_from, valid_to, is_krs FROM krs_status WHERE household_id = :h"),
            {"h": home},
        )
        assert sorted(tuple(r) for r in rows) == [
            (date(2025, 3, 1), date(2026, 2, 1), False),
            (date(2026, 2, 1), date.max, True),
        ]
        await session.rollback()
