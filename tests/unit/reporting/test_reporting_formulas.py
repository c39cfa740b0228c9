"""Expected values are worked out by hand in the comments next to each case."""

from datetime import date
from fractions import Fraction

import pytest

from services.reporting.indicators.catalogue import Direction
from services.reporting.indicators.formulas import (
    Assessment,
    ChildMeasurement,
    Eligibility,
    Gap,
    IndicatorValue,
    KrsAssessment,
    LokusDesignation,
    Referral,
    SiteLevel,
    Trend,
    change,
    convergence,
    coverage,
    coverage_by_intervention,
    format_number,
    growth_prevalence,
    krs_summary,
    largest_gaps,
    lokus_villages,
    median_days_to_completion,
    ratio,
    referral_completion,
    round_half_up,
    sites_by_level,
)


def m(child: str, day: date, **fields: object) -> ChildMeasurement:
    return ChildMeasurement(child_id=child, measured_on=day, **fields)  # type: ignore[arg-type]


# --- rounding and ratios ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "value"),
    [
        (1, 3, 33.3),  # 33.333…
        (2, 3, 66.7),  # 66.666…
        (1, 8, 12.5),  # exact
        (1, 16, 6.3),  # 6.25: half goes up, not to the even 6.2
        (3, 16, 18.8),  # 18.75
        (0, 7, 0.0),
        (7, 7, 100.0),
    ],
)
def test_ratio_is_a_percentage_rounded_half_up(numerator: int, denominator: int, value: float):
    assert ratio(numerator, denominator) == IndicatorValue(value, numerator, denominator)


def test_ratio_without_denominator_has_no_value() -> None:
    assert ratio(0, 0) == IndicatorValue(None, 0, 0)


def test_ratio_refuses_a_numerator_above_the_denominator() -> None:
    with pytest.raises(ValueError):
        ratio(3, 2)


@pytest.mark.parametrize(
    ("value", "decimals", "rounded"),
    [
        (2.675, 2, 2.68),  # as written, although the binary float is 2.67499…
        (-2.25, 1, -2.3),  # half away from zero
        (Fraction(1, 8), 2, 0.13),
        (0.05, 1, 0.1),
        (12, 0, 12.0),
    ],
)
def test_round_half_up(value: float, decimals: int, rounded: float) -> None:
    assert round_half_up(value, decimals) == rounded


# --- growth ----------------------------------------------------------------------------


def test_child_measured_twice_counts_only_the_latest() -> None:
    rows = [
        m("A", date(2026, 1, 10), haz_class="stunted", waz_class="underweight", whz_class="wasted"),
        m("A", date(2026, 3, 5), haz_class="normal", waz_class="normal", whz_class="normal"),
    ]
    result = growth_prevalence(rows)
    assert result.stunting == IndicatorValue(0.0, 0, 1)
    assert result.underweight == IndicatorValue(0.0, 0, 1)
    assert result.wasting == IndicatorValue(0.0, 0, 1)
    assert result.children_measured.value == 1


def test_order_of_input_does_not_matter_and_same_day_entries_go_by_sequence() -> None:
    rows = [
        m("G", date(2026, 3, 10), haz_class="normal", sequence=2),
        m("G", date(2026, 3, 10), haz_class="stunted", sequence=1),
    ]
    assert growth_prevalence(rows).stunting == IndicatorValue(0.0, 0, 1)
    assert growth_prevalence(list(reversed(rows))).stunting == IndicatorValue(0.0, 0, 1)


def test_flagged_value_is_excluded() -> None:
    rows = [m("C", date(2026, 2, 15), haz_class="stunted", haz_flagged=True, whz_class="normal")]
    result = growth_prevalence(rows)
    assert result.stunting == IndicatorValue(None, 0, 0)
    assert result.wasting == IndicatorValue(0.0, 0, 1)  # the other index still counts
    assert result.children_measured.value == 1  # measured, even if the value is implausible


def test_flagged_latest_falls_back_to_the_previous_valid_value() -> None:
    rows = [
        m("F", date(2026, 1, 5), haz_class="stunted"),
        m("F", date(2026, 3, 20), haz_class="severely_stunted", haz_flagged=True),
    ]
    result = growth_prevalence(rows)
    assert result.stunting == IndicatorValue(100.0, 1, 1)
    assert result.severe_stunting == IndicatorValue(0.0, 0, 1)


