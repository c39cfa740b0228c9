"""API models of Kampung KB sites and lokus designations."""

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from services.registry.codelists import (
    KAMPUNG_KB_AREA_TYPE,
    KAMPUNG_KB_MATURITY,
    KAMPUNG_KB_MATURITY_LEGACY,
    POKJA_ROLE,
    PROGRAMME_AIM,
    RUMAH_DATAKU_LEVEL,
)
from services.registry.persons.codes import coded


def _maturity_level(value: str) -> str:
    """Today's grading (Peraturan BKKBN 20/2023) or the older one, for past levels."""
    for code_list in (KAMPUNG_KB_MATURITY, KAMPUNG_KB_MATURITY_LEGACY):
        entry = code_list.lookup(value)
        if entry is not None:
            return str(entry.code)
    allowed = sorted(
        {str(c) for c in (*KAMPUNG_KB_MATURITY.codes(), *KAMPUNG_KB_MATURITY_LEGACY.codes())}
    )
    raise ValueError(f"unknown maturity level {value!r}; expected one of {', '.join(allowed)}")


MaturityLevel = Annotated[str, AfterValidator(_maturity_level)]
VillageCode = Field(pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$", examples=["61.04.16.2007"])


class PokjaMember(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    role: coded(str, POKJA_ROLE) = Field(examples=["ketua"])  # type: ignore[valid-type]
    section: str | None = Field(default=None, max_length=200, description="Seksi, if any")
    since: date | None = None


class SiteFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["Kampung KB Kali Nilam"])
    established_on: date
    decree_number: str | None = Field(default=None, max_length=200)
    decree_date: date | None = None
    rumah_dataku_level: coded(str, RUMAH_DATAKU_LEVEL) | None = None  # type: ignore[valid-type]
    aims: list[coded(int, PROGRAMME_AIM)] = Field(  # type: ignore[valid-type]
        default_factory=list, description="Programme aims 1-4"
    )
    area_types: list[coded(str, KAMPUNG_KB_AREA_TYPE)] = Field(  # type: ignore[valid-type]
        default_factory=list
    )
    pokja: list[PokjaMember] = Field(default_factory=list, max_length=200)


class SiteCreate(SiteFields):
    village_code: str = VillageCode
    sub_area_kind: Literal["dusun", "rw"] | None = Field(
        default=None, description="Set when the site covers one dusun or RW of the village"
    )
    sub_area_code: str | None = Field(default=None, max_length=50)
    maturity_level: MaturityLevel = Field(default="dasar", examples=["dasar"])
    maturity_date: date | None = Field(default=None, description="Defaults to established_on")

    @model_validator(mode="after")
    def _sub_area(self) -> "SiteCreate":
        if (self.sub_area_kind is None) != (self.sub_area_code is None):
            raise ValueError("sub_area_kind and sub_area_code go together")
        return self


class SiteUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    established_on: date | None = None
    decree_number: str | None = Field(default=None, max_length=200)
    decree_date: date | None = None
    rumah_dataku_level: coded(str, RUMAH_DATAKU_LEVEL) | None = None  # type: ignore[valid-type]
    aims: list[coded(int, PROGRAMME_AIM)] | None = None  # type: ignore[valid-type]
    area_types: list[coded(str, KAMPUNG_KB_AREA_TYPE)] | None = None  # type: ignore[valid-type]
    pokja: list[PokjaMember] | None = Field(default=None, max_length=200)


class MaturityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: MaturityLevel = Field(examples=["berkembang"])
    effective_date: date
    decree_number: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=1000)


class MaturityRead(BaseModel):
    level: str
    effective_date: date
    decree_number: str | None = None
    note: str | None = None


class SiteRead(SiteFields):
    model_config = ConfigDict(extra="ignore")

    id: UUID
    village_code: str
    village_name: str | None = None
    sub_area_kind: str | None = None
    sub_area_code: str | None = None
    maturity_level: str | None = Field(description="Level in force today")
    maturity_history: list[MaturityRead]
    version: int


class LokusDesignate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decree_number: str = Field(min_length=1, max_length=200)
    decree_date: date


class LokusRead(BaseModel):
    village_code: str
    village_name: str
    district_code: str
    district_name: str
    year: int
    decree_number: str
    decree_date: date
    revoked_on: date | None = None
