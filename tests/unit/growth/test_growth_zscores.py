"""Single-row rules; expectations from WHO table rows and the formulas, by hand."""

import pytest
from growth_expect import lms_z, restricted_z, sd_value, who_lms

from services.registry.growth.age import age_days_from_months
from services.registry.growth.models import GrowthResult, MeasurementInput
from services.registry.growth.zscores import compute_zscores

approx = pytest.approx


def run(**kwargs: object) -> GrowthResult:
    return compute_zscores(MeasurementInput(**kwargs))  # type: ignore[arg-type]


def codes(issues: tuple) -> list[str]:
    return [i.code for i in issues]


# --- age boundaries ---------------------------------------------------------------


def test_day_0_uses_the_first_rows() -> None:
    r = run(sex=1, age_days=0, height_cm=46.0, weight_kg=3.0, head_cm=33.0)
    assert r.zlen == approx(lms_z(46.0, who_lms("lenanthro", 1, "0")), abs=1e-12)
    assert r.zwei == approx(restricted_z(3.0, who_lms("weianthro", 1, "0")), abs=1e-12)
    assert r.zhc == approx(lms_z(33.0, who_lms("hcanthro", 1, "0")), abs=1e-12)
    assert r.zwfl == approx(restricted_z(3.0, who_lms("wflanthro", 1, "46")), abs=1e-12)


def test_day_730_is_length_and_731_is_height() -> None:
    lying = run(sex=2, age_days=730, height_cm=85.0, weight_kg=11.0, measure="l")
    assert lying.zlen == approx(lms_z(85.0, who_lms("lenanthro", 2, "730")), abs=1e-12)
    assert lying.wfl_table == "wfl"
    assert lying.zwfl == approx(restricted_z(11.0, who_lms("wflanthro", 2, "85")), abs=1e-12)
    standing = run(sex=2, age_days=731, height_cm=85.0, weight_kg=11.0, measure="h")
    assert standing.zlen == approx(lms_z(85.0, who_lms("lenanthro", 2, "731")), abs=1e-12)
    assert standing.wfl_table == "wfh"
    assert standing.zwfl == approx(restricted_z(11.0, who_lms("wfhanthro", 2, "85")), abs=1e-12)
    assert (lying.measure_used, standing.measure_used) == ("l", "h")


def test_24_months_exactly_is_day_731() -> None:
    r = run(sex=2, age_days=age_days_from_months(24), height_cm=77.5)
    assert r.age_day == 731
    assert r.zlen == approx(lms_z(77.5, who_lms("lenanthro", 2, "731")), abs=1e-12)


@pytest.mark.parametrize("day", [1825, 1826])
def test_last_days_are_scored(day: int) -> None:
    r = run(sex=1, age_days=day, height_cm=110.0, weight_kg=18.0, muac_cm=16.5)
    assert r.ok
    assert r.zlen == approx(lms_z(110.0, who_lms("lenanthro", 1, str(day))), abs=1e-12)
    assert r.zwei == approx(restricted_z(18.0, who_lms("weianthro", 1, str(day))), abs=1e-12)
    assert r.zac == approx(restricted_z(16.5, who_lms("acanthro", 1, str(day))), abs=1e-12)


@pytest.mark.parametrize("age", [1827, 1826.25, 2000, age_days_from_months(60)])
def test_60_months_and_older_is_an_error(age: float) -> None:
    r = run(sex=1, age_days=age, height_cm=110.0, weight_kg=18.0)
    assert codes(r.errors) == ["age_60_months_or_more"]
    assert r.zlen is None and r.zwei is None and r.flen is None


def test_59_99_months_is_scored_on_day_1826() -> None:
    r = run(sex=1, age_days=age_days_from_months(59.99), weight_kg=18.0)
    assert r.ok and r.age_day == 1826
    assert r.zwei == approx(restricted_z(18.0, who_lms("weianthro", 1, "1826")), abs=1e-12)


