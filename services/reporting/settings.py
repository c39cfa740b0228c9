from pydantic_settings import SettingsConfigDict

from common.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTING_", extra="ignore")

    registry_url: str = "http://127.0.0.1:8001"
    interventions_url: str = "http://127.0.0.1:8002"
    consume_feeds: bool = True
    small_cell_threshold: int = 10
