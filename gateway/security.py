"""Authentication, identity forwarding, rate limits and audit for every forwarded call."""

import asyncio
import base64
import time
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import structlog
from fastapi import FastAPI, Request
from starlette.responses import Response

from common.audit_header import AUDIT_HEADER
from common.errors import ProblemError
from common.i18n import negotiate
from common.identity import Identity, encode_identity
from common.pii import PURPOSE_CODES
from gateway import proxy, store
from gateway.audit.chain import Outcome
from gateway.auth.keys import KeyRing, RetiredKey, SigningKey, generate_signing_key, jwks_document
from gateway.auth.tokens import AccessClaims, TokenError, TrustedIssuer, verify_with_any
from gateway.authz.roles import default_lang
from gateway.ratelimit import RateLimit, RateLimiter
from gateway.settings import GatewaySettings

log = structlog.get_logger()

PURPOSE_HEADER = "x-kkb-purpose"
UPLOAD_SUFFIXES = ("/upload", "/import", "/bulk", "/csv")


class SecurityState:
    """What the gateway keeps in memory: keys, trusted issuers, revocations, rate buckets."""

    def __init__(self, settings: GatewaySettings, key_password: bytes) -> None:
        self.settings = settings
        self.key_password = key_password
        self.keyring: KeyRing | None = None
        self.external: TrustedIssuer | None = None
        self.inactive_users: set[str] = set()
        self.revoked_clients: set[str] = set()
        self.refreshed_at = 0.0
        self.limiter = RateLimiter(RateLimit(settings.rate_limit_per_s, settings.rate_limit_burst))

    def issuers(self) -> list[TrustedIssuer]:
        assert self.keyring is not None
        now = datetime.now(UTC)
        own = TrustedIssuer(
            issuer=self.settings.issuer_url,
            audience=self.settings.audience,
            jwks=jwks_document(self.keyring.published(now)),
        )
        return [own, self.external] if self.external else [own]


async def startup(app: FastAPI) -> None:
    settings: GatewaySettings = app.state.settings
    state = SecurityState(settings, base64.b64decode(app.state.common.pii_key))
    app.state.security = state
    try:
        await load_keys(app)
        await refresh_revocations(app)
    except Exception as exc:  # noqa: BLE001 - readiness reports the database problem
        log.error("security_state_not_loaded", error=str(exc))
    if settings.oidc_issuer and settings.oidc_jwks_url:
        await load_external_issuer(app)

    async def keep_fresh() -> None:
        while not app.state.stop.is_set():
            await asyncio.sleep(5)
            try:
                await refresh_revocations(app)
                if state.keyring is None or time.monotonic() - state.refreshed_at > 60:
                    await load_keys(app)
            except Exception as exc:  # noqa: BLE001
                log.warning("security_refresh_failed", error=str(exc))

    app.state.background.append(asyncio.create_task(keep_fresh()))


async def load_keys(app: FastAPI) -> None:
    """The newest unretired key signs; retired keys stay published while their tokens live."""
    state: SecurityState = app.state.security
    async with app.state.sessionmaker() as session, session.begin():
        rows = await store.signing_keys(session)
        if not any(r["retired_at"] is None for r in rows):
            key = generate_signing_key()
            await store.add_signing_key(
                session,
                kid=key.kid,
                private_key_enc=key.to_pem(state.key_password).decode(),
                public_jwk=key.verification_key.jwk(),
                retire_others=False,
            )
            rows = await store.signing_keys(session)
    active_row = next(r for r in rows if r["retired_at"] is None)
    active = SigningKey.from_pem(
        active_row["private_key_enc"],
        created_at=active_row["created_at"],
        password=state.key_password,
    )
    keep = timedelta(seconds=state.settings.access_token_ttl_s + 60)
    retired = tuple(
        RetiredKey(
            SigningKey.from_pem(
                r["private_key_enc"], created_at=r["created_at"], password=state.key_password
            ).verification_key,
            r["retired_at"] + keep,
        )
        for r in rows
        if r["retired_at"] is not None and r["retired_at"] + keep > datetime.now(UTC)
    )
    state.keyring = KeyRing(active, retired)
    state.refreshed_at = time.monotonic()


async def rotate_keys(app: FastAPI) -> str:
    state: SecurityState = app.state.security
    key = generate_signing_key()
    async with app.state.sessionmaker() as session, session.begin():
        await store.add_signing_key(
            session,
            kid=key.kid,
            private_key_enc=key.to_pem(state.key_password).decode(),
            public_jwk=key.verification_key.jwk(),
            retire_others=True,
        )
    await load_keys(app)
    return key.kid


