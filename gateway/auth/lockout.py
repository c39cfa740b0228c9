"""Account lockout after repeated failed sign-ins, as pure functions over a stored state.

Flow for one sign-in attempt: ``check`` first (a locked account is refused without
checking the password, so guessing during the lock learns nothing); then
``on_failure`` or ``on_success`` and store the returned state.

Failures count only within ``window`` of the first one; the N-th failure inside the
window locks the account for ``lock_duration``. Success resets everything.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

LOCKED_MESSAGE = {
    "id": "Akun dikunci sementara karena terlalu banyak percobaan masuk yang gagal.",
    "en": "The account is temporarily locked after too many failed sign-in attempts.",
}
LOCKED_CODE = "account_locked"


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lock_duration: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class LockoutState:
    failures: int = 0
    first_failure_at: datetime | None = None
    locked_until: datetime | None = None


@dataclass(frozen=True)
class LockoutDecision:
    locked: bool
    retry_after: timedelta = timedelta(0)

    @property
    def retry_after_seconds(self) -> int:
        """Whole seconds for a ``Retry-After`` header, rounded up."""
        return math.ceil(self.retry_after.total_seconds())


@dataclass(frozen=True)
class LockoutOutcome:
    state: LockoutState
    decision: LockoutDecision


def check(state: LockoutState, now: datetime) -> LockoutDecision:
    """May a sign-in be attempted now?"""
    if state.locked_until is not None and now < state.locked_until:
        return LockoutDecision(locked=True, retry_after=state.locked_until - now)
    return LockoutDecision(locked=False)


def on_failure(
    state: LockoutState, now: datetime, policy: LockoutPolicy = LockoutPolicy()
) -> LockoutOutcome:
    """Record a failed password check; the decision says whether the account is locked."""
    current = check(state, now)
    if current.locked:
        return LockoutOutcome(state, current)
    in_window = state.first_failure_at is not None and now - state.first_failure_at < policy.window
    failures = state.failures + 1 if in_window else 1
    first = state.first_failure_at if in_window else now
    if failures >= policy.max_failures:
        locked_until = now + policy.lock_duration
        # The counter restarts after the lock: the next failures start a new window.
        return LockoutOutcome(
            LockoutState(0, None, locked_until),
            LockoutDecision(locked=True, retry_after=policy.lock_duration),
        )
    return LockoutOutcome(LockoutState(failures, first, None), LockoutDecision(locked=False))


def on_success() -> LockoutState:
    """The state to store after a successful sign-in."""
    return LockoutState()
