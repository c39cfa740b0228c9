"""Account lockout and the per-client rate limiter (fake clocks throughout)."""

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest

from gateway.auth.lockout import (
    LockoutPolicy,
    LockoutState,
    check,
    on_failure,
    on_success,
)
from gateway.ratelimit import RateLimit, RateLimiter

T0 = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def fail_times(state: LockoutState, minutes: list[float]) -> LockoutState:
    for m in minutes:
        state = on_failure(state, T0 + m * MIN).state
    return state


def test_four_failures_do_not_lock_the_fifth_does() -> None:
    state = fail_times(LockoutState(), [0, 1, 2, 3])
    assert not check(state, T0 + 3 * MIN).locked
    outcome = on_failure(state, T0 + 4 * MIN)
    assert outcome.decision.locked
    assert outcome.decision.retry_after == 15 * MIN
    assert outcome.decision.retry_after_seconds == 900
    decision = check(outcome.state, T0 + 10 * MIN)
    assert decision.locked
    assert decision.retry_after == 9 * MIN
    assert not check(outcome.state, T0 + 19 * MIN).locked


def test_failures_outside_the_window_start_a_new_count() -> None:
    # Default window 15 minutes: the failure at minute 0 is forgotten by minute 16.
    state = fail_times(LockoutState(), [0, 5, 10, 14])
    assert state.failures == 4
    state = fail_times(state, [16])
    assert state.failures == 1
    assert not check(state, T0 + 16 * MIN).locked
    state = fail_times(state, [17, 18, 19])
    assert not check(state, T0 + 19 * MIN).locked
    assert on_failure(state, T0 + 20 * MIN).decision.locked


def test_success_resets() -> None:
    state = fail_times(LockoutState(), [0, 1, 2, 3])
    state = on_success()
    state = fail_times(state, [4, 5, 6, 7])
    assert not check(state, T0 + 7 * MIN).locked


def test_failure_while_locked_does_not_extend_the_lock() -> None:
    locked = fail_times(LockoutState(), [0, 1, 2, 3, 4]).locked_until
    assert locked == T0 + 19 * MIN
    outcome = on_failure(LockoutState(locked_until=locked), T0 + 10 * MIN)
    assert outcome.decision.locked
    assert outcome.state.locked_until == locked


def test_after_the_lock_a_fresh_count_starts() -> None:
    state = fail_times(LockoutState(), [0, 1, 2, 3, 4])
    state = fail_times(state, [20])
    assert state.failures == 1 and not check(state, T0 + 20 * MIN).locked


def test_custom_policy() -> None:
    policy = LockoutPolicy(
        max_failures=3, window=timedelta(minutes=5), lock_duration=timedelta(hours=1)
    )
    state = LockoutState()
    for m in (0, 1):
        state = on_failure(state, T0 + m * MIN, policy).state
    outcome = on_failure(state, T0 + 2 * MIN, policy)
    assert outcome.decision.locked
    assert check(outcome.state, T0 + 61 * MIN).locked
    assert not check(outcome.state, T0 + 62 * MIN).locked


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(rate=1.0, burst=3), clock=clock)
    results = [limiter.hit("client-a") for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert [r.remaining for r in results[:3]] == [2, 1, 0]
    assert results[3].retry_after == pytest.approx(1.0)
    assert results[3].retry_after_header == "1"

    clock.now += 0.5
    half = limiter.hit("client-a")
    assert not half.allowed and half.retry_after == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.hit("client-a").allowed
    assert not limiter.hit("client-a").allowed

    # Another client has its own bucket.
    assert limiter.hit("client-b").allowed

    # A long pause refills to the burst, never beyond it.
    clock.now += 3600
    assert [limiter.hit("client-a").allowed for _ in range(4)] == [True, True, True, False]


def test_per_call_limit_override() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(rate=1.0, burst=1), clock=clock)
    big = RateLimit(rate=10.0, burst=10)
    assert sum(limiter.hit("provinsi-system", limit=big).allowed for _ in range(12)) == 10
    denied = limiter.hit("provinsi-system", limit=big)
    assert denied.retry_after == pytest.approx(0.1)


def test_idle_buckets_are_dropped_when_full() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(rate=1.0, burst=2), clock=clock, max_keys=2)
    limiter.hit("a")
    limiter.hit("b")
    clock.now += 10
    limiter.hit("c")
    assert set(limiter._buckets) == {"c"}


def test_invalid_limits() -> None:
    for rate, burst in ((0, 1), (1, 0), (-1, 5)):
        with pytest.raises(ValueError):
            RateLimit(rate=rate, burst=burst)


async def test_concurrent_tasks_never_exceed_the_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(rate=1.0, burst=5), clock=clock)

    async def one() -> bool:
        await asyncio.sleep(0)
        return limiter.hit("client").allowed

    results = await asyncio.gather(*(one() for _ in range(50)))
    assert sum(results) == 5


def test_concurrent_threads_never_exceed_the_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(rate=1.0, burst=100), clock=clock)
    allowed: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            ok = limiter.hit("client").allowed
            with lock:
                allowed.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(allowed) == 100