# --- position -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "measure", "used"),
    [
        (730, "h", 85.7),  # standing under 731 d: +0.7
        (730, "l", 85.0),
        (730, None, 85.0),  # missing position: lying assumed, no change
        (731, "l", 84.3),  # lying from 731 d: -0.7
        (731, "h", 85.0),
        (731, None, 85.0),
    ],
)
def test_position_adjustment(day: int, measure: str | None, used: float) -> None:
    r = run(sex=1, age_days=day, height_cm=85.0, measure=measure)
    assert r.height_used_cm == used
    assert r.zlen == approx(lms_z(used, who_lms("lenanthro", 1, str(day))), abs=1e-12)


def test_standing_under_9_months_is_treated_as_lying_and_flagged() -> None:
    r = run(sex=1, age_days=273, height_cm=65.0, measure="h")  # 8.97 months
    assert r.height_used_cm == 65.0
    assert r.position_implausible
    assert codes(r.warnings) == ["standing_under_9_months"]
    nine = run(sex=1, age_days=274, height_cm=65.0, measure="h")  # 9.00 months
    assert nine.height_used_cm == 65.7
    assert not nine.position_implausible and nine.warnings == ()


# --- weight-for-length / height range and interpolation -------------------------------


@pytest.mark.parametrize(
    ("day", "height", "measure", "row", "table"),
    [
        (300, 45.0, "l", "45", "wflanthro"),
        (300, 110.0, "l", "110", "wflanthro"),
        (300, 44.3, "h", "45", "wflanthro"),  # 44.3 standing + 0.7 = 45.0
        (800, 65.0, "h", "65", "wfhanthro"),
        (800, 120.0, "h", "120", "wfhanthro"),
        (800, 65.7, "l", "65", "wfhanthro"),  # 65.7 lying - 0.7 = 65.0
    ],
)
def test_weight_for_length_height_limits_are_inclusive(
    day: int, height: float, measure: str, row: str, table: str
) -> None:
    r = run(sex=1, age_days=day, height_cm=height, weight_kg=9.0, measure=measure)
    assert r.zwfl == approx(restricted_z(9.0, who_lms(table, 1, row)), abs=1e-12)


@pytest.mark.parametrize(
    ("day", "height", "warning"),
    [
        (300, 44.9, "wfl_out_of_table"),
        (300, 110.1, "wfl_out_of_table"),
        (800, 64.9, "wfh_out_of_table"),
        (800, 120.1, "wfh_out_of_table"),
        (800, 65.6, "wfh_out_of_table"),  # lying 65.6 - 0.7 = 64.9
    ],
)
def test_just_outside_the_table_gives_no_zwfl(day: int, height: float, warning: str) -> None:
    measure = "l" if day < 731 or height == 65.6 else "h"
    r = run(sex=1, age_days=day, height_cm=height, weight_kg=9.0, measure=measure)
    assert r.ok
    assert r.zwfl is None and r.fwfl is None and r.class_wfl is None and r.wfl_table is None
    assert codes(r.warnings) == [warning]
    assert r.zlen is not None  # the other indicators are still scored


@pytest.mark.parametrize(("height", "frac"), [(70.35, 0.5), (70.37, 0.7), (70.31, 0.1)])
def test_interpolates_between_rows(height: float, frac: float) -> None:
    low, high = who_lms("wflanthro", 1, "70.3"), who_lms("wflanthro", 1, "70.4")
    lms = tuple(a + frac * (b - a) for a, b in zip(low, high, strict=True))
    r = run(sex=1, age_days=300, height_cm=height, weight_kg=8.6, measure="l")
    assert r.zwfl == approx(restricted_z(8.6, lms), abs=1e-9)  # type: ignore[arg-type]
    # and it differs from both neighbours' plain values
    assert r.zwfl != approx(restricted_z(8.6, low), abs=1e-6)


