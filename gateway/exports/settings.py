from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from common.reference_data import REPO_ROOT


class ExportSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_EXPORT_", extra="ignore")

    enabled: bool = True
    # Files are written under <dir>/<job id>/; the default is the repository's .data.
    dir: Path = REPO_ROOT / ".data" / "exports"
    # A download link works this long; polling the job hands out fresh links.
    link_ttl_s: int = 900
    # The files are kept this long after the job finished, then deleted.
    retention_s: int = 24 * 3600
    # Jobs run at once per gateway process; the queue waits for a free one.
    concurrency: int = 2
    poll_s: float = 2.0
    # A running job whose process stopped reporting this long is taken over.
    stale_after_s: float = 60.0
    max_attempts: int = 3
    # Longest silence from a service while it streams a dataset.
    read_timeout_s: float = 120.0
    progress_every_s: float = 1.0
    flush_bytes: int = 1024 * 1024
