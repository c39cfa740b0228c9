from typing import Literal

from pydantic_settings import SettingsConfigDict

from common.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    registry_url: str = "http://127.0.0.1:8001"
    interventions_url: str = "http://127.0.0.1:8002"
    reporting_url: str = "http://127.0.0.1:8003"
    public_url: str = "http://127.0.0.1:8000"
    # Built-in issuer; an external OIDC issuer can be trusted as well (see auth).
    issuer: str = ""
    audience: str = "kkb-api"
    access_token_ttl_s: int = 600
    refresh_token_ttl_s: int = 8 * 3600
    oidc_issuer: str = ""
    oidc_audience: str = ""
    oidc_jwks_url: str = ""
    cors_origins: list[str] = []
    rate_limit_per_s: float = 50.0
    rate_limit_burst: int = 100
    default_timeout_s: float = 10.0
    upload_timeout_s: float = 120.0
    lockout_failures: int = 5
    lockout_minutes: int = 15
    # A retired signing key stays published this long after its last token expired.
    key_retire_grace_s: int = 60
    # How often revocations and key changes are picked up from the database.
    security_refresh_s: float = 5.0
    oidc_jwks_refresh_s: float = 300.0
    # A token with an unknown kid refetches the issuer's JWKS at most this often.
    oidc_jwks_min_reload_s: float = 30.0
    # Services' OpenAPI documents (route permissions, the merged document).
    openapi_ttl_s: float = 300.0
    openapi_retry_s: float = 10.0
    proxy_transport: Literal["httpx", "httpx-aiohttp", "aiohttp"] = "aiohttp"

    @property
    def issuer_url(self) -> str:
        return self.issuer or self.public_url
