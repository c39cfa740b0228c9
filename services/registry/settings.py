from pydantic_settings import SettingsConfigDict

from common.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    dukcapil_url: str = ""
    dukcapil_user: str = "kkb-ketapang"
    dukcapil_password: str = "dev-dukcapil-password"
    dukcapil_ip: str = "127.0.0.1"
    dukcapil_institution: str = "kab_ketapang"
    dukcapil_daily_quota: int = 10000
    # Deaths and moves out reported by a Dukcapil extract wait for an operator unless set.
    dukcapil_auto_apply_exits: bool = False
