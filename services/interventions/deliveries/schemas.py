"""API models of deliveries (one service given to one subject)."""

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

Text = dict[str, str]
MAX_BULK_ROWS = 50_000
Name = Field(default=None, max_length=200)


class DeliveryCreate(BaseModel):
    """One delivery. ``unit`` defaults to the intervention's unit; ``sector`` is needed
    only from callers not bound to a sector (e.g. an administrator) when the
    intervention has several."""

    model_config = ConfigDict(extra="forbid")

    subject_id: UUID
    intervention_code: str = Field(min_length=1, max_length=16, examples=["S2"])
    delivered_on: date
    quantity: float = Field(lt=1e9, examples=[30])
    unit: str | None = Field(default=None, max_length=32, examples=["tablets"])
    funding_source: str = Field(max_length=16, examples=["APBD"])
    organisation: str | None = Field(
        default=None, max_length=200, examples=["Puskesmas Delta Pawan"]
    )
    officer: str | None = Name
    place: str | None = Name
    sector: str | None = Field(default=None, max_length=32)
    note: str | None = Field(default=None, max_length=1000)


class DeliveryCorrection(BaseModel):
    """The fields to change; the others are copied from the delivery corrected."""

    model_config = ConfigDict(extra="forbid")

    delivered_on: date | None = None
    quantity: float | None = Field(default=None, lt=1e9)
    unit: str | None = Field(default=None, max_length=32)
    funding_source: str | None = Field(default=None, max_length=16)
    organisation: str | None = Name
    officer: str | None = Name
    place: str | None = Name
    note: str | None = Field(default=None, max_length=1000)
    reason: str = Field(min_length=1, max_length=1000)


class DeliveryVoid(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000)


class DeliveryRead(BaseModel):
    id: UUID
    kind: Literal["recorded", "corrected", "voided"]
    supersedes: UUID | None
    current: bool = Field(description="False once a correction or void replaced it")
    counts: bool = Field(description="Current and not voided: it counts towards the dose")
    subject_id: UUID
    subject_kind: str
    household_id: UUID | None
    village_code: str
    intervention_code: str
    catalogue_version: int
    delivered_on: date
    quantity: float
    unit: str
    sector: str
    organisation: str | None
    officer: str | None
    place: str | None
    funding_source: str
    note: str | None
    reason: str | None
    batch_id: UUID | None
    recorded_by: str
    recorded_at: datetime


class DeliveryDetail(DeliveryRead):
    history: list[DeliveryRead] = Field(description="Every version of this delivery, oldest first")


class BulkSession(BaseModel):
    """What the rows of one session (a posyandu day, a distribution) share; each row may
    override ``intervention_code``, ``delivered_on``, ``unit``, ``funding_source``."""

    model_config = ConfigDict(extra="forbid")

    intervention_code: str | None = Field(default=None, max_length=16)
    delivered_on: date | None = None
    unit: str | None = Field(default=None, max_length=32)
    funding_source: str | None = Field(default=None, max_length=16)
    organisation: str | None = Name
    officer: str | None = Name
    place: str | None = Name
    sector: str | None = Field(default=None, max_length=32)
    reference: str | None = Field(
        default=None, max_length=200, examples=["posyandu-melati-2026-03"]
    )


class DeliveryBulk(BaseModel):
    """Up to 50,000 rows ``{subject_id, quantity, note?, intervention_code?,
    delivered_on?, unit?, funding_source?}``. ``on_error``: ``skip`` stores the valid rows
    and reports the others; ``reject`` stores nothing when any row is invalid."""

    model_config = ConfigDict(extra="forbid")

    session: BulkSession = Field(default_factory=BulkSession)
    rows: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BULK_ROWS)
    on_error: Literal["skip", "reject"] = "skip"


class RowError(BaseModel):
    row: int
    loc: list[str | int]
    code: str
    msg: str


class BulkResult(BaseModel):
    batch_id: UUID | None
    on_error: str
    received: int
    accepted: int
    rejected: int
    errors: list[RowError]
