"""What an attempt's outcome means for its delivery and its subscription (pure)."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

PAUSE_CODE = "consecutive_failures"
DeliveryState = Literal["pending", "delivered", "failed"]


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float
    max_s: float
    window: timedelta

    def delay_s(self, failures: int, rng: random.Random | None = None) -> float:
        """Wait after the ``failures``-th failed attempt: doubling from ``base_s`` up to
        ``max_s``, then a random share of its upper half, so receivers coming back up are
        not hit by every retry at the same moment."""
        ceiling = min(self.max_s, self.base_s * 2 ** min(max(failures - 1, 0), 62))
        return ceiling * (0.5 + 0.5 * (rng or random).random())


@dataclass(frozen=True)
class AttemptResult:
    delivery_id: int
    attempt: int
    at: datetime
    expires_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


def settle(
    result: AttemptResult, policy: RetryPolicy, rng: random.Random | None = None
) -> dict[str, Any]:
    """The delivery's next state: delivered; retried after a backoff; or, once its retry
    window has passed, failed for good."""
    state: DeliveryState
    next_at: datetime | None = None
    if result.ok:
        state = "delivered"
    elif result.at >= result.expires_at:
        state = "failed"
    else:
        state = "pending"
        next_at = result.at + timedelta(seconds=policy.delay_s(result.attempt, rng))
    return {
        "delivery_id": result.delivery_id,
        "attempt": result.attempt,
        "at": result.at,
        "status_code": result.status_code,
        "error": result.error,
        "duration_ms": result.duration_ms,
        "state": state,
        "next_attempt_at": next_at,
    }


def health_after(
    status: str, consecutive_failures: int, results: list[AttemptResult], pause_after: int
) -> dict[str, Any]:
    """The subscription after these attempts, in the order they finished: a success
    resets the failure count; ``pause_after`` failures in a row pause it."""
    count = consecutive_failures
    last_error = last_error_at = last_success_at = None
    for r in results:
        if r.ok:
            count, last_success_at = 0, r.at
        else:
            count += 1
            last_error, last_error_at = describe_failure(r), r.at
    pause = status == "active" and count >= pause_after
    return {
        "status": "paused" if pause else status,
        "consecutive_failures": count,
        "pause": pause,
        "reason": PAUSE_CODE,
        "last_error": last_error,
        "last_error_at": last_error_at,
        "last_success_at": last_success_at,
    }


def describe_failure(result: AttemptResult) -> str:
    if result.error is not None:
        return result.error
    return f"HTTP {result.status_code}"


def pause_message(consecutive_failures: int, last_error: str | None) -> dict[str, str]:
    last = last_error or "?"
    return {
        "en": f"Paused after {consecutive_failures} failed attempts in a row (last: {last}). "
        "Fix the endpoint, then POST .../resume; nothing is lost while paused.",
        "id": f"Dijeda setelah {consecutive_failures} kali gagal berturut-turut "
        f"(terakhir: {last}). Perbaiki endpoint, lalu POST .../resume; "
        "tidak ada yang hilang selama dijeda.",
    }
