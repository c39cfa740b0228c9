from typing import Any

from pydantic_settings import SettingsConfigDict

from common.settings import ServiceSettings


class InterventionsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTERVENTIONS_", extra="ignore")

    registry_url: str = "http://127.0.0.1:8001"
    consume_feeds: bool = True
    # Registry feed: events per batch, and the pause when there is nothing new.
    feed_batch_size: int = 1000
    feed_poll_s: float = 0.5
    # A bulk delivery fetches at most this many subjects the feed has not brought yet.
    bulk_lookup_limit: int = 500
    # Per-regency overrides, e.g. {"latrine": {"due_days": 45}} and {"catin": {"months": 4}}.
    referral_types: dict[str, dict[str, Any]] = {}
    visit_schedules: dict[str, dict[str, Any]] = {}
    # BMI < 18.5 and Hb < 12 g/dL for non-pregnant brides: common but unconfirmed.
    catin_use_unconfirmed_rules: bool = False