def test_oedema_counts_as_severely_wasted_and_leaves_weight_for_age_out() -> None:
    # Classes a weight-based z-score would give are ignored: the weight holds water.
    rows = [
        m(
            "D",
            date(2026, 2, 20),
            oedema=True,
            haz_class="normal",
            whz_class="normal",
            waz_class="severely_underweight",
        )
    ]
    result = growth_prevalence(rows)
    assert result.severe_wasting == IndicatorValue(100.0, 1, 1)
    assert result.wasting == IndicatorValue(100.0, 1, 1)
    assert result.overweight == IndicatorValue(0.0, 0, 1)
    assert result.underweight == IndicatorValue(None, 0, 0)
    assert result.stunting == IndicatorValue(0.0, 0, 1)


def test_growth_prevalence_on_a_mixed_group() -> None:
    rows = [
        # A: latest (March) is normal on every index.
        m("A", date(2026, 1, 10), haz_class="stunted", waz_class="underweight", whz_class="wasted"),
        m("A", date(2026, 3, 5), haz_class="normal", waz_class="normal", whz_class="normal"),
        # B: severely stunted and severely underweight.
        m(
            "B",
            date(2026, 2, 1),
            haz_class="severely_stunted",
            waz_class="severely_underweight",
            whz_class="normal",
        ),
        # C: length flagged: out of the stunting denominator only.
        m(
            "C",
            date(2026, 2, 15),
            haz_class="stunted",
            haz_flagged=True,
            waz_class="normal",
            whz_class="normal",
        ),
        # D: oedema: severely wasted, no weight-for-age.
        m("D", date(2026, 2, 20), oedema=True, haz_class="normal"),
        # E: obese, tall.
        m(
            "E",
            date(2026, 3, 1),
            haz_class="tall",
            waz_class="risk_of_overweight",
            whz_class="obese",
        ),
        # F: March length and weight-for-length flagged: January's stunted and normal count;
        #    March's weight-for-age (underweight) is valid and counts.
        m("F", date(2026, 1, 5), haz_class="stunted", waz_class="normal", whz_class="normal"),
        m(
            "F",
            date(2026, 3, 20),
            haz_class="severely_stunted",
            haz_flagged=True,
            waz_class="underweight",
            whz_class="wasted",
            whz_flagged=True,
        ),
        # G: two entries the same day; the later one (normal) counts.
        m("G", date(2026, 3, 10), haz_class="stunted", waz_class="normal", whz_class="normal"),
        m(
            "G",
            date(2026, 3, 10),
            haz_class="normal",
            waz_class="normal",
            whz_class="normal",
            sequence=1,
        ),
    ]
    result = growth_prevalence(rows)
    assert result.children_measured == IndicatorValue(7, 7, None)
    # length-for-age: A B D E F G (C flagged) → stunted B, F; severe B.
    assert result.stunting == IndicatorValue(33.3, 2, 6)
    assert result.severe_stunting == IndicatorValue(16.7, 1, 6)
    # weight-for-length: A B C D E F G → wasted D (oedema); overweight E.
    assert result.wasting == IndicatorValue(14.3, 1, 7)
    assert result.severe_wasting == IndicatorValue(14.3, 1, 7)
    assert result.overweight == IndicatorValue(14.3, 1, 7)
    # weight-for-age: A B C E F G (D oedema) → B, F underweight.
    assert result.underweight == IndicatorValue(33.3, 2, 6)
    assert set(result.by_code()) == {
        "children_measured",
        "stunting_prevalence",
        "severe_stunting_prevalence",
        "wasting_prevalence",
        "severe_wasting_prevalence",
        "underweight_prevalence",
        "overweight_prevalence",
    }


def test_unknown_growth_class_is_refused() -> None:
    with pytest.raises(ValueError):
        m("X", date(2026, 1, 1), haz_class="pendek")


def test_no_measurements() -> None:
    result = growth_prevalence([])
    assert result.children_measured == IndicatorValue(0, 0, None)
    assert result.stunting.value is None


# --- coverage and convergence ----------------------------------------------------------


def test_coverage_counts_only_reached_targets() -> None:
    # targets a b c d; reached a c and x (x is no target) → 2 / 4.
    assert coverage(["a", "b", "c", "d"], {"a", "c", "x"}) == IndicatorValue(50.0, 2, 4)
    assert coverage([], {"a"}) == IndicatorValue(None, 0, 0)


ELIGIBILITY = [
    Eligibility("s1", "S2", True),
    Eligibility("s1", "S11", True),  # s1 got both: converged
    Eligibility("s2", "S2", True),
    Eligibility("s2", "S11", False),  # s2 missed S11
    Eligibility("s3", "S7", False),  # s3 missed its only one
    Eligibility("s4", "S7", False),
    Eligibility("s4", "S7", True),  # a second row that records the delivery: received
]


def test_convergence_is_the_share_with_the_full_package() -> None:
    assert convergence(ELIGIBILITY) == IndicatorValue(50.0, 2, 4)  # s1, s4 of 4
    assert convergence([]) == IndicatorValue(None, 0, 0)


