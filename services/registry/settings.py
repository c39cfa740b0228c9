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
    dukcapil_rate_per_s: float = 5.0
    dukcapil_timeout_s: float = 10.0
    # Seconds the circuit stays open after repeated failures before one trial call.
    dukcapil_breaker_reset_s: float = 15.0
    # Background re-verification: how often it looks for due checks, and how many per round.
    dukcapil_worker_enabled: bool = True
    dukcapil_worker_interval_s: float = 2.0
    dukcapil_worker_batch: int = 20
    # Retry of an unanswered check: base delay doubled per attempt, up to the maximum.
    dukcapil_retry_base_s: float = 5.0
    dukcapil_retry_max_s: float = 900.0
    # Extract imports: rows per transaction, and where uploads wait (default: temp dir).
    # Each batch pays fixed costs (statistics, reassessment set-up); 200,000 rows keep
    # a batch's temporary tables well inside temp_buffers.
    dukcapil_import_batch_rows: int = 200_000
    dukcapil_spool_dir: str = ""
    # The daily KRS reassessment (risk/daily.py): on, and how often it looks whether
    # today's is done.
    krs_daily_enabled: bool = True
    krs_daily_check_s: float = 900.0
