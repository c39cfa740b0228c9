"""API models of Dukcapil verification, extract imports, conflicts and exit flags."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class VerificationStatus(StrEnum):
    VERIFIED = "verified"
    DIFFERS = "differs"
    NOT_FOUND = "not_found"
    UNVERIFIED = "unverified"
    PENDING = "pending"
    UNCHECKED = "unchecked"
    NO_NIK = "no_nik"


class VerificationRead(BaseModel):
    """The person's NIK as checked against Dukcapil; ``differences`` names the fields
    Dukcapil records differently (never their values)."""

    person_id: UUID
    status: VerificationStatus
    label: dict[str, str]
    differences: list[str]
    source: str | None = Field(description="web_service (CALL_NIK) or extract (an import)")
    code: str | None = Field(description="Stable code of the last answer or failure")
    message: dict[str, str] | None
    checked_at: datetime | None = Field(description="When Dukcapil last answered")
    attempted_at: datetime | None
    next_attempt_at: datetime | None = Field(description="When the next check runs, if due")


class ImportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class ImportRead(BaseModel):
    """An extract import; poll it until ``status`` is completed or failed."""

    id: UUID
    regency_code: str
    file_name: str
    file_sha256: str
    file_bytes: int
    extract_date: date
    source: str
    status: ImportStatus
    phase: str | None
    rows_total: int | None
    rows_rejected: int | None
    batches_total: int | None
    batches_done: int
    progress: float = Field(description="Share of batches done, 0–1")
    counts: dict[str, int] = Field(description="Reconciliation report: counts by kind")
    error: dict[str, Any] | None
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    already_imported: bool = Field(
        default=False, description="The same file was imported before: nothing to do"
    )


class FieldConflict(BaseModel):
    field: str
    registry: Any
    dukcapil: Any


class ConflictRead(BaseModel):
    """A record both an operator and Dukcapil changed: nothing was overwritten. Names and
    birth dates are masked unless you may see personal data and state a purpose."""

    id: UUID
    import_id: UUID
    record_type: str
    person_id: UUID | None
    household_id: UUID | None
    village_code: str
    person_name: str | None
    fields: list[FieldConflict]
    status: str
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    masked: bool


class Resolution(StrEnum):
    KEEP_REGISTRY = "keep_registry"
    TAKE_DUKCAPIL = "take_dukcapil"


class ConflictResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: Resolution


class ExitFlagRead(BaseModel):
    """A death or a move out of the regency reported by an extract, awaiting a village
    operator's confirmation (never applied silently)."""

    id: UUID
    import_id: UUID
    person_id: UUID
    household_id: UUID | None
    village_code: str
    person_name: str | None
    kind: str
    death_date: date | None
    status: str
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    note: str | None
    masked: bool


class ExitDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=500)