def test_coverage_by_intervention_in_code_order() -> None:
    result = coverage_by_intervention(ELIGIBILITY)
    assert list(result) == ["S2", "S7", "S11"]
    assert result["S2"] == IndicatorValue(100.0, 2, 2)
    assert result["S7"] == IndicatorValue(50.0, 1, 2)
    assert result["S11"] == IndicatorValue(50.0, 1, 2)


# --- KRS, sites, lokus -----------------------------------------------------------------


def test_krs_from_each_familys_latest_assessment_up_to_the_date() -> None:
    rows = [
        KrsAssessment("f1", date(2025, 8, 1), is_target=True, is_krs=True),
        KrsAssessment("f1", date(2026, 2, 1), is_target=True, is_krs=False),  # no longer KRS
        KrsAssessment("f2", date(2026, 2, 10), is_target=True, is_krs=True),
        KrsAssessment("f3", date(2025, 8, 1), is_target=True, is_krs=False),
        KrsAssessment("f3", date(2026, 4, 5), is_target=True, is_krs=True),  # after the date
        KrsAssessment("f4", date(2026, 1, 1), is_target=False, is_krs=False),  # not a target
        KrsAssessment("f5", date(2026, 5, 1), is_target=True, is_krs=True),  # after the date
    ]
    result = krs_summary(rows, as_of=date(2026, 3, 31))
    assert result.krs_households == IndicatorValue(1, 1, None)  # f2
    assert result.krs_share == IndicatorValue(33.3, 1, 3)  # f2 of f1 f2 f3


def test_sites_by_level_on_a_date() -> None:
    history = [
        SiteLevel("A", date(2023, 1, 1), "dasar"),
        SiteLevel("A", date(2025, 6, 1), "berkembang"),
        SiteLevel("B", date(2024, 3, 1), "dasar"),
        SiteLevel("C", date(2026, 7, 1), "dasar"),  # established after the date
        SiteLevel("D", date(2024, 5, 1), "mandiri"),
        SiteLevel("D", date(2022, 1, 1), "dasar"),
        SiteLevel("D", date(2026, 12, 1), "berkelanjutan"),  # after the date
    ]
    result = sites_by_level(history, as_of=date(2026, 6, 30))
    assert {level: v.value for level, v in result.items()} == {
        "dasar": 1,
        "berkembang": 1,
        "mandiri": 1,
        "berkelanjutan": 0,
    }
    assert list(result) == ["dasar", "berkembang", "mandiri", "berkelanjutan"]


def test_sites_with_a_former_grading_are_counted_after_the_current_levels() -> None:
    history = [
        SiteLevel("E", date(2021, 1, 1), "paripurna"),
        SiteLevel("F", date(2021, 1, 1), "lengkap"),
        SiteLevel("F", date(2024, 1, 1), "mandiri"),  # regraded under the 2023 rules
        SiteLevel("G", date(2022, 1, 1), "lengkap"),
    ]
    result = sites_by_level(history, as_of=date(2026, 1, 1))
    assert {level: v.value for level, v in result.items()} == {
        "dasar": 0,
        "berkembang": 0,
        "mandiri": 1,
        "berkelanjutan": 0,
        "lengkap": 1,
        "paripurna": 1,
    }
    assert list(result)[4:] == ["lengkap", "paripurna"]


def test_lokus_villages_of_a_year() -> None:
    rows = [
        LokusDesignation("61.04.16.2007", 2025),
        LokusDesignation("61.04.16.2007", 2026),
        LokusDesignation("61.04.16.2001", 2026),
        LokusDesignation("61.04.16.2001", 2026),  # recorded twice
        LokusDesignation("61.04.10.2001", 2024),
    ]
    assert lokus_villages(rows, 2026).value == 2
    assert lokus_villages(rows, 2025).value == 1
    assert lokus_villages(rows, 2023).value == 0


# --- referrals -------------------------------------------------------------------------

Q1 = (date(2026, 1, 1), date(2026, 3, 31))
REFERRALS = [
    Referral("r1", date(2026, 1, 5), date(2026, 1, 15)),  # 10 days
    Referral("r2", date(2026, 2, 1), date(2026, 4, 10)),  # done in April, before the cut-off
    Referral("r3", date(2026, 3, 1), date(2026, 4, 20)),  # done after the cut-off
    Referral("r4", date(2026, 3, 10), cancelled=True),
    Referral("r5", date(2025, 12, 20), date(2026, 1, 9)),  # raised before Q1, 20 days
    Referral("r6", date(2026, 2, 10)),  # open
    Referral("r7", date(2026, 3, 1), date(2026, 3, 4)),  # 3 days
]


