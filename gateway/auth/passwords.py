"""User passwords (argon2id) and API client secrets.

Passwords are low-entropy, so they get a slow, memory-hard hash (argon2-cffi's defaults,
the RFC 9106 low-memory profile). Client secrets are generated here with 256 random
bits; guessing them is hopeless, so a fast SHA-256 digest is enough and keeps the
frequent client_credentials calls cheap.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

DEFAULT_HASHER = PasswordHasher()
CLIENT_SECRET_BYTES = 32
_CLIENT_SECRET_SCHEME = "sha256$"
# Verified against when the user does not exist, so the answer takes as long as usual
# and response time does not reveal which usernames exist.
_DUMMY_HASH = DEFAULT_HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class PasswordCheck:
    ok: bool
    # Set when the stored hash used weaker parameters: store it in place of the old one.
    new_hash: str | None = None


def hash_password(password: str, *, hasher: PasswordHasher = DEFAULT_HASHER) -> str:
    return hasher.hash(password)


def verify_password(
    stored_hash: str | None, password: str, *, hasher: PasswordHasher = DEFAULT_HASHER
) -> PasswordCheck:
    """Check ``password``; ``stored_hash=None`` (unknown user) fails in the same time."""
    try:
        hasher.verify(stored_hash or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return PasswordCheck(ok=False)
    if stored_hash is None:
        return PasswordCheck(ok=False)
    if hasher.check_needs_rehash(stored_hash):
        return PasswordCheck(ok=True, new_hash=hasher.hash(password))
    return PasswordCheck(ok=True)


def generate_client_secret() -> str:
    """A new client secret, shown to the admin once and never stored in the clear."""
    return secrets.token_urlsafe(CLIENT_SECRET_BYTES)


def hash_client_secret(secret: str) -> str:
    return _CLIENT_SECRET_SCHEME + hashlib.sha256(secret.encode()).hexdigest()


def verify_client_secret(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_client_secret(secret), stored_hash)
