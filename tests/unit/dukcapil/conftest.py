"""Fixtures: the Dukcapil simulator, started once per test session (per xdist worker)."""

from collections.abc import Iterator

import httpx
import pytest

from tests.unit.dukcapil.sim_server import RunningSim, running_sim


@pytest.fixture(scope="session")
def sim() -> Iterator[RunningSim]:
    with running_sim() as running:
        yield running


@pytest.fixture(autouse=True)
def reset_sim(request: pytest.FixtureRequest) -> None:
    if "sim" in request.fixturenames:
        running: RunningSim = request.getfixturevalue("sim")
        httpx.post(f"{running.base_url}/_sim/reset", timeout=5).raise_for_status()
