"""Access tokens already verified, kept until they expire.

A token's signature, issuer, audience and claims cannot change, so verifying it once is
enough; what can change (a user deactivated, a client revoked) is checked on every
request outside this cache. The cache is emptied whenever the trusted keys change, so
a key withdrawn from a JWKS stops its tokens at once.
"""

from collections.abc import Callable
from dataclasses import dataclass

from gateway.auth.tokens import AccessClaims


@dataclass(frozen=True)
class VerifiedToken:
    sub: str
    claims: AccessClaims
    # Epoch seconds after which the token must be verified again (exp plus leeway).
    valid_until: float


class TokenCache:
    def __init__(self, clock: Callable[[], float], max_entries: int = 50_000) -> None:
        self._clock = clock
        self._max = max_entries
        self._entries: dict[str, VerifiedToken] = {}

    def get(self, token: str) -> VerifiedToken | None:
        hit = self._entries.get(token)
        if hit is None:
            return None
        if hit.valid_until <= self._clock():
            self._entries.pop(token, None)
            return None
        return hit

    def put(self, token: str, verified: VerifiedToken) -> None:
        if len(self._entries) >= self._max:
            now = self._clock()
            self._entries = {k: v for k, v in self._entries.items() if v.valid_until > now}
            if len(self._entries) >= self._max:
                self._entries.clear()
        self._entries[token] = verified

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