# --- restricted computation beyond ±3 SD ----------------------------------------------


@pytest.mark.parametrize(
    ("field", "table", "day", "extra"),
    [
        ("weight_kg", "weianthro", "400", {}),
        ("muac_cm", "acanthro", "400", {}),
    ],
)
def test_restricted_beyond_3_for_age_indicators(
    field: str, table: str, day: str, extra: dict
) -> None:
    lms = who_lms(table, 2, day)
    sd2, sd3 = sd_value(2, lms), sd_value(3, lms)
    sd2n, sd3n = sd_value(-2, lms), sd_value(-3, lms)
    attr = "zwei" if field == "weight_kg" else "zac"
    at3 = getattr(run(sex=2, age_days=int(day), **{field: sd3}), attr)
    assert at3 == approx(3.0, abs=1e-9)
    at_minus3 = getattr(run(sex=2, age_days=int(day), **{field: sd3n}), attr)
    assert at_minus3 == approx(-3.0, abs=1e-9)
    above = sd3 + 0.5 * (sd3 - sd2)
    z_above = getattr(run(sex=2, age_days=int(day), **{field: above}), attr)
    assert z_above == approx(3.5, abs=1e-9)
    assert lms_z(above, lms) != approx(3.5, abs=1e-3)  # plain LMS would differ
    below = sd3n - 0.5 * (sd2n - sd3n)
    z_below = getattr(run(sex=2, age_days=int(day), **{field: below}), attr)
    assert z_below == approx(-3.5, abs=1e-9)
    assert lms_z(below, lms) != approx(-3.5, abs=1e-3)


def test_restricted_beyond_3_for_weight_for_length() -> None:
    lms = who_lms("wflanthro", 1, "75")
    sd2, sd3 = sd_value(2, lms), sd_value(3, lms)
    y = sd3 + 1.25 * (sd3 - sd2)
    r = run(sex=1, age_days=400, height_cm=75.0, weight_kg=y, measure="l")
    assert r.zwfl == approx(4.25, abs=1e-9)
    assert r.class_wfl is not None and r.class_wfl.code == "obese"


def test_bmi_uses_adjusted_height_and_is_restricted() -> None:
    r = run(sex=1, age_days=800, height_cm=90.0, weight_kg=13.0, measure="l")
    bmi = 13.0 / (0.893 * 0.893)
    assert r.bmi == approx(bmi, rel=1e-12)
    assert r.zbmi == approx(restricted_z(bmi, who_lms("bmianthro", 1, "800")), abs=1e-9)
    heavy = run(sex=1, age_days=800, height_cm=90.0, weight_kg=25.0, measure="l")
    heavy_bmi = 25.0 / (0.893 * 0.893)
    expected = restricted_z(heavy_bmi, who_lms("bmianthro", 1, "800"))
    assert expected > 3
    assert heavy.zbmi == approx(expected, abs=1e-9)


def test_length_and_head_use_plain_lms_beyond_3() -> None:
    lms = who_lms("lenanthro", 1, "500")
    tall = sd_value(4, lms)
    # lengths are kept to 1e-6 cm, so a synthetic length lands within 1e-5 SD
    assert run(sex=1, age_days=500, height_cm=tall, measure="l").zlen == approx(4.0, abs=1e-5)
    hc = who_lms("hcanthro", 2, "500")
    small = sd_value(-4, hc)
    assert run(sex=2, age_days=500, head_cm=small).zhc == approx(-4.0, abs=1e-9)


# --- arm circumference age range, oedema ------------------------------------------------


def test_arm_circumference_starts_at_day_91() -> None:
    early = run(sex=1, age_days=90, muac_cm=12.0)
    assert early.ok and early.zac is None and early.fac is None
    assert codes(early.warnings) == ["muac_under_3_months"]
    first = run(sex=1, age_days=91, muac_cm=12.0)
    assert first.zac == approx(restricted_z(12.0, who_lms("acanthro", 1, "91")), abs=1e-12)


