"""The caller identity the gateway hands to services, and its signed header form.

The gateway verifies the caller's access token, then forwards a short-lived HS256 token
in ``X-KKB-Identity`` signed with a secret shared only with the services. Services trust
that header alone (never the caller's own token) and answer 401 on any
:class:`IdentityError`.

The role and sector vocabulary lives here rather than in ``gateway`` because every
service needs it to read an :class:`Identity`; the gateway's role profiles and
permission matrix build on these enums.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

import jwt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from common.pii import PURPOSE_CODES

IDENTITY_HEADER = "X-KKB-Identity"
INTERNAL_AUDIENCE = "kkb-internal"
INTERNAL_ISSUER = "kkb-gateway"
IDENTITY_LIFETIME = timedelta(seconds=60)
MIN_SECRET_BYTES = 32
_ALGORITHM = "HS256"

# "" is national scope; otherwise a dotted Kemendagri code of 1-4 segments.
REGION_SCOPE_PATTERN = r"^([0-9]{2}(\.[0-9]{2}(\.[0-9]{2}(\.[0-9]{4})?)?)?)?$"


class Role(StrEnum):
    ADMIN = "admin"
    REGENCY_OFFICER = "regency_officer"
    DISTRICT_OFFICER = "district_officer"
    VILLAGE_OPERATOR = "village_operator"
    TPK_CADRE = "tpk_cadre"
    HEALTH_WORKER = "health_worker"
    SECTOR_OFFICER = "sector_officer"
    ANALYST = "analyst"
    AUDITOR = "auditor"
    SYSTEM = "system"
    # Internal service-to-service calls only; never granted to a user or client.
    SERVICE = "service"


class Sector(StrEnum):
    HEALTH = "health"
    SOCIAL_AFFAIRS = "social_affairs"
    PUBLIC_WORKS = "public_works"
    FAMILY_PLANNING = "family_planning"
    CIVIL_REGISTRY = "civil_registry"
    RELIGIOUS_AFFAIRS = "religious_affairs"
    FOOD_SECURITY = "food_security"
    EDUCATION = "education"
    AGRICULTURE = "agriculture"
    FISHERIES = "fisheries"


class Identity(BaseModel):
    """Who is calling, as established by the gateway."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sub: str = Field(min_length=1, max_length=255)
    role: Role
    region: str = Field(pattern=REGION_SCOPE_PATTERN)
    sector: Sector | None = None
    scopes: tuple[str, ...] = ()
    pii: bool = False
    client_id: str | None = None
    purpose: str | None = None
    request_id: str = Field(min_length=1, max_length=128)
    lang: Literal["id", "en"] = "id"
    service: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_-]{0,63}$")

    @model_validator(mode="after")
    def _consistent(self) -> "Identity":
        if self.role is Role.SECTOR_OFFICER and self.sector is None:
            raise ValueError("sector_officer needs a sector")
        # A system client of one agency may be bound to its sector; other roles may not.
        if self.sector is not None and self.role not in (Role.SECTOR_OFFICER, Role.SYSTEM):
            raise ValueError(f"role {self.role} cannot carry a sector")
        if (self.role is Role.SERVICE) != (self.service is not None):
            raise ValueError("service name is required for role service and only for it")
        if self.purpose is not None and self.purpose not in PURPOSE_CODES:
            raise ValueError(f"unknown purpose code {self.purpose!r}")
        return self

    @property
    def may_unmask(self) -> bool:
        """Personal data is shown unmasked only with the right AND a stated purpose."""
        return self.pii and self.purpose is not None


class IdentityError(Exception):
    """The identity header is missing or not to be trusted; services answer 401."""

    code = "identity_invalid"
    status = 401
    message = {
        "id": "Identitas pemanggil tidak sah.",
        "en": "The caller identity is not valid.",
    }

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.message["en"])
        self.detail = detail


class IdentityMissing(IdentityError):
    code = "identity_missing"
    message = {
        "id": "Identitas pemanggil tidak ada; panggil layanan melalui gateway.",
        "en": "The caller identity is missing; call the service through the gateway.",
    }


class IdentityExpired(IdentityError):
    code = "identity_expired"
    message = {
        "id": "Identitas pemanggil sudah kedaluwarsa.",
        "en": "The caller identity has expired.",
    }


def service_identity(
    service: str,
    *,
    request_id: str,
    region: str = "",
    pii: bool = False,
    lang: Literal["id", "en"] = "en",
) -> Identity:
    """The identity a service uses when it calls another service (e.g. pulling a feed)."""
    return Identity(
        sub=f"service:{service}",
        role=Role.SERVICE,
        region=region,
        pii=pii,
        request_id=request_id,
        lang=lang,
        service=service,
    )


def encode_identity(
    identity: Identity,
    secret: str | bytes,
    *,
    now: datetime | None = None,
    lifetime: timedelta = IDENTITY_LIFETIME,
) -> str:
    """Sign ``identity`` for the ``X-KKB-Identity`` header."""
    issued = now or datetime.now(UTC)
    payload: dict[str, Any] = {
        "iss": INTERNAL_ISSUER,
        "aud": INTERNAL_AUDIENCE,
        "sub": identity.sub,
        "iat": int(issued.timestamp()),
        "exp": int((issued + lifetime).timestamp()),
        "idn": identity.model_dump(mode="json"),
    }
    return jwt.encode(payload, _secret_bytes(secret), algorithm=_ALGORITHM)


def decode_identity(
    token: str | None,
    secrets: str | bytes | Sequence[str | bytes],
    *,
    leeway: timedelta = timedelta(seconds=5),
) -> Identity:
    """Verify the header value and return the identity.

    ``secrets`` may list several secrets so the internal secret can rotate: the gateway
    signs with the new one while services still accept the old one.
    """
    if not token:
        raise IdentityMissing()
    candidates = [secrets] if isinstance(secrets, str | bytes) else list(secrets)
    if not candidates:
        raise ValueError("at least one internal secret is required")
    payload: dict[str, Any] | None = None
    for secret in candidates:
        try:
            payload = jwt.decode(
                token,
                _secret_bytes(secret),
                algorithms=[_ALGORITHM],
                audience=INTERNAL_AUDIENCE,
                issuer=INTERNAL_ISSUER,
                leeway=leeway,
                options={"require": ["iss", "aud", "sub", "iat", "exp"]},
            )
            break
        except jwt.InvalidSignatureError:
            continue
        except jwt.ExpiredSignatureError as exc:
            raise IdentityExpired(str(exc)) from exc
        except jwt.PyJWTError as exc:
            raise IdentityError(str(exc)) from exc
    if payload is None:
        raise IdentityError("signature does not match any internal secret")
    try:
        identity = Identity.model_validate(payload.get("idn"))
    except ValidationError as exc:
        raise IdentityError("identity claims are malformed") from exc
    if identity.sub != payload["sub"]:
        raise IdentityError("subject mismatch")
    return identity


def _secret_bytes(secret: str | bytes) -> bytes:
    raw = secret.encode() if isinstance(secret, str) else secret
    if len(raw) < MIN_SECRET_BYTES:
        raise ValueError(f"internal secret must be at least {MIN_SECRET_BYTES} bytes")
    return raw
