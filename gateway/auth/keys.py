"""Signing keys of the built-in issuer: generation, kid, rotation, PEM storage, JWKS.

Rotation: the ring has one active signing key. ``rotate`` makes a new key active and
keeps the old key's PUBLIC half published in the JWKS until every token it signed has
expired (``keep_for`` >= the access-token lifetime plus clock leeway). Retired keys keep
no private half, so a leaked database row of a retired key cannot mint tokens.
"""

import base64
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

SigningAlgorithm = Literal["ES256", "RS256"]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey

_RSA_MIN_BITS = 2048
# RFC 7638 section 3.2: the required members per key type, hashed in this order.
_THUMBPRINT_MEMBERS = {
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "OKP": ("crv", "kty", "x"),
}


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint, base64url without padding."""
    members = _THUMBPRINT_MEMBERS.get(jwk.get("kty", ""))
    if members is None:
        raise ValueError(f"unsupported key type {jwk.get('kty')!r}")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _public_jwk_members(public_key: PublicKey) -> dict[str, Any]:
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return dict(ECAlgorithm.to_jwk(public_key, as_dict=True))
    return dict(RSAAlgorithm.to_jwk(public_key, as_dict=True))


def _algorithm_for(public_key: PublicKey) -> SigningAlgorithm:
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if not isinstance(public_key.curve, ec.SECP256R1):
            raise ValueError("EC keys must be on P-256 (ES256)")
        return "ES256"
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < _RSA_MIN_BITS:
            raise ValueError(f"RSA keys must have at least {_RSA_MIN_BITS} bits")
        return "RS256"
    raise ValueError(f"unsupported key type {type(public_key).__name__}")


@dataclass(frozen=True)
class VerificationKey:
    """The public half: what the JWKS publishes and what verifies tokens."""

    public_key: PublicKey
    alg: SigningAlgorithm = field(init=False)
    kid: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "alg", _algorithm_for(self.public_key))
        object.__setattr__(self, "kid", jwk_thumbprint(_public_jwk_members(self.public_key)))

    def jwk(self) -> dict[str, Any]:
        return {
            **_public_jwk_members(self.public_key),
            "kid": self.kid,
            "alg": self.alg,
            "use": "sig",
        }

    def to_pem(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @classmethod
    def from_pem(cls, pem: bytes | str) -> "VerificationKey":
        raw = pem.encode() if isinstance(pem, str) else pem
        key = serialization.load_pem_public_key(raw)
        if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
            raise ValueError(f"unsupported key type {type(key).__name__}")
        return cls(key)


@dataclass(frozen=True)
class SigningKey:
    """A private key with its kid (the RFC 7638 thumbprint of its public half)."""

    private_key: PrivateKey
    created_at: datetime

    def __post_init__(self) -> None:
        _algorithm_for(self.private_key.public_key())  # reject a wrong curve or size early

    @cached_property
    def verification_key(self) -> VerificationKey:
        return VerificationKey(self.private_key.public_key())

    @property
    def kid(self) -> str:
        return self.verification_key.kid

    @property
    def alg(self) -> SigningAlgorithm:
        return self.verification_key.alg

    def to_pem(self, password: bytes | None = None) -> bytes:
        """PKCS#8 PEM for the database, encrypted when a password is given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    @classmethod
    def from_pem(
        cls, pem: bytes | str, *, created_at: datetime, password: bytes | None = None
    ) -> "SigningKey":
        raw = pem.encode() if isinstance(pem, str) else pem
        key = serialization.load_pem_private_key(raw, password=password)
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise ValueError(f"unsupported key type {type(key).__name__}")
        return cls(key, created_at)


def generate_signing_key(
    alg: SigningAlgorithm = "ES256", *, now: datetime | None = None, rsa_bits: int = 3072
) -> SigningKey:
    created = now or datetime.now(UTC)
    if alg == "ES256":
        return SigningKey(ec.generate_private_key(ec.SECP256R1()), created)
    if alg == "RS256":
        if rsa_bits < _RSA_MIN_BITS:
            raise ValueError(f"RSA keys must have at least {_RSA_MIN_BITS} bits")
        return SigningKey(rsa.generate_private_key(65537, rsa_bits), created)
    raise ValueError(f"unsupported signing algorithm {alg!r}")


@dataclass(frozen=True)
class RetiredKey:
    key: VerificationKey
    publish_until: datetime


@dataclass(frozen=True)
class KeyRing:
    active: SigningKey
    retired: tuple[RetiredKey, ...] = ()

    def published(self, now: datetime) -> tuple[VerificationKey, ...]:
        """The active key, then retired keys still within their publication window."""
        still = [r.key for r in self.retired if r.publish_until > now]
        return (self.active.verification_key, *still)

    def rotate(self, new_key: SigningKey, *, now: datetime, keep_for: timedelta) -> "KeyRing":
        """Sign with ``new_key`` from now on; keep the old public key for ``keep_for``."""
        old = RetiredKey(self.active.verification_key, now + keep_for)
        return KeyRing(new_key, (old, *self.pruned(now).retired))

    def pruned(self, now: datetime) -> "KeyRing":
        """Drop retired keys whose publication window has passed."""
        return replace(self, retired=tuple(r for r in self.retired if r.publish_until > now))


def jwks_document(keys: Iterable[VerificationKey]) -> dict[str, Any]:
    """The ``/.well-known/jwks.json`` body."""
    return {"keys": [k.jwk() for k in keys]}
