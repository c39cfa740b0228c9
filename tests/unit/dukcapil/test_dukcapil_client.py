"""The Dukcapil client against the simulator running as a real HTTP server.

Expected persons come straight from the generated population's columns; expected
outcomes from the answer texts of DOMAIN.md.
"""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from services.registry.dukcapil.breaker import CircuitBreaker, CircuitState, RateLimiter
from services.registry.dukcapil.client import DukcapilClient, InvalidIdentifier, ResultKind
from tests.unit.dukcapil.sim_server import RunningSim

HASH_KEY = b"test-hash-key"
UNKNOWN_NIK = "6104160101990999"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def no_sleep(_: float) -> None:
    return None


class RecordingTransport(httpx.AsyncHTTPTransport):
    """The real transport, noting each request's URL."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        return await super().handle_async_request(request)


def make_client(sim: RunningSim, **overrides: Any) -> DukcapilClient:
    options: dict[str, Any] = {
        "base_url": sim.base_url,
        "institution_path": "KKB_6104",
        "user_id": sim.settings.user_id,
        "password": sim.settings.password,
        "ip_user": sim.settings.ip_user,
        "hash_key": HASH_KEY,
        "timeout_s": 2.0,
        "backoff_base_s": 0.01,
        "rate_per_s": 1000,
        "sleep": no_sleep,
    }
    options.update(overrides)
    return DukcapilClient(**options)


async def admin(sim: RunningSim, path: str, payload: dict[str, Any] | None = None) -> Any:
    async with httpx.AsyncClient(base_url=sim.base_url, timeout=5) as http:
        response = await http.get(path) if payload is None else await http.post(path, json=payload)
        response.raise_for_status()
        return response.json()


async def sim_calls(sim: RunningSim) -> int:
    return (await admin(sim, "/_sim/stats"))["calls"]


def a_child_with_mother(sim: RunningSim) -> int:
    p = sim.population.persons
    for i in range(len(p)):
        if p.nik[i] is not None and p.mother_index[i] >= 0 and p.relationship[i] == 4:
            return i
    raise AssertionError("no child with a mother in the test population")


@pytest.fixture
async def client(sim: RunningSim) -> AsyncIterator[DukcapilClient]:
    async with make_client(sim) as c:
        yield c


async def test_found_maps_the_person(sim: RunningSim, client: DukcapilClient) -> None:
    i = a_child_with_mother(sim)
    p, h = sim.population.persons, sim.population.households
    hh = p.household_index[i]
    result = await client.get_by_nik(p.nik[i])
    assert result.kind is ResultKind.FOUND and result.code == "dukcapil_found"
    person = result.person.person
    assert person.nik == p.nik[i]
    assert person.kk_number == h.kk_number[hh]
    assert person.full_name == p.full_name[i].upper()
    assert person.birth_date == p.birth_date[i].item()
    assert person.sex == p.sex[i]
    assert person.relationship == 4 and person.marital_status == p.marital_status[i]
    assert person.occupation == p.occupation[i] and person.education == p.education[i]
    assert person.mother_nik == p.mother_nik[i]
    assert person.mother_name == p.mother_name[i].upper()
    assert person.village_code == h.village_code[hh]
    assert (person.rt, person.rw) == (h.rt[hh], h.rw[hh])
    assert result.person.issues == ()
    assert result.person.last_updated is not None


async def test_unknown_nik_is_not_found(sim: RunningSim, client: DukcapilClient) -> None:
    assert UNKNOWN_NIK not in set(sim.population.persons.nik.tolist())
    result = await client.get_by_nik(UNKNOWN_NIK)
    assert result.kind is ResultKind.NOT_FOUND and result.code == "dukcapil_not_found"
    assert set(result.message) == {"id", "en"}


async def test_an_empty_answer_is_not_found(sim: RunningSim, client: DukcapilClient) -> None:
    await admin(sim, "/_sim/mode", {"mode": "empty"})
    result = await client.get_by_nik(sim.population.persons.nik[0])
    assert result.kind is ResultKind.NOT_FOUND


async def test_bad_credentials_are_auth_failed_and_not_a_breaker_failure(
    sim: RunningSim,
) -> None:
    breaker = CircuitBreaker(failure_threshold=2, clock=FakeClock())
    async with make_client(sim, password="salah", breaker=breaker) as c:
        for _ in range(3):
            result = await c.get_by_nik(sim.population.persons.nik[0])
            assert result.kind is ResultKind.AUTH_FAILED
    assert breaker.state is CircuitState.CLOSED
    assert await sim_calls(sim) == 3  # never retried


async def test_simulated_login_failure_mode(sim: RunningSim, client: DukcapilClient) -> None:
    await admin(sim, "/_sim/mode", {"mode": "bad_credentials"})
    result = await client.get_by_nik(sim.population.persons.nik[0])
    assert result.kind is ResultKind.AUTH_FAILED and result.code == "dukcapil_auth_failed"


async def test_wrong_ip_is_rejected(sim: RunningSim) -> None:
    async with make_client(sim, ip_user="10.9.9.9") as c:
        result = await c.get_by_nik(sim.population.persons.nik[0])
    assert result.kind is ResultKind.IP_REJECTED


async def test_quota_exhausted_stops_further_calls_for_the_day(
    sim: RunningSim, client: DukcapilClient
) -> None:
    await admin(sim, "/_sim/quota", {"daily_quota": 1})
    p = sim.population.persons
    assert (await client.get_by_nik(p.nik[0])).kind is ResultKind.FOUND
    exhausted = await client.get_by_nik(p.nik[1])
    assert exhausted.kind is ResultKind.QUOTA_EXHAUSTED
    assert exhausted.code == "dukcapil_quota_exhausted"
    calls = await sim_calls(sim)
    again = await client.get_by_nik(p.nik[2])
    assert again.kind is ResultKind.QUOTA_EXHAUSTED and again.code == "dukcapil_quota_local"
    assert await sim_calls(sim) == calls  # the client did not call again
    assert client.limiter.remaining_today == 0


async def test_simulated_quota_mode(sim: RunningSim, client: DukcapilClient) -> None:
    await admin(sim, "/_sim/mode", {"mode": "quota_exhausted"})
    result = await client.get_by_nik(sim.population.persons.nik[0])
    assert result.kind is ResultKind.QUOTA_EXHAUSTED
    assert await sim_calls(sim) == 1


async def test_client_side_daily_budget(sim: RunningSim) -> None:
    limiter = RateLimiter(rate_per_s=1000, daily_quota=2)
    async with make_client(sim, limiter=limiter) as c:
        p = sim.population.persons
        kinds = [(await c.get_by_nik(p.nik[k])).kind for k in range(3)]
    assert kinds == [ResultKind.FOUND, ResultKind.FOUND, ResultKind.QUOTA_EXHAUSTED]
    assert await sim_calls(sim) == 2


async def test_slow_service_times_out_after_retries(sim: RunningSim) -> None:
    await admin(sim, "/_sim/mode", {"mode": "slow", "delay_s": 1.0})
    async with make_client(sim, timeout_s=0.2, max_attempts=2) as c:
        result = await c.get_by_nik(sim.population.persons.nik[0])
    assert result.kind is ResultKind.UNAVAILABLE and result.code == "dukcapil_timeout"
    assert await sim_calls(sim) == 2  # one retry of the read-only lookup


async def test_down_service_opens_the_breaker_then_half_opens(sim: RunningSim) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout_s=30, clock=clock)
    nik = sim.population.persons.nik[0]
    await admin(sim, "/_sim/mode", {"mode": "down"})
    async with make_client(sim, breaker=breaker) as c:
        first = await c.get_by_nik(nik)
        assert (first.kind, first.code) == (ResultKind.UNAVAILABLE, "dukcapil_server_error")
        await c.get_by_nik(nik)
        assert breaker.state is CircuitState.OPEN
        assert await sim_calls(sim) == 2  # 5xx answers are not retried

        blocked = await c.get_by_nik(nik)
        assert blocked.code == "dukcapil_circuit_open"
        assert await sim_calls(sim) == 2

        clock.now += 30
        assert breaker.state is CircuitState.HALF_OPEN
        failed_trial = await c.get_by_nik(nik)
        assert failed_trial.code == "dukcapil_server_error"
        assert breaker.state is CircuitState.OPEN

        await admin(sim, "/_sim/mode", {"mode": "normal"})
        clock.now += 30
        recovered = await c.get_by_nik(nik)
        assert recovered.kind is ResultKind.FOUND
        assert breaker.state is CircuitState.CLOSED


async def test_connection_refused_is_unavailable(sim: RunningSim) -> None:
    async with make_client(sim, base_url="http://127.0.0.1:9", max_attempts=2) as c:
        result = await c.get_by_nik(sim.population.persons.nik[0])
    assert (result.kind, result.code) == (ResultKind.UNAVAILABLE, "dukcapil_connect_error")


async def test_answers_are_cached_briefly(sim: RunningSim, client: DukcapilClient) -> None:
    nik = sim.population.persons.nik[0]
    first = await client.get_by_nik(nik)
    second = await client.get_by_nik(nik)
    missing = [await client.get_by_nik(UNKNOWN_NIK) for _ in range(2)]
    assert not first.from_cache and second.from_cache
    assert second.persons == first.persons
    assert [m.from_cache for m in missing] == [False, True]
    assert await sim_calls(sim) == 2
    assert all(nik not in key and UNKNOWN_NIK not in key for key in client.cache._entries)


async def test_kk_lookup_returns_the_registered_members(
    sim: RunningSim, client: DukcapilClient
) -> None:
    p, h = sim.population.persons, sim.population.households
    hh = 0
    expected = {
        n
        for n, x in zip(p.nik.tolist(), p.household_index.tolist(), strict=True)
        if x == hh and n is not None
    }
    result = await client.get_by_kk(h.kk_number[hh])
    assert result.kind is ResultKind.FOUND
    assert {m.person.nik for m in result.persons} == expected
    assert {m.person.kk_number for m in result.persons} == {h.kk_number[hh]}
    missing = await client.get_by_kk("6104160101200999")
    assert missing.kind is ResultKind.NOT_FOUND


async def test_verify_by_elements(sim: RunningSim, client: DukcapilClient) -> None:
    p = sim.population.persons
    i = a_child_with_mother(sim)
    right = await client.verify_by_elements(
        p.nik[i],
        {
            "NAMA_LGKP": p.full_name[i].lower(),
            "TGL_LHR": p.birth_date[i].item().strftime("%d-%m-%Y"),
            "JENIS_KLMIN": "LAKI-LAKI" if p.sex[i] == 1 else "PEREMPUAN",
        },
    )
    assert right.kind is ResultKind.FOUND
    assert right.elements["NAMA_LGKP"].matches and right.elements["NAMA_LGKP"].score == 100
    assert right.elements["TGL_LHR"].matches and right.elements["JENIS_KLMIN"].matches

    wrong = await client.verify_by_elements(
        p.nik[i], {"NAMA_LGKP": "Sintetis Orang Lain Sekali", "TGL_LHR": "01-01-1901"}
    )
    assert not wrong.elements["NAMA_LGKP"].matches
    assert wrong.elements["NAMA_LGKP"].score is not None
    assert not wrong.elements["TGL_LHR"].matches
    assert (await client.verify_by_elements(UNKNOWN_NIK, {})).kind is ResultKind.NOT_FOUND


async def test_records_loaded_into_the_simulator_are_served(
    sim: RunningSim, client: DukcapilClient
) -> None:
    record = {
        "NIK": UNKNOWN_NIK,
        "NO_KK": "6104162801200001",
        "NAMA_LGKP": "SINTETIS MUATAN UJI",
        "TGL_LHR": "01.01.1999",
        "JENIS_KLMIN": "LAKI-LAKI",
        "STAT_HBKEL": "KEPALA KELUARGA",
        "NO_PROP": 61,
        "NO_KAB": 4,
        "NO_KEC": 16,
        "NO_KEL": 2007,
    }
    removed = sim.population.persons.nik[0]
    await admin(sim, "/_sim/records", {"records": [record], "remove_niks": [removed]})
    found = await client.get_by_nik(UNKNOWN_NIK)
    assert found.kind is ResultKind.FOUND
    assert found.person.person.village_code == "61.04.16.2007"
    assert found.person.person.relationship == 1
    assert (await client.get_by_nik(removed)).kind is ResultKind.NOT_FOUND


async def test_an_unreadable_record_is_a_bad_response(
    sim: RunningSim, client: DukcapilClient
) -> None:
    await admin(sim, "/_sim/records", {"records": [{"NIK": UNKNOWN_NIK, "NAMA_LGKP": "X"}]})
    result = await client.get_by_nik(UNKNOWN_NIK)
    assert (result.kind, result.code) == (ResultKind.UNAVAILABLE, "dukcapil_bad_response")


async def test_nik_never_in_urls_or_logs(sim: RunningSim) -> None:
    transport = RecordingTransport()
    nik = sim.population.persons.nik[0]
    with capture_logs() as logs:
        async with make_client(sim, transport=transport) as c:
            await c.get_by_nik(nik)
            await c.get_by_nik(nik)
            await c.verify_by_elements(nik, {"NAMA_LGKP": "x"})
    assert transport.urls and all(nik not in url for url in transport.urls)
    assert transport.urls[0].endswith("/dukcapil/get_json/KKB_6104/CALL_NIK")
    assert logs and all(nik not in repr(event) for event in logs)
    assert all("ref" in event and len(event["ref"]) == 12 for event in logs)


@pytest.mark.parametrize("bad", ["123", "61041645039000011", "61041645039O0001", ""])
async def test_malformed_numbers_are_refused_without_a_call(
    sim: RunningSim, client: DukcapilClient, bad: str
) -> None:
    with pytest.raises(InvalidIdentifier) as raised:
        await client.get_by_nik(bad)
    assert raised.value.code == "dukcapil_invalid_nik"
    with pytest.raises(InvalidIdentifier):
        await client.get_by_kk(bad)
    assert await sim_calls(sim) == 0
