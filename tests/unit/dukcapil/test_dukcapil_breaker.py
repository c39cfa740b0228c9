"""Circuit breaker, rate limiter and cache, driven by a hand-moved clock."""

import asyncio
from datetime import date

import pytest

from services.registry.dukcapil.breaker import (
    CircuitBreaker,
    CircuitState,
    QuotaExhausted,
    RateLimiter,
    TtlCache,
    keyed_digest,
    log_ref,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_breaker_opens_after_consecutive_failures_only() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout_s=30, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()  # resets the run of failures
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is CircuitState.CLOSED and breaker.allow()
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    assert not breaker.allow()


def test_breaker_half_opens_after_the_timeout_and_closes_on_success() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=30, clock=clock)
    breaker.record_failure()
    clock.now += 29.9
    assert breaker.state is CircuitState.OPEN and not breaker.allow()
    clock.now += 0.1
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker.allow()  # the one trial call
    assert not breaker.allow()  # no second call while the trial runs
    breaker.record_success()
    assert breaker.state is CircuitState.CLOSED and breaker.allow()


def test_a_failed_trial_opens_the_breaker_again_for_a_full_timeout() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout_s=10, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    clock.now += 10
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    clock.now += 9
    assert breaker.state is CircuitState.OPEN
    clock.now += 1
    assert breaker.state is CircuitState.HALF_OPEN


def test_half_open_allows_the_configured_number_of_trials() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(
        failure_threshold=1, reset_timeout_s=5, half_open_max_calls=2, clock=clock
    )
    breaker.record_failure()
    clock.now += 5
    assert [breaker.allow() for _ in range(3)] == [True, True, False]


async def test_rate_limiter_spaces_calls_at_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(
        rate_per_s=2,
        daily_quota=100,
        burst=2,
        clock=clock,
        today=lambda: date(2026, 7, 1),
        sleep=clock.sleep,
    )
    for _ in range(4):
        await limiter.acquire()
    # The burst of 2 goes at once, then one token every 0.5 s.
    assert clock.slept == pytest.approx([0.5, 0.5])
    assert clock.now == pytest.approx(1001.0)
    assert limiter.remaining_today == 96


async def test_rate_limiter_refuses_a_wait_longer_than_allowed() -> None:
    clock = FakeClock()
    limiter = RateLimiter(
        rate_per_s=0.1,
        daily_quota=100,
        burst=1,
        clock=clock,
        today=lambda: date(2026, 7, 1),
        sleep=clock.sleep,
    )
    await limiter.acquire()
    with pytest.raises(TimeoutError):
        await limiter.acquire(max_wait_s=5)
    assert limiter.remaining_today == 99


async def test_daily_quota_runs_out_and_comes_back_the_next_day() -> None:
    clock = FakeClock()
    day = [date(2026, 7, 1)]
    limiter = RateLimiter(
        rate_per_s=100,
        daily_quota=3,
        burst=100,
        clock=clock,
        today=lambda: day[0],
        sleep=clock.sleep,
    )
    for _ in range(3):
        await limiter.acquire()
    with pytest.raises(QuotaExhausted):
        await limiter.acquire()
    day[0] = date(2026, 7, 2)
    assert limiter.remaining_today == 3
    await limiter.acquire()
    limiter.exhaust_today()  # Dukcapil said the quota is gone
    assert limiter.remaining_today == 0
    with pytest.raises(QuotaExhausted):
        await limiter.acquire()


async def test_rate_limiter_is_shared_safely_by_concurrent_tasks() -> None:
    clock = FakeClock()
    limiter = RateLimiter(
        rate_per_s=10,
        daily_quota=5,
        burst=10,
        clock=clock,
        today=lambda: date(2026, 7, 1),
        sleep=clock.sleep,
    )
    results = await asyncio.gather(*(limiter.acquire() for _ in range(8)), return_exceptions=True)
    assert sum(r is None for r in results) == 5
    assert sum(isinstance(r, QuotaExhausted) for r in results) == 3


def test_cache_entries_expire_after_the_ttl() -> None:
    clock = FakeClock()
    cache: TtlCache[str] = TtlCache(ttl_s=60, clock=clock)
    cache.put("k", "v")
    clock.now += 59.9
    assert cache.get("k") == "v"
    clock.now += 0.1
    assert cache.get("k") is None and len(cache) == 0


def test_cache_drops_the_oldest_entry_when_full() -> None:
    cache: TtlCache[int] = TtlCache(ttl_s=60, max_entries=2, clock=FakeClock())
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 3)  # re-stored: now the newest
    cache.put("c", 4)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (3, None, 4)


def test_keyed_digest_hides_the_number() -> None:
    nik = "6104164503900001"
    digest = keyed_digest(b"key-1", nik)
    assert len(digest) == 64 and nik not in digest
    assert digest == keyed_digest(b"key-1", nik)
    assert digest != keyed_digest(b"key-2", nik)
    assert log_ref(digest) == digest[:12]