def test_referral_completion_rate_is_a_cohort_of_the_period() -> None:
    # raised in Q1, not cancelled: r1 r2 r3 r6 r7; completed by 15 April: r1 r2 r7.
    result = referral_completion(REFERRALS, *Q1, as_of=date(2026, 4, 15))
    assert result == IndicatorValue(60.0, 3, 5)


def test_median_days_over_referrals_completed_in_the_period() -> None:
    # completed in Q1: r1 (10), r5 (20), r7 (3) → median 10.
    assert median_days_to_completion(REFERRALS, *Q1) == IndicatorValue(10.0, None, 3)
    # one more (5 days): 3 5 10 20 → (5 + 10) / 2.
    more = [*REFERRALS, Referral("r8", date(2026, 3, 15), date(2026, 3, 20))]
    assert median_days_to_completion(more, *Q1) == IndicatorValue(7.5, None, 4)
    assert median_days_to_completion([], *Q1) == IndicatorValue(None, None, 0)


def test_referral_completed_before_it_was_raised_is_refused() -> None:
    with pytest.raises(ValueError):
        Referral("bad", date(2026, 3, 10), date(2026, 3, 1))


# --- change, gaps, formatting ----------------------------------------------------------


def test_change_for_a_lower_is_better_indicator() -> None:
    moved = change(21.4, 24.1, direction=Direction.LOWER_IS_BETTER, decimals=1)
    assert moved is not None
    assert moved.absolute == -2.7  # exactly, although 21.4 - 24.1 in floats is -2.7000…03
    assert moved.relative == -11.2  # -2.7 / 24.1 = -11.20…%
    assert (moved.trend, moved.assessment) == (Trend.DOWN, Assessment.BETTER)


def test_change_for_a_higher_is_better_indicator() -> None:
    up = change(48.5, 41.0, direction=Direction.HIGHER_IS_BETTER, decimals=1)
    assert up is not None
    assert (up.absolute, up.relative) == (7.5, 18.3)  # 7.5 / 41 = 18.29…%
    assert (up.trend, up.assessment) == (Trend.UP, Assessment.BETTER)
    down = change(80.0, 82.0, direction=Direction.HIGHER_IS_BETTER, decimals=1)
    assert down is not None and down.assessment is Assessment.WORSE


def test_change_flat_neutral_and_missing() -> None:
    flat = change(20.0, 20.0, direction=Direction.LOWER_IS_BETTER, decimals=1)
    assert flat is not None and (flat.trend, flat.assessment) == (Trend.FLAT, Assessment.UNCHANGED)
    neutral = change(12, 10, direction=Direction.NEUTRAL, decimals=0)
    assert neutral is not None and (neutral.absolute, neutral.assessment) == (
        2,
        Assessment.NOT_RATED,
    )
    from_zero = change(5.0, 0.0, direction=Direction.LOWER_IS_BETTER, decimals=1)
    assert from_zero is not None and from_zero.relative is None
    assert change(None, 20.0, direction=Direction.LOWER_IS_BETTER, decimals=1) is None
    assert change(20.0, None, direction=Direction.LOWER_IS_BETTER, decimals=1) is None


def test_largest_gaps_to_a_target() -> None:
    values = {"a": 35.0, "b": 55.0, "c": 80.0, "d": 95.0, "e": None, "f": 55.0}
    # shortfalls to 90: a 55, b 35, f 35, c 10; d is above, e has no value.
    gaps = largest_gaps(values, 90.0, direction=Direction.HIGHER_IS_BETTER, decimals=1)
    assert gaps == [Gap("a", 35.0, 55.0), Gap("b", 55.0, 35.0), Gap("f", 55.0, 35.0)]
    stunting = {"a": 30.0, "b": 10.0, "c": 20.0}
    # above 14 is worse: a by 16, c by 6; b meets it.
    gaps = largest_gaps(stunting, 14.0, direction=Direction.LOWER_IS_BETTER, decimals=1)
    assert gaps == [Gap("a", 30.0, 16.0), Gap("c", 20.0, 6.0)]
    with pytest.raises(ValueError):
        largest_gaps(values, 1.0, direction=Direction.NEUTRAL, decimals=0)


@pytest.mark.parametrize(
    ("value", "decimals", "lang", "text"),
    [
        (1234.5, 1, "id", "1.234,5"),
        (1234.5, 1, "en", "1,234.5"),
        (21.45, 1, "id", "21,5"),
        (1234567, 0, "id", "1.234.567"),
        (None, 1, "id", "–"),
    ],
)
def test_format_number(value: float | None, decimals: int, lang: str, text: str) -> None:
    assert format_number(value, decimals, lang) == text  # type: ignore[arg-type]
