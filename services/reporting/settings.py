from pydantic_settings import SettingsConfigDict

from common.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTING_", extra="ignore")

    registry_url: str = "http://127.0.0.1:8001"
    interventions_url: str = "http://127.0.0.1:8002"
    consume_feeds: bool = True
    # Catching up, each batch's growth recount is paid per batch: 5,000 events a batch
    # applied 10,000 events/s against 4,200 at 1,000 (bench/RESULTS.md). The feed serves
    # at most 5,000 a page; caught up, pages are small anyway.
    feed_batch_size: int = 5000
    feed_poll_s: float = 0.2
    small_cell_threshold: int = 10
    # The indicator whose gaps the scorecard ranks, and the reference it is ranked by
    # (the national 2024 stunting target, DOMAIN.md).
    scorecard_gap_indicator: str = "stunting_prevalence"
    scorecard_gap_reference: float = 14.0
