"""The indicator catalogue: what each reported figure means, as versioned data.

Definitions change when the government revises a method, so each indicator carries a
version and a validity period; a report records the ``key`` (``code@vN``) it used.
Parametrised indicators (``coverage:S2``, ``tpk_visit_coverage:baduta``,
``kampung_kb_sites:mandiri``) are one definition bound to a parameter on resolution.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Literal, TypedDict

from common.errors import ProblemError

Lang = Literal["id", "en"]


class Bilingual(TypedDict):
    id: str
    en: str


_INVALID_REQUEST: Bilingual = {
    "id": "Permintaan laporan tidak valid",
    "en": "Invalid report request",
}


class ReportingError(ProblemError):
    """Bad reporting input the caller can correct: a stable ``code`` plus id/en messages."""

    def __init__(self, code: str, messages: Bilingual) -> None:
        super().__init__(422, code, title=_INVALID_REQUEST, detail=dict(messages))
        self.messages = messages

    def message(self, lang: Lang) -> str:
        return self.messages[lang]

    def __str__(self) -> str:
        return f"{self.code}: {self.messages['en']}"


class Unit(StrEnum):
    PERCENT = "percent"
    COUNT = "count"
    DAYS = "days"


class Direction(StrEnum):
    LOWER_IS_BETTER = "lower_is_better"
    HIGHER_IS_BETTER = "higher_is_better"
    NEUTRAL = "neutral"


class ReadModel(StrEnum):
    """Reporting read models (built from the services' change feeds) an indicator reads."""

    GROWTH_MEASUREMENT = "growth_measurement"
    CHILD_REGISTER = "child_register"
    FAMILY_RISK = "family_risk"
    INTERVENTION_DELIVERY = "intervention_delivery"
    REFERRAL = "referral"
    TPK_VISIT = "tpk_visit"
    TARGET_REGISTER = "target_register"
    KAMPUNG_KB_SITE = "kampung_kb_site"
    LOKUS_DESIGNATION = "lokus_designation"


UNIT_DECIMALS: Mapping[Unit, int] = {Unit.PERCENT: 1, Unit.COUNT: 0, Unit.DAYS: 1}

UNIT_LABELS: Mapping[Unit, Bilingual] = {
    Unit.PERCENT: {"id": "%", "en": "%"},
    Unit.COUNT: {"id": "jumlah", "en": "count"},
    Unit.DAYS: {"id": "hari", "en": "days"},
}

DIRECTION_LABELS: Mapping[Direction, Bilingual] = {
    Direction.LOWER_IS_BETTER: {"id": "makin rendah makin baik", "en": "lower is better"},
    Direction.HIGHER_IS_BETTER: {"id": "makin tinggi makin baik", "en": "higher is better"},
    Direction.NEUTRAL: {"id": "netral", "en": "neutral"},
}


@dataclass(frozen=True)
class ParameterDomain:
    """Values a parametrised indicator accepts: those matching ``pattern`` if there is
    one, else exactly the labelled ones. Labels name values in texts."""

    kind: str
    labels: Mapping[str, Bilingual] = field(default_factory=dict)
    pattern: re.Pattern[str] | None = None

    def is_valid(self, value: str) -> bool:
        if self.pattern is not None:
            return self.pattern.fullmatch(value) is not None
        return value in self.labels


# Intervention codes belong to the interventions service's catalogue (S1..S11, N1..N15
# today); reporting checks only their shape so a new intervention needs no release here.
INTERVENTION_PARAMETER = ParameterDomain(
    kind="intervention", pattern=re.compile(r"[A-Z]{1,3}[0-9]{1,3}")
)

TPK_TARGET_GROUP_PARAMETER = ParameterDomain(
    kind="tpk_target_group",
    labels={
        "catin": {"id": "calon pengantin", "en": "prospective brides and grooms"},
        "ibu_hamil": {"id": "ibu hamil", "en": "pregnant women"},
        "ibu_pasca_persalinan": {"id": "ibu pasca persalinan", "en": "postpartum mothers"},
        "baduta": {"id": "baduta (0–23 bulan)", "en": "children under two (0–23 months)"},
        "krs": {"id": "keluarga risiko stunting", "en": "families at risk of stunting"},
    },
)

# Peraturan BKKBN 20/2023 levels (unconfirmed), least to most mature, then the grading of
# older material that pre-2023 level histories carry. The registry's list can grow, so
# any lower-case code is accepted; these are the ones with labels.
KAMPUNG_KB_LEVELS = ("dasar", "berkembang", "mandiri", "berkelanjutan")
KAMPUNG_KB_LEVEL_PARAMETER = ParameterDomain(
    kind="kampung_kb_level",
    labels={
        "dasar": {"id": "Dasar", "en": "Basic"},
        "berkembang": {"id": "Berkembang", "en": "Developing"},
        "mandiri": {"id": "Mandiri", "en": "Self-reliant"},
        "berkelanjutan": {"id": "Berkelanjutan", "en": "Sustainable"},
        "lengkap": {"id": "Lengkap (penilaian lama)", "en": "Complete (former grading)"},
        "paripurna": {"id": "Paripurna (penilaian lama)", "en": "Fully developed (former grading)"},
    },
    pattern=re.compile(r"[a-z][a-z_]{0,31}"),
)


@dataclass(frozen=True)
class IndicatorDefinition:
    code: str
    version: int
    valid_from: date
    name: Bilingual
    numerator: Bilingual
    denominator: Bilingual | None
    unit: Unit
    direction: Direction
    read_models: tuple[ReadModel, ...]
    valid_to: date | None = None
    parameter_domain: ParameterDomain | None = None
    parameter: str | None = None

    @property
    def base_code(self) -> str:
        return self.code.split(":", 1)[0]

    @property
    def key(self) -> str:
        return f"{self.code}@v{self.version}"

    @property
    def decimals(self) -> int:
        return UNIT_DECIMALS[self.unit]

    def is_valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def bind(self, parameter: str, label: Bilingual | None = None) -> "IndicatorDefinition":
        """This definition for one parameter value, with ``{parameter}`` filled in its texts."""
        domain = self.parameter_domain
        if domain is None or self.parameter is not None:
            raise ReportingError(
                "indicator_parameter_unexpected",
                {
                    "id": f"Indikator {self.code} tidak menerima parameter.",
                    "en": f"Indicator {self.code} takes no parameter.",
                },
            )
        if not domain.is_valid(parameter):
            raise ReportingError(
                "indicator_parameter_invalid",
                {
                    "id": f"Parameter '{parameter}' tidak dikenal untuk indikator {self.code}.",
                    "en": f"Parameter '{parameter}' is not known for indicator {self.code}.",
                },
            )
        domain_label = domain.labels.get(parameter)

        def shown_as(lang: Lang) -> str:
            if label is not None:
                return f"{label[lang]} ({parameter})"
            return domain_label[lang] if domain_label else parameter

        def fill(text: Bilingual) -> Bilingual:
            return {
                "id": text["id"].format(parameter=shown_as("id")),
                "en": text["en"].format(parameter=shown_as("en")),
            }

        return replace(
            self,
            code=f"{self.code}:{parameter}",
            parameter=parameter,
            name=fill(self.name),
            numerator=fill(self.numerator),
            denominator=fill(self.denominator) if self.denominator else None,
        )


_SINCE = date(2018, 1, 1)

_LATEST_VALID_ID = (
    "per anak dihitung satu pengukuran: yang terakhir dalam periode dengan nilai indeks "
    "yang valid (nilai yang ditandai tidak wajar secara biologis tidak dihitung)"
)
_LATEST_VALID_EN = (
    "one measurement per child counts: the latest in the period with a valid value of the "
    "index (values flagged as biologically implausible are excluded)"
)
_HAZ_DEN: Bilingual = {
    "id": f"Balita yang diukur panjang/tinggi badannya dalam periode; {_LATEST_VALID_ID}",
    "en": f"Children under five whose length/height was measured in the period; {_LATEST_VALID_EN}",
}
_WHZ_DEN: Bilingual = {
    "id": "Balita dengan z-score BB/PB atau BB/TB yang valid dalam periode, ditambah balita "
    f"dengan edema (dihitung gizi buruk); {_LATEST_VALID_ID}",
    "en": "Children under five with a valid weight-for-length/height z-score in the period, "
    f"plus children with oedema (counted as severely wasted); {_LATEST_VALID_EN}",
}
_WAZ_DEN: Bilingual = {
    "id": "Balita dengan z-score BB/U yang valid dalam periode (balita dengan edema tidak "
    f"dihitung karena beratnya tidak mencerminkan status gizi); {_LATEST_VALID_ID}",
    "en": "Children under five with a valid weight-for-age z-score in the period (children "
    f"with oedema are left out: their weight does not reflect nutrition); {_LATEST_VALID_EN}",
}
_GROWTH = (ReadModel.GROWTH_MEASUREMENT,)


def _prevalence(
    code: str, name: Bilingual, numerator: Bilingual, denominator: Bilingual
) -> IndicatorDefinition:
    return IndicatorDefinition(
        code=code,
        version=1,
        valid_from=_SINCE,
        name=name,
        numerator=numerator,
        denominator=denominator,
        unit=Unit.PERCENT,
        direction=Direction.LOWER_IS_BETTER,
        read_models=_GROWTH,
    )


DEFINITIONS: tuple[IndicatorDefinition, ...] = (
    _prevalence(
        "stunting_prevalence",
        {"id": "Prevalensi stunting (pendek dan sangat pendek)", "en": "Stunting prevalence"},
        {
            "id": "Balita dengan z-score PB/U atau TB/U < −2 SD",
            "en": "Children under five with length/height-for-age z-score < −2 SD",
        },
        _HAZ_DEN,
    ),
    _prevalence(
        "severe_stunting_prevalence",
        {"id": "Prevalensi sangat pendek (stunting berat)", "en": "Severe stunting prevalence"},
        {
            "id": "Balita dengan z-score PB/U atau TB/U < −3 SD",
            "en": "Children under five with length/height-for-age z-score < −3 SD",
        },
        _HAZ_DEN,
    ),
    _prevalence(
        "wasting_prevalence",
        {"id": "Prevalensi wasting (gizi kurang dan gizi buruk)", "en": "Wasting prevalence"},
        {
            "id": "Balita dengan z-score BB/PB atau BB/TB < −2 SD, atau dengan edema",
            "en": "Children under five with weight-for-length/height z-score < −2 SD, "
            "or with oedema",
        },
        _WHZ_DEN,
    ),
    _prevalence(
        "severe_wasting_prevalence",
        {"id": "Prevalensi gizi buruk (wasting berat)", "en": "Severe wasting prevalence"},
        {
            "id": "Balita dengan z-score BB/PB atau BB/TB < −3 SD, atau dengan edema",
            "en": "Children under five with weight-for-length/height z-score < −3 SD, "
            "or with oedema",
        },
        _WHZ_DEN,
    ),
    _prevalence(
        "underweight_prevalence",
        {
            "id": "Prevalensi underweight (berat badan kurang dan sangat kurang)",
            "en": "Underweight prevalence",
        },
        {
            "id": "Balita dengan z-score BB/U < −2 SD",
            "en": "Children under five with weight-for-age z-score < −2 SD",
        },
        _WAZ_DEN,
    ),
    _prevalence(
        "overweight_prevalence",
        {
            "id": "Prevalensi gizi lebih (gizi lebih dan obesitas)",
            "en": "Overweight prevalence (overweight and obese)",
        },
        {
            "id": "Balita dengan z-score BB/PB atau BB/TB > 2 SD",
            "en": "Children under five with weight-for-length/height z-score > 2 SD",
        },
        _WHZ_DEN,
    ),
    IndicatorDefinition(
        code="children_measured",
        version=1,
        valid_from=_SINCE,
        name={"id": "Jumlah balita yang diukur", "en": "Children under five measured"},
        numerator={
            "id": "Balita berbeda yang memiliki sedikitnya satu pengukuran dalam periode, "
            "termasuk yang nilainya ditandai tidak wajar",
            "en": "Distinct children under five with at least one measurement in the period, "
            "including those whose values were flagged",
        },
        denominator=None,
        unit=Unit.COUNT,
        direction=Direction.NEUTRAL,
        read_models=_GROWTH,
    ),
    IndicatorDefinition(
        code="measurement_coverage",
        version=1,
        valid_from=_SINCE,
        name={
            "id": "Cakupan pengukuran balita (D/S)",
            "en": "Measurement coverage of registered under-fives",
        },
        numerator={
            "id": "Balita terdaftar yang diukur sedikitnya sekali dalam periode",
            "en": "Registered children under five measured at least once in the period",
        },
        denominator={
            "id": "Balita terdaftar di wilayah yang berumur 0–59 bulan pada sedikitnya satu "
            "hari dalam periode",
            "en": "Children registered in the region aged 0–59 months on at least one day "
            "of the period",
        },
        unit=Unit.PERCENT,
        direction=Direction.HIGHER_IS_BETTER,
        read_models=(ReadModel.CHILD_REGISTER, ReadModel.GROWTH_MEASUREMENT),
    ),
    IndicatorDefinition(
        code="krs_households",
        version=1,
        valid_from=_SINCE,
        name={"id": "Jumlah keluarga risiko stunting (KRS)", "en": "Families at risk of stunting"},
        numerator={
            "id": "Keluarga sasaran yang hasil verifikasi terakhirnya sampai akhir periode "
            "menyatakan KRS (sedikitnya satu faktor risiko menurut aturan yang berlaku)",
            "en": "Target families whose latest verification up to the end of the period "
            "found them at risk (at least one risk factor under the rule set in force)",
        },
        denominator=None,
        unit=Unit.COUNT,
        direction=Direction.LOWER_IS_BETTER,
        read_models=(ReadModel.FAMILY_RISK,),
    ),
    IndicatorDefinition(
        code="krs_share",
        version=1,
        valid_from=_SINCE,
        name={
            "id": "Persentase KRS di antara keluarga sasaran",
            "en": "Share of target families at risk of stunting",
        },
        numerator={
            "id": "Keluarga sasaran yang hasil verifikasi terakhirnya sampai akhir periode "
            "menyatakan KRS",
            "en": "Target families whose latest verification up to the end of the period "
            "found them at risk",
        },
        denominator={
            "id": "Keluarga sasaran (ada PUS, ibu hamil, anak 0–23 bulan atau 24–59 bulan) "
            "yang telah diverifikasi sampai akhir periode",
            "en": "Target families (with a PUS wife, a pregnant wife, a child 0–23 or 24–59 "
            "months) verified up to the end of the period",
        },
        unit=Unit.PERCENT,
        direction=Direction.LOWER_IS_BETTER,
        read_models=(ReadModel.FAMILY_RISK,),
    ),
    IndicatorDefinition(
        code="coverage",
        version=1,
        valid_from=_SINCE,
        name={"id": "Cakupan intervensi {parameter}", "en": "Coverage of {parameter}"},
        numerator={
            "id": "Sasaran intervensi {parameter} yang menerimanya dalam periode",
            "en": "Targets of {parameter} who received it in the period",
        },
        denominator={
            "id": "Sasaran yang memenuhi syarat intervensi {parameter} dalam periode",
            "en": "Targets eligible for {parameter} in the period",
        },
        unit=Unit.PERCENT,
        direction=Direction.HIGHER_IS_BETTER,
        read_models=(ReadModel.INTERVENTION_DELIVERY,),
        parameter_domain=INTERVENTION_PARAMETER,
    ),
    IndicatorDefinition(
        code="convergence",
        version=1,
        valid_from=_SINCE,
        name={"id": "Konvergensi layanan", "en": "Convergence of services"},
        numerator={
            "id": "Sasaran yang menerima setiap intervensi yang berlaku baginya dalam periode",
            "en": "Targets who received every intervention applicable to them in the period",
        },
        denominator={
            "id": "Sasaran yang berhak atas sedikitnya satu intervensi dalam periode",
            "en": "Targets eligible for at least one intervention in the period",
        },
        unit=Unit.PERCENT,
        direction=Direction.HIGHER_IS_BETTER,
        read_models=(ReadModel.INTERVENTION_DELIVERY,),
    ),
    IndicatorDefinition(
        code="referral_completion_rate",
        version=1,
        valid_from=_SINCE,
        name={"id": "Tingkat penyelesaian rujukan", "en": "Referral completion rate"},
        numerator={
            "id": "Rujukan yang dibuat dalam periode dan selesai sampai batas data",
            "en": "Referrals raised in the period and completed by the data cut-off",
        },
        denominator={
            "id": "Rujukan yang dibuat dalam periode, kecuali yang dibatalkan",
            "en": "Referrals raised in the period, except cancelled ones",
        },
        unit=Unit.PERCENT,
        direction=Direction.HIGHER_IS_BETTER,
        read_models=(ReadModel.REFERRAL,),
    ),
    IndicatorDefinition(
        code="referral_median_days",
        version=1,
        valid_from=_SINCE,
        name={
            "id": "Median lama penyelesaian rujukan",
            "en": "Median days to referral completion",
        },
        numerator={
            "id": "Median jumlah hari dari tanggal rujukan dibuat sampai selesai",
            "en": "Median number of days from the date a referral was raised to its completion",
        },
        denominator={
            "id": "Rujukan yang selesai dalam periode (dasar perhitungan median)",
            "en": "Referrals completed in the period (the set the median is taken over)",
        },
        unit=Unit.DAYS,
        direction=Direction.LOWER_IS_BETTER,
        read_models=(ReadModel.REFERRAL,),
    ),
    IndicatorDefinition(
        code="tpk_visit_coverage",
        version=1,
        valid_from=_SINCE,
        name={
            "id": "Cakupan pendampingan TPK: {parameter}",
            "en": "TPK visit coverage: {parameter}",
        },
        numerator={
            "id": "Sasaran kelompok {parameter} yang dikunjungi TPK sedikitnya sekali dalam "
            "periode",
            "en": "Targets in the group {parameter} visited by a TPK at least once in the period",
        },
        denominator={
            "id": "Sasaran kelompok {parameter} dalam periode",
            "en": "Targets in the group {parameter} in the period",
        },
        unit=Unit.PERCENT,
        direction=Direction.HIGHER_IS_BETTER,
        read_models=(ReadModel.TARGET_REGISTER, ReadModel.TPK_VISIT),
        parameter_domain=TPK_TARGET_GROUP_PARAMETER,
    ),
    IndicatorDefinition(
        code="kampung_kb_sites",
        version=1,
        valid_from=_SINCE,
        name={
            "id": "Kampung KB tingkat {parameter}",
            "en": "Kampung KB sites at level {parameter}",
        },
        numerator={
            "id": "Kampung KB yang tingkat kematangannya pada akhir periode adalah {parameter}",
            "en": "Kampung KB sites whose maturity level at the end of the period is {parameter}",
        },
        denominator=None,
        unit=Unit.COUNT,
        direction=Direction.NEUTRAL,
        read_models=(ReadModel.KAMPUNG_KB_SITE,),
        parameter_domain=KAMPUNG_KB_LEVEL_PARAMETER,
    ),
    IndicatorDefinition(
        code="lokus_villages",
        version=1,
        valid_from=_SINCE,
        name={"id": "Jumlah desa lokus stunting", "en": "Stunting-priority (lokus) villages"},
        numerator={
            "id": "Desa/kelurahan yang ditetapkan sebagai lokus stunting untuk tahun periode",
            "en": "Villages designated as stunting lokus for the period's year",
        },
        denominator=None,
        unit=Unit.COUNT,
        direction=Direction.NEUTRAL,
        read_models=(ReadModel.LOKUS_DESIGNATION,),
    ),
)


class IndicatorCatalogue:
    """Definitions by code and version; resolves ``code[:parameter]`` to one definition."""

    def __init__(self, definitions: Iterable[IndicatorDefinition]) -> None:
        by_code: dict[str, list[IndicatorDefinition]] = {}
        for definition in definitions:
            by_code.setdefault(definition.code, []).append(definition)
        for code, versions in by_code.items():
            versions.sort(key=lambda d: d.version)
            for earlier, later in zip(versions, versions[1:], strict=False):
                if earlier.version == later.version:
                    raise ValueError(f"{code}: version {later.version} defined twice")
                if earlier.valid_to is None or earlier.valid_to >= later.valid_from:
                    raise ValueError(f"{code}: v{earlier.version} overlaps v{later.version}")
        self._by_code = {code: tuple(versions) for code, versions in by_code.items()}

    def codes(self) -> list[str]:
        return sorted(self._by_code)

    def versions(self, code: str) -> tuple[IndicatorDefinition, ...]:
        return self._by_code[self._base(code)]

    def valid_on(self, day: date) -> list[IndicatorDefinition]:
        """The unbound definition of every indicator in force on ``day``."""
        return [
            definition
            for code in self.codes()
            for definition in self._by_code[code]
            if definition.is_valid_on(day)
        ]

    def resolve(
        self,
        code: str,
        *,
        on: date | None = None,
        version: int | None = None,
        parameter_label: Bilingual | None = None,
    ) -> IndicatorDefinition:
        """The definition for ``code`` (optionally ``base:parameter``).

        ``version`` picks one exactly; otherwise ``on`` picks the version in force that
        day; with neither, the newest version.
        """
        base, _, parameter = code.partition(":")
        versions = self.versions(base)
        if version is not None:
            chosen = next((d for d in versions if d.version == version), None)
            if chosen is None:
                raise ReportingError(
                    "indicator_version_unknown",
                    {
                        "id": f"Indikator {base} tidak memiliki versi {version}.",
                        "en": f"Indicator {base} has no version {version}.",
                    },
                )
        elif on is not None:
            chosen = next((d for d in versions if d.is_valid_on(on)), None)
            if chosen is None:
                raise ReportingError(
                    "indicator_not_valid_on",
                    {
                        "id": f"Indikator {base} tidak berlaku pada {on.isoformat()}.",
                        "en": f"Indicator {base} is not in force on {on.isoformat()}.",
                    },
                )
        else:
            chosen = versions[-1]
        if parameter:
            return chosen.bind(parameter, parameter_label)
        if chosen.parameter_domain is not None:
            raise ReportingError(
                "indicator_parameter_required",
                {
                    "id": f"Indikator {base} memerlukan parameter, misalnya {base}:…",
                    "en": f"Indicator {base} needs a parameter, e.g. {base}:…",
                },
            )
        return chosen

    def _base(self, code: str) -> str:
        base = code.partition(":")[0]
        if base not in self._by_code:
            raise ReportingError(
                "indicator_unknown",
                {
                    "id": f"Indikator '{base}' tidak dikenal.",
                    "en": f"Indicator '{base}' is not known.",
                },
            )
        return base


CATALOGUE = IndicatorCatalogue(DEFINITIONS)
