"""API models of the intervention catalogue."""

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.interventions.catalogue.rules import (
    CatalogueEntry,
    Dose,
    InterventionKind,
    SubjectKind,
    Unit,
)
from services.interventions.eligibility import describe_rule
from services.interventions.sectors import Sector

Text = dict[str, str]


class CatalogueEntryIn(BaseModel):
    """One version of an intervention as an administrator writes it."""

    model_config = ConfigDict(extra="forbid")

    valid_from: date
    name: Text = Field(examples=[{"id": "Tablet tambah darah", "en": "Iron tablets"}])
    kind: InterventionKind
    sectors: list[Sector] = Field(min_length=1)
    target_groups: list[str] = Field(min_length=1)
    subject_kind: SubjectKind
    eligibility: dict[str, Any] = Field(description="Rule tree, see eligibility.py")
    unit: Unit
    dose: Dose | None = None
    national_target_pct: float | None = None
    target_confirmed: bool = False
    target_year: int | None = None
    source: str = Field(default="", max_length=500)

    def entry(self, code: str, version: int) -> CatalogueEntry:
        return CatalogueEntry(
            code=code,
            version=version,
            **{**self.model_dump(exclude={"code"}), "sectors": tuple(self.sectors)},
        )


class CatalogueEntryCreate(CatalogueEntryIn):
    code: str = Field(min_length=1, max_length=16, examples=["N16"])


class Retirement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    retired_on: date


class CatalogueVersionRead(CatalogueEntry):
    eligibility_text: Text


class VersionSummary(BaseModel):
    version: int
    valid_from: date
    retired_on: date | None


class CatalogueItem(BaseModel):
    """An intervention with the version in force on the asked day and every version."""

    code: str
    in_force: CatalogueVersionRead | None
    retired_on: date | None
    versions: list[VersionSummary]


class CatalogueDetail(BaseModel):
    code: str
    in_force_version: int | None
    retired_on: date | None
    versions: list[CatalogueVersionRead]


def version_read(entry: CatalogueEntry) -> CatalogueVersionRead:
    return CatalogueVersionRead(
        **entry.model_dump(), eligibility_text=describe_rule(entry.eligibility)
    )