async def load_external_issuer(app: FastAPI) -> None:
    settings: GatewaySettings = app.state.settings
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            jwks = (await client.get(settings.oidc_jwks_url)).raise_for_status().json()
        app.state.security.external = TrustedIssuer(
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience or settings.audience,
            jwks=jwks,
        )
    except (httpx.HTTPError, ValueError) as exc:
        log.error("external_jwks_unavailable", issuer=settings.oidc_issuer, error=str(exc))


async def refresh_revocations(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session:
        users, clients = await store.inactive_subjects(session)
    app.state.security.inactive_users = users
    app.state.security.revoked_clients = clients


def unauthorized(reason: str, code: str = "unauthorized") -> ProblemError:
    return ProblemError(
        401,
        code,
        detail={"en": f"Authentication failed: {reason}.", "id": f"Autentikasi gagal: {reason}."},
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def authenticate(request: Request) -> Identity:
    """Verify the bearer token and build the identity forwarded to services."""
    state: SecurityState = request.app.state.security
    if state.keyring is None:
        raise ProblemError(503, "auth_unavailable", detail="Signing keys are not loaded yet.")
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise unauthorized("no bearer token", "token_missing")
    try:
        _, payload = verify_with_any(token.strip(), state.issuers())
        claims = AccessClaims.from_payload(payload)
    except TokenError as exc:
        raise unauthorized(str(exc), getattr(exc, "code", "token_invalid")) from exc
    sub = payload["sub"]
    if sub in state.inactive_users or (
        claims.client_id and claims.client_id in state.revoked_clients
    ):
        raise unauthorized("the account or client was revoked", "token_revoked")
    purpose = request.headers.get(PURPOSE_HEADER)
    if purpose is not None and purpose not in PURPOSE_CODES:
        raise ProblemError(
            400,
            "unknown_purpose",
            detail={
                "en": f"X-KKB-Purpose must be one of {sorted(PURPOSE_CODES)}.",
                "id": f"X-KKB-Purpose harus salah satu dari {sorted(PURPOSE_CODES)}.",
            },
        )
    lang = negotiate(request.headers.get("accept-language"), default_lang(claims.role))
    return claims.identity(sub=sub, request_id=request.state.request_id, lang=lang, purpose=purpose)


def rate_limit(request: Request, key: str) -> None:
    decision = request.app.state.security.limiter.hit(key)
    if not decision.allowed:
        raise ProblemError(
            429,
            detail={
                "en": "Too many requests; slow down.",
                "id": "Terlalu banyak permintaan; mohon perlambat.",
            },
            headers={"Retry-After": decision.retry_after_header},
        )


async def authorise_and_forward(request: Request, service: str) -> Response:
    identity = authenticate(request)
    rate_limit(request, identity.client_id or identity.sub)
    settings: GatewaySettings = request.app.state.settings
    timeout = (
        settings.upload_timeout_s
        if request.url.path.endswith(UPLOAD_SUFFIXES)
        else settings.default_timeout_s
    )
    token = encode_identity(identity, request.app.state.common.internal_secret)
    response = await proxy.forward(
        request.app.state.proxy_client,
        service,
        request.app.state.service_urls[service],
        request,
        identity_token=token,
        timeout_s=timeout,
    )
    audit_info = response.headers.get(AUDIT_HEADER)
    if audit_info is not None:
        del response.headers[AUDIT_HEADER]
    details = orjson.loads(audit_info) if audit_info else {}
    if request.method != "GET" or details.get("unmasked"):
        await audit(request, identity, service, response.status_code, details)
    return response


async def audit(
    request: Request, identity: Identity, service: str, status: int, details: dict
) -> None:
    kind = (
        Outcome.ALLOWED
        if status < 400
        else Outcome.DENIED
        if status in (401, 403, 404)
        else Outcome.ERROR
    )
    entry = {
        "at": datetime.now(UTC),
        "actor": identity.sub,
        "role": str(identity.role),
        "client_id": identity.client_id,
        "operation": f"{service}:{request.method}",
        "method": request.method,
        "route": request.url.path,
        "record_type": details.get("record_type"),
        "record_ids": [str(x) for x in details.get("record_ids", [])],
        "subject_ids": [str(x) for x in details.get("subject_ids", [])],
        "fields": list(details.get("fields", [])) if details.get("unmasked") else [],
        "purpose": identity.purpose,
        "request_id": identity.request_id,
        "outcome": status,
        "outcome_kind": kind.value,
    }
    async with request.app.state.sessionmaker() as session, session.begin():
        await store.append_audit(session, [entry])
