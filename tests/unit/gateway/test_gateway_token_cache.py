"""Verified tokens are remembered until they expire, and forgotten on demand."""

from gateway.auth.token_cache import TokenCache, VerifiedToken
from gateway.auth.tokens import AccessClaims


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def verified(until: float) -> VerifiedToken:
    return VerifiedToken("sub-1", AccessClaims(role="analyst", region="61"), until)


def test_hit_until_expiry_then_miss() -> None:
    clock = Clock()
    cache = TokenCache(clock)
    cache.put("t", verified(1010.0))
    assert cache.get("t").sub == "sub-1"
    clock.now = 1009.9
    assert cache.get("t") is not None
    clock.now = 1010.0
    assert cache.get("t") is None
    assert len(cache) == 0


def test_full_cache_drops_expired_first_then_everything() -> None:
    clock = Clock()
    cache = TokenCache(clock, max_entries=3)
    cache.put("old", verified(1001.0))
    cache.put("a", verified(2000.0))
    cache.put("b", verified(2000.0))
    clock.now = 1500.0
    cache.put("c", verified(2000.0))
    assert cache.get("old") is None
    assert {k for k in ("a", "b", "c") if cache.get(k)} == {"a", "b", "c"}
    cache.put("d", verified(2000.0))
    assert len(cache) == 1
    assert cache.get("d") is not None


def test_clear() -> None:
    cache = TokenCache(Clock())
    cache.put("t", verified(5000.0))
    cache.clear()
    assert cache.get("t") is None
