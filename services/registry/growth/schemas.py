"""API models of growth measurements, posyandu uploads and the stateless calculator."""

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.registry.codelists import MEASUREMENT_PLACE
from services.registry.persons.codes import coded

Place = coded(str, MEASUREMENT_PLACE)
Bilingual = dict[str, str]


class MeasurementValues(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visit_date: date = Field(description="Day of the measurement (not in the future)")
    weight_kg: float | None = Field(default=None, allow_inf_nan=False, description="Kilograms")
    height_cm: float | None = Field(
        default=None, allow_inf_nan=False, description="Length (lying) or height (standing), cm"
    )
    measure: Literal["l", "h"] | None = Field(
        default=None,
        description="l lying (length, PB), h standing (height, TB); "
        "missing: lying under 24 months, standing from 24 months",
    )
    head_cm: float | None = Field(
        default=None, allow_inf_nan=False, description="Head circumference, cm"
    )
    muac_cm: float | None = Field(
        default=None, allow_inf_nan=False, description="Mid-upper-arm circumference (LiLA), cm"
    )
    oedema: bool = Field(default=False, description="Bilateral pitting oedema")
    place: Place = Field(default="posyandu", description="posyandu, puskesmas, home, other")  # type: ignore[valid-type]
    posyandu_name: str | None = Field(default=None, max_length=200)


class MeasurementCreate(MeasurementValues):
    """One visit of a child under five."""

    person_id: UUID


class MeasurementCorrection(MeasurementValues):
    """The corrected visit; the measurement it replaces is kept, marked superseded."""

    reason: str = Field(min_length=1, max_length=500)


class ClassRead(BaseModel):
    code: str
    label: Bilingual


class IssueRead(BaseModel):
    code: str
    field: str
    message: Bilingual


class MeasurementRead(BaseModel):
    """A stored visit. z-scores are rounded to 2 decimals for display; classes were
    decided on full precision. Birth date and exact age in days are shown only to
    callers who may unmask personal data."""

    id: UUID
    person_id: UUID
    household_id: UUID | None
    village_code: str
    visit_date: date
    sex: int
    birth_date: str | None
    age_days: int | None
    age_months: int = Field(description="Completed months at the visit")
    weight_kg: float | None
    height_cm: float | None
    measure: str | None
    head_cm: float | None
    muac_cm: float | None
    oedema: bool
    place: str
    posyandu_name: str | None
    height_used_cm: float | None = Field(description="After the ±0.7 cm position adjustment")
    measure_used: str | None
    bmi: float | None
    zlen: float | None
    zwei: float | None
    zwfl: float | None
    zbmi: float | None
    zhc: float | None
    zac: float | None
    flen: bool | None
    fwei: bool | None
    fwfl: bool | None
    fbmi: bool | None
    fhc: bool | None
    fac: bool | None
    class_len: ClassRead | None
    class_wei: ClassRead | None
    class_wfl: ClassRead | None
    class_bmi: ClassRead | None
    warnings: list[IssueRead]
    counted: bool = Field(description="The measurement of the child's month that counts")
    supersedes: UUID | None
    superseded_by: UUID | None
    correction_reason: str | None
    source: str
    upload_id: UUID | None
    engine_version: str
    recorded_at: datetime
    version: int
    masked: bool


class ChildRead(BaseModel):
    id: UUID
    full_name: str | None
    sex: int
    birth_date: str | None
    village_code: str
    household_id: UUID | None
    alive: bool
    masked: bool


class GrowthHistory(BaseModel):
    child: ChildRead
    measurements: list[MeasurementRead]


class RowErrorRead(BaseModel):
    row: int = Field(description="Spreadsheet row: the header is row 1")
    column: str | None = Field(description="The column's header as written in the file")
    field: str
    code: str
    message: Bilingual


class UploadRowResult(BaseModel):
    row: int
    measurement_id: UUID
    person_id: UUID
    visit_date: date
    zlen: float | None
    zwei: float | None
    zwfl: float | None
    zbmi: float | None
    zhc: float | None
    zac: float | None
    class_len: str | None
    class_wei: str | None
    class_wfl: str | None
    class_bmi: str | None
    warnings: list[str]


class UploadReport(BaseModel):
    upload_id: UUID
    file_name: str | None
    rows: int
    stored: int
    rejected: int
    ignored_columns: list[str]
    engine_version: str
    errors: list[RowErrorRead]
    results: list[UploadRowResult]


class UploadSummary(BaseModel):
    upload_id: UUID
    file_name: str | None
    uploaded_by: str
    uploaded_at: datetime
    rows: int
    stored: int
    rejected: int
    engine_version: str
    errors: list[RowErrorRead]


class ZscoreRows(BaseModel):
    rows: list[dict[str, Any]]
    rows_with_errors: int
