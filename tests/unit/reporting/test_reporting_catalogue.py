from dataclasses import replace
from datetime import date

import pytest

from common.errors import ProblemError
from services.reporting.indicators.catalogue import (
    CATALOGUE,
    DEFINITIONS,
    Direction,
    IndicatorCatalogue,
    IndicatorDefinition,
    ReportingError,
    Unit,
)

REQUIRED = {
    "stunting_prevalence",
    "severe_stunting_prevalence",
    "wasting_prevalence",
    "severe_wasting_prevalence",
    "underweight_prevalence",
    "overweight_prevalence",
    "children_measured",
    "measurement_coverage",
    "krs_households",
    "krs_share",
    "coverage",
    "convergence",
    "referral_completion_rate",
    "referral_median_days",
    "tpk_visit_coverage",
    "kampung_kb_sites",
    "lokus_villages",
}


def test_catalogue_holds_every_required_indicator() -> None:
    assert REQUIRED <= set(CATALOGUE.codes())


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: d.code)
def test_every_definition_is_written_down_in_both_languages(
    definition: IndicatorDefinition,
) -> None:
    for text in (definition.name, definition.numerator):
        assert text["id"].strip() and text["en"].strip()
    if definition.unit is Unit.PERCENT:
        assert definition.denominator is not None
    if definition.denominator is not None:
        assert definition.denominator["id"].strip() and definition.denominator["en"].strip()
    assert definition.read_models
    assert definition.version >= 1


def test_units_directions_and_decimals() -> None:
    stunting = CATALOGUE.resolve("stunting_prevalence")
    assert (stunting.unit, stunting.direction, stunting.decimals) == (
        Unit.PERCENT,
        Direction.LOWER_IS_BETTER,
        1,
    )
    assert CATALOGUE.resolve("referral_median_days").unit is Unit.DAYS
    assert CATALOGUE.resolve("krs_households").decimals == 0
    assert CATALOGUE.resolve("convergence").direction is Direction.HIGHER_IS_BETTER
    assert CATALOGUE.resolve("lokus_villages").direction is Direction.NEUTRAL


def test_prevalence_definitions_state_the_latest_valid_and_oedema_rules() -> None:
    wasting = CATALOGUE.resolve("wasting_prevalence")
    assert "edema" in wasting.denominator["id"]  # type: ignore[index]
    assert "oedema" in wasting.denominator["en"]  # type: ignore[index]
    stunting = CATALOGUE.resolve("stunting_prevalence")
    assert "latest" in stunting.denominator["en"]  # type: ignore[index]
    assert "flagged" in stunting.denominator["en"]  # type: ignore[index]


def test_coverage_is_bound_to_an_intervention_code() -> None:
    definition = CATALOGUE.resolve("coverage:S2")
    assert definition.code == "coverage:S2"
    assert definition.base_code == "coverage"
    assert definition.parameter == "S2"
    assert definition.key == "coverage:S2@v1"
    assert "S2" in definition.name["id"] and "S2" in definition.name["en"]
    assert "{parameter}" not in definition.numerator["en"]


def test_parameter_label_from_the_caller_is_shown_with_the_code() -> None:
    definition = CATALOGUE.resolve(
        "coverage:S2",
        parameter_label={"id": "TTD ibu hamil", "en": "iron tablets in pregnancy"},
    )
    assert definition.name["id"] == "Cakupan intervensi TTD ibu hamil (S2)"
    assert definition.name["en"] == "Coverage of iron tablets in pregnancy (S2)"


def test_closed_parameter_lists_use_their_own_labels() -> None:
    baduta = CATALOGUE.resolve("tpk_visit_coverage:baduta")
    assert baduta.name["id"] == "Cakupan pendampingan TPK: baduta (0–23 bulan)"
    mandiri = CATALOGUE.resolve("kampung_kb_sites:mandiri")
    assert mandiri.name["en"] == "Kampung KB sites at level Self-reliant"
    # The registry's level list can grow: an unlabelled level shows as its code.
    assert CATALOGUE.resolve("kampung_kb_sites:unggul").name["id"] == "Kampung KB tingkat unggul"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("coverage", "indicator_parameter_required"),
        ("tpk_visit_coverage", "indicator_parameter_required"),
        ("coverage:s2", "indicator_parameter_invalid"),
        ("coverage:DROP TABLE", "indicator_parameter_invalid"),
        ("tpk_visit_coverage:lansia", "indicator_parameter_invalid"),
        ("kampung_kb_sites:Mandiri", "indicator_parameter_invalid"),
        ("stunting_prevalence:S2", "indicator_parameter_unexpected"),
        ("stunting", "indicator_unknown"),
        ("", "indicator_unknown"),
    ],
)
def test_resolution_errors(code: str, error: str) -> None:
    with pytest.raises(ReportingError) as caught:
        CATALOGUE.resolve(code)
    assert caught.value.code == error
    assert isinstance(caught.value, ProblemError) and caught.value.status == 422
    assert caught.value.message("id") != caught.value.message("en")


def _two_versions() -> IndicatorCatalogue:
    v1 = replace(CATALOGUE.resolve("krs_share"), valid_to=date(2024, 12, 31))
    v2 = replace(
        v1,
        version=2,
        valid_from=date(2025, 1, 1),
        valid_to=None,
        numerator={"id": "KRS menurut aturan 2025", "en": "KRS under the 2025 rules"},
    )
    return IndicatorCatalogue([v2, v1])


def test_version_in_force_on_a_date_is_chosen() -> None:
    catalogue = _two_versions()
    assert catalogue.resolve("krs_share", on=date(2024, 12, 31)).version == 1
    assert catalogue.resolve("krs_share", on=date(2025, 1, 1)).version == 2
    assert catalogue.resolve("krs_share").version == 2
    assert catalogue.resolve("krs_share", version=1).key == "krs_share@v1"
    assert [d.version for d in catalogue.versions("krs_share")] == [1, 2]


def test_versions_outside_validity_or_unknown_are_refused() -> None:
    catalogue = _two_versions()
    with pytest.raises(ReportingError) as caught:
        catalogue.resolve("krs_share", on=date(2017, 12, 31))
    assert caught.value.code == "indicator_not_valid_on"
    with pytest.raises(ReportingError) as caught:
        catalogue.resolve("krs_share", version=3)
    assert caught.value.code == "indicator_version_unknown"


def test_overlapping_versions_are_a_catalogue_error() -> None:
    v1 = CATALOGUE.resolve("krs_share")  # open-ended validity
    v2 = replace(v1, version=2, valid_from=date(2025, 1, 1))
    with pytest.raises(ValueError, match="overlaps"):
        IndicatorCatalogue([v1, v2])
    with pytest.raises(ValueError, match="twice"):
        IndicatorCatalogue([v1, v1])


def test_valid_on_lists_unbound_definitions_in_force() -> None:
    codes = [d.code for d in CATALOGUE.valid_on(date(2026, 1, 1))]
    assert set(codes) == set(CATALOGUE.codes())
    assert CATALOGUE.valid_on(date(2017, 1, 1)) == []
