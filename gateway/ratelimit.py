"""Per-client token-bucket rate limiting, in memory.

Each client key has a bucket of ``burst`` tokens refilled at ``rate`` per second; a
request takes one token or is refused with the seconds until one is available. The
state lives in one process: behind several gateway replicas each enforces its own
share, so configure ``rate`` per replica.
"""

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    rate: float  # tokens per second
    burst: int

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: float  # seconds; 0 when allowed
    remaining: int

    @property
    def retry_after_header(self) -> str:
        """Whole seconds, rounded up, for the ``Retry-After`` header."""
        return str(math.ceil(self.retry_after))


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Thread- and asyncio-safe: each decision runs under a lock and never awaits."""

    def __init__(
        self,
        default: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self._default = default
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}
        self._limits: dict[str, RateLimit] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, *, limit: RateLimit | None = None, cost: float = 1.0) -> RateDecision:
        """Take ``cost`` tokens from ``key``'s bucket if it holds them."""
        rule = limit or self._default
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self._max_keys:
                    self._drop_full_buckets(now)
                bucket = self._buckets[key] = _Bucket(float(rule.burst), now)
                self._limits[key] = rule
            else:
                self._limits[key] = rule
                elapsed = max(0.0, now - bucket.updated)
                bucket.tokens = min(float(rule.burst), bucket.tokens + elapsed * rule.rate)
                bucket.updated = now
            if bucket.tokens >= cost:
                bucket.tokens -= cost
                return RateDecision(True, 0.0, int(bucket.tokens))
            return RateDecision(False, (cost - bucket.tokens) / rule.rate, int(bucket.tokens))

    def _drop_full_buckets(self, now: float) -> None:
        # A bucket that has refilled completely behaves exactly like a new one.
        for key, bucket in list(self._buckets.items()):
            rule = self._limits[key]
            if bucket.tokens + (now - bucket.updated) * rule.rate >= rule.burst:
                del self._buckets[key]
                del self._limits[key]
