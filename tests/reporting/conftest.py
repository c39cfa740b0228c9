"""Reporting tests: the real stack through the gateway, data in province 65 only."""

from collections.abc import Iterator

import httpx
import pytest

from tests.auth_helpers import user_client
from tests.reporting.population import PROVINCE, PURPOSE, REGENCY


@pytest.fixture(scope="session")
def admin(stack, db_url) -> Iterator[httpx.Client]:
    """Writes the population: admin of the province, with a stated purpose."""
    with user_client(stack, db_url, "admin", PROVINCE, **PURPOSE) as client:
        yield client


@pytest.fixture(scope="session")
def officer(stack, db_url) -> Iterator[httpx.Client]:
    """The regency's officer: personal-data right, publishes figures."""
    with user_client(stack, db_url, "regency_officer", REGENCY, **PURPOSE) as client:
        yield client


@pytest.fixture(scope="session")
def analyst(stack, db_url) -> Iterator[httpx.Client]:
    """A provincial analyst: aggregates only, small cells withheld."""
    with user_client(stack, db_url, "analyst", PROVINCE) as client:
        yield client


@pytest.fixture(scope="session")
def bulungan(admin, stack) -> dict:
    """The known population of Kabupaten Bulungan (tests/reporting/bulungan.py)."""
    from tests.reporting.bulungan import build_bulungan

    return build_bulungan(admin, stack)
