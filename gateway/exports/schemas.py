"""API models of bulk export jobs."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

DatasetName = Literal["households", "persons", "measurements", "deliveries", "referrals"]
ExportFormat = Literal["ndjson", "csv"]
ExportStatus = Literal["queued", "running", "done", "failed", "expired"]


class ExportCreate(BaseModel):
    """What to export: every row of the datasets under a region (within your scope)."""

    model_config = ConfigDict(extra="forbid")

    region: str = Field(
        pattern=r"^(\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?)?$",
        description="Kemendagri code prefix, e.g. 61.04; '' for national (national scope only)",
        examples=["61.04"],
    )
    datasets: list[DatasetName] = Field(min_length=1, max_length=5)
    format: ExportFormat = "ndjson"

    @field_validator("datasets")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each dataset at most once")
        return value


class DatasetProgress(BaseModel):
    dataset: DatasetName
    rows: int
    estimated_rows: int | None = Field(description="Known once the dataset has started")
    done: bool


class ExportFileRead(BaseModel):
    name: str
    dataset: DatasetName
    rows: int
    bytes: int
    sha256: str
    media_type: str
    url: str = Field(description="Download link; works without a token until url_expires_at")
    url_expires_at: datetime


class ExportRead(BaseModel):
    id: UUID
    status: ExportStatus
    region: str
    datasets: list[DatasetName]
    format: ExportFormat
    masked: bool = Field(
        description="Personal data masked (NIK/KK partly hidden, names as initials, birth "
        "dates as year-month) unless you had the personal-data right and stated a purpose"
    )
    percent: float = Field(description="Rough progress, 0-100")
    progress: list[DatasetProgress]
    files: list[ExportFileRead] = Field(description="When done and not yet expired")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None = Field(description="The files are deleted at this time")
    error: dict[str, Any] | None
