"""Settings of the event feed and webhooks (``GATEWAY_EVENTS_*``, ``GATEWAY_WEBHOOK_*``)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IntegrationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    # Events fetched from each source per page of /v1/events or per dispatcher batch.
    events_scan_limit: int = Field(default=1000, ge=1, le=5000)
    events_source_timeout_s: float = 10.0

    # Run the webhook dispatcher and senders in this gateway process.
    webhook_enabled: bool = True
    # Loopback (127.0.0.0/8, ::1) and private ranges are refused unless allowed here;
    # link-local and metadata addresses always are.
    webhook_allow_loopback: bool = False
    webhook_allow_private: bool = False
    webhook_timeout_s: float = Field(default=5.0, gt=0)
    # A subscription is paused after this many failed attempts in a row.
    webhook_pause_after_failures: int = Field(default=50, ge=1)
    # Failed deliveries are retried with exponential backoff for at least this long.
    webhook_retry_window_s: float = Field(default=24 * 3600, ge=1)
    webhook_backoff_base_s: float = Field(default=5.0, gt=0)
    webhook_backoff_max_s: float = Field(default=3600.0, gt=0)
    # Requests in flight per subscription, and in total for this gateway process.
    webhook_concurrency: int = Field(default=32, ge=1, le=256)
    webhook_max_connections: int = Field(default=512, ge=1)
    # How often the dispatcher polls the feeds and the senders look for due retries.
    webhook_poll_s: float = Field(default=0.25, gt=0)
    # Delivered and abandoned deliveries (and their attempts) are kept this long.
    webhook_retention_days: int = Field(default=14, ge=1)