def test_oedema_suppresses_weight_based_scores_and_counts_as_severe() -> None:
    r = run(
        sex=2, age_days=400, weight_kg=9.0, height_cm=75.0, measure="l", oedema=True, head_cm=45
    )
    assert r.zwei is None and r.zwfl is None and r.zbmi is None
    assert r.fwei is None and r.fwfl is None and r.fbmi is None
    assert r.zlen == approx(lms_z(75.0, who_lms("lenanthro", 2, "400")), abs=1e-12)
    assert r.zhc is not None
    assert r.class_wfl is not None and r.class_wfl.code == "severely_wasted"
    assert r.class_wfl.by_oedema
    assert r.class_wei is not None and r.class_wei.code == "severely_underweight"
    assert r.class_bmi is not None and r.class_bmi.code == "severely_wasted"
    assert "oedema_weight_not_scored" in codes(r.warnings)


# --- flags ------------------------------------------------------------------------------


def test_flags_follow_who_limits_on_the_displayed_value() -> None:
    lms = who_lms("lenanthro", 1, "600")
    not_flagged = run(sex=1, age_days=600, height_cm=sd_value(6.004, lms), measure="l")
    assert not_flagged.flen is False and not_flagged.class_len is not None
    flagged = run(sex=1, age_days=600, height_cm=sd_value(6.006, lms), measure="l")
    assert flagged.flen is True and flagged.class_len is None
    low = run(sex=1, age_days=600, height_cm=sd_value(-6.006, lms), measure="l")
    assert low.flen is True


def _restricted_value(z: float, lms: tuple[float, float, float]) -> float:
    if z > 3:
        sd3, sd2 = sd_value(3, lms), sd_value(2, lms)
        return sd3 + (z - 3) * (sd3 - sd2)
    sd3, sd2 = sd_value(-3, lms), sd_value(-2, lms)
    return sd3 + (z + 3) * (sd2 - sd3)


@pytest.mark.parametrize(
    ("z", "flagged"), [(5.004, False), (5.006, True), (-5.996, False), (-6.006, True)]
)
def test_weight_for_age_flag_is_minus_6_to_5(z: float, flagged: bool) -> None:
    y = _restricted_value(z, who_lms("weianthro", 2, "1"))
    r = run(sex=2, age_days=1, weight_kg=y)
    assert r.zwei == approx(z, abs=1e-9)
    assert r.fwei is flagged
    assert (r.class_wei is None) is flagged


@pytest.mark.parametrize(("z", "flagged"), [(4.996, False), (5.006, True), (-5.006, True)])
def test_weight_for_length_flag_is_5(z: float, flagged: bool) -> None:
    y = _restricted_value(z, who_lms("wflanthro", 1, "80"))
    r = run(sex=1, age_days=500, height_cm=80.0, weight_kg=y, measure="l")
    assert r.fwfl is flagged


def test_head_and_arm_flags_are_5() -> None:
    hc = who_lms("hcanthro", 1, "200")
    assert run(sex=1, age_days=200, head_cm=sd_value(5.006, hc)).fhc is True
    assert run(sex=1, age_days=200, head_cm=sd_value(4.9, hc)).fhc is False
    ac = who_lms("acanthro", 1, "200")
    assert run(sex=1, age_days=200, muac_cm=_restricted_value(-5.006, ac)).fac is True


# --- classification as part of the result ------------------------------------------------


def test_child_2_3_sd_below_median_length_is_stunted() -> None:
    lms = who_lms("lenanthro", 1, "900")
    r = run(sex=1, age_days=900, height_cm=sd_value(-2.3, lms), measure="h")
    assert r.zlen == approx(-2.3, abs=1e-5)
    assert r.class_len is not None
    assert r.class_len.code == "stunted"
    assert r.class_len.label == {"en": "Stunted", "id": "Pendek"}
