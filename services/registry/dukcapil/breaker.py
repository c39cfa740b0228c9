"""Protection around the Dukcapil web service: circuit breaker, rate limit, short cache.

All three take an injectable clock so tests drive time by hand. None of their methods
awaits between reading and changing state (except the limiter's deliberate sleep, done
under a lock), so they are safe to share between tasks of one event loop.
"""

import asyncio
import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Generic, TypeVar

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
# Dukcapil's daily quota ("Kuota Akses Hari ini") runs by the day in Jakarta.
WIB = timezone(timedelta(hours=7), "WIB")


def today_wib() -> date:
    return datetime.now(UTC).astimezone(WIB).date()


def keyed_digest(key: bytes, value: str) -> str:
    """HMAC-SHA256 of an identifier (NIK, KK number), hex: a cache key, never reversible."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def log_ref(digest: str) -> str:
    """The short prefix of a keyed digest that may appear in logs to correlate calls."""
    return digest[:12]


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Opens after ``failure_threshold`` consecutive failures; after ``reset_timeout_s``
    lets ``half_open_max_calls`` trial calls through; closes on a trial success and
    opens again on a trial failure."""

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout_s: float = 30.0,
        half_open_max_calls: int = 1,
        clock: Clock = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or half_open_max_calls < 1 or reset_timeout_s < 0:
            raise ValueError("threshold and trial calls must be >= 1, timeout >= 0")
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self.half_open_max_calls = half_open_max_calls
        self._clock = clock
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trials = 0

    @property
    def state(self) -> CircuitState:
        if (
            self._state is CircuitState.OPEN
            and self._clock() - self._opened_at >= self.reset_timeout_s
        ):
            self._state = CircuitState.HALF_OPEN
            self._trials = 0
        return self._state

    def allow(self) -> bool:
        """May a call go out now? In half-open state this takes one of the trial slots."""
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.HALF_OPEN and self._trials < self.half_open_max_calls:
            self._trials += 1
            return True
        return False

    def record_success(self) -> None:
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._trials = 0

    def record_failure(self) -> None:
        if self.state is CircuitState.HALF_OPEN:
            self._open()
            return
        self._failures += 1
        if self._failures >= self.failure_threshold:
            self._open()

    def _open(self) -> None:
        self._state = CircuitState.OPEN
        self._opened_at = self._clock()
        self._failures = 0
        self._trials = 0


class QuotaExhausted(Exception):
    """The client-side daily quota is used up (or Dukcapil said so) until the next day."""


class RateLimiter:
    """Token bucket for the per-second rate plus a daily call budget.

    ``acquire`` waits for a token (at most ``max_wait_s``) and counts the call against
    the day; it raises ``QuotaExhausted`` without waiting once the day's budget is
    spent. Set ``daily_quota`` a little under the quota of the cooperation agreement.
    """

    def __init__(
        self,
        rate_per_s: float,
        daily_quota: int,
        burst: int | None = None,
        clock: Clock = time.monotonic,
        today: Callable[[], date] = today_wib,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate_per_s <= 0 or daily_quota < 0:
            raise ValueError("rate_per_s must be > 0 and daily_quota >= 0")
        self.rate_per_s = rate_per_s
        self.daily_quota = daily_quota
        self.burst = burst if burst is not None else max(1, int(rate_per_s))
        self._clock = clock
        self._today = today
        self._sleep = sleep
        self._tokens = float(self.burst)
        self._refilled_at = clock()
        self._day = today()
        self._used_today = 0
        self._exhausted_day: date | None = None
        self._lock = asyncio.Lock()

    @property
    def remaining_today(self) -> int:
        self._roll_day()
        if self._exhausted_day == self._day:
            return 0
        return max(0, self.daily_quota - self._used_today)

    def exhaust_today(self) -> None:
        """Dukcapil answered that today's quota is gone: stop calling until tomorrow."""
        self._roll_day()
        self._exhausted_day = self._day

    async def acquire(self, max_wait_s: float = 5.0) -> None:
        async with self._lock:
            if self.remaining_today <= 0:
                raise QuotaExhausted
            self._refill()
            if self._tokens < 1.0:
                wait = (1.0 - self._tokens) / self.rate_per_s
                if wait > max_wait_s:
                    raise TimeoutError(f"rate limit wait {wait:.2f}s exceeds {max_wait_s}s")
                await self._sleep(wait)
                self._refill()
                self._tokens = max(self._tokens, 1.0)
            self._tokens -= 1.0
            self._used_today += 1

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(
            float(self.burst), self._tokens + (now - self._refilled_at) * self.rate_per_s
        )
        self._refilled_at = now

    def _roll_day(self) -> None:
        today = self._today()
        if today != self._day:
            self._day = today
            self._used_today = 0


V = TypeVar("V")


@dataclass
class _Entry(Generic[V]):
    value: V
    expires_at: float


class TtlCache(Generic[V]):
    """A small in-memory cache with a time to live, keyed by ``keyed_digest`` values.

    Keys must be digests, never raw NIKs, so a memory dump or debug print of the cache
    holds no identifiers. The least recently stored entry goes first when full.
    """

    def __init__(self, ttl_s: float, max_entries: int = 10_000, clock: Clock = time.monotonic):
        if ttl_s <= 0 or max_entries < 1:
            raise ValueError("ttl_s must be > 0 and max_entries >= 1")
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, _Entry[V]] = OrderedDict()

    def get(self, key: str) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock() >= entry.expires_at:
            del self._entries[key]
            return None
        return entry.value

    def put(self, key: str, value: V) -> None:
        self._entries.pop(key, None)
        self._entries[key] = _Entry(value, self._clock() + self.ttl_s)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
