from pydantic_settings import SettingsConfigDict

from common.settings import ServiceSettings


class InterventionsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTERVENTIONS_", extra="ignore")

    registry_url: str = "http://127.0.0.1:8001"
    consume_feeds: bool = True
