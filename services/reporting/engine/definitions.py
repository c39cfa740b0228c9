"""Which indicator definitions a request means: the codes it names, resolved to the
version in force in the period, or the full set a publication or scorecard freezes."""

from collections.abc import Sequence

from services.reporting.engine.targets import (
    TARGETS,
    TPK_HOUSEHOLD_GROUP,
    TPK_PERSON_GROUPS,
    intervention_order,
)
from services.reporting.indicators.catalogue import (
    CATALOGUE,
    KAMPUNG_KB_LEVELS,
    IndicatorDefinition,
    ReportingError,
)
from services.reporting.periods import Period

MAX_INDICATORS = 60


def resolve(codes: Sequence[str], period: Period) -> list[IndicatorDefinition]:
    """The definitions for ``codes`` in force at the end of ``period``, each once."""
    if not codes:
        raise ReportingError(
            "indicator_required",
            {
                "id": "Sebutkan sedikitnya satu indikator, misalnya indicator=stunting_prevalence.",
                "en": "Name at least one indicator, e.g. indicator=stunting_prevalence.",
            },
        )
    unique = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    if len(unique) > MAX_INDICATORS:
        raise ReportingError(
            "too_many_indicators",
            {
                "id": f"Paling banyak {MAX_INDICATORS} indikator per permintaan.",
                "en": f"At most {MAX_INDICATORS} indicators per request.",
            },
        )
    return [CATALOGUE.resolve(code, on=period.end_date) for code in unique]


def all_codes() -> list[str]:
    """Every indicator with every parameter reporting knows, in catalogue order."""
    codes: list[str] = []
    for base in CATALOGUE.codes():
        definition = CATALOGUE.versions(base)[-1]
        domain = definition.parameter_domain
        if domain is None:
            codes.append(base)
        elif base == "coverage":
            codes += [f"coverage:{c}" for c in sorted(TARGETS, key=intervention_order)]
        elif base == "tpk_visit_coverage":
            codes += [f"{base}:{g}" for g in (*TPK_PERSON_GROUPS, TPK_HOUSEHOLD_GROUP)]
        elif base == "kampung_kb_sites":
            codes += [f"{base}:{level}" for level in KAMPUNG_KB_LEVELS]
    return codes


def full_set(period: Period) -> list[IndicatorDefinition]:
    return [CATALOGUE.resolve(code, on=period.end_date) for code in all_codes()]
