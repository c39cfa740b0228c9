"""Settings read from the environment (pydantic-settings).

Shared settings carry the ``KKB_`` prefix; each app adds its own class with its own
prefix (``REGISTRY_``, ``INTERVENTIONS_``, ``REPORTING_``, ``GATEWAY_``). ``make run``,
the tests and docker-compose all use these same names.
"""

from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_INTERNAL_SECRET = "dev-internal-secret-change-me-0123456789abcdef"
DEV_PII_KEY = "ZGV2LXBpaS1rZXktY2hhbmdlLW1lLTAxMjM0NTY3ODk="  # 32 bytes, base64
DEV_HASH_KEY = "dev-hash-key-change-me"

Environment = Literal["dev", "test", "prod"]


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KKB_", extra="ignore")

    env: Environment = "dev"
    # HMAC secret for the identity the gateway forwards and for service-to-service calls.
    internal_secret: str = DEV_INTERNAL_SECRET
    # Application keys for personal data at rest: AES-GCM key (base64) and lookup-hash key.
    pii_key: str = DEV_PII_KEY
    hash_key: str = DEV_HASH_KEY
    log_level: str = "INFO"
    log_json: bool = True
    body_limit_bytes: int = 1024 * 1024
    upload_body_limit_bytes: int = 200 * 1024 * 1024
    service_timeout_s: float = 10.0

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> "CommonSettings":
        if self.env == "prod":
            defaults = {
                "KKB_INTERNAL_SECRET": self.internal_secret == DEV_INTERNAL_SECRET,
                "KKB_PII_KEY": self.pii_key == DEV_PII_KEY,
                "KKB_HASH_KEY": self.hash_key == DEV_HASH_KEY,
            }
            unset = [name for name, is_default in defaults.items() if is_default]
            if unset:
                raise ValueError(f"refusing to start in prod with default secrets: {unset}")
        return self


class ServiceSettings(BaseSettings):
    """Per-app settings; subclasses set ``env_prefix``."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = ""
    db_pool_size: int = 10
    host: str = "127.0.0.1"
    port: int = 0
